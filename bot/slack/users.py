"""Who a Slack user is (locale, time zone, name), from `users.info`, cached.

The lookup happens while Slack waits for our acknowledgement (3 s), so it is bounded: a lookup
that takes longer than `timeout` seconds answers with an empty profile (the core then uses the
team's or the default language) and keeps running in the background; when it lands, its answer
is cached for the next command. Errors are logged and never fail a command.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from slack_sdk import WebClient

log = logging.getLogger("teambot.slack.users")


@dataclass(frozen=True)
class Profile:
    locale: str | None = None  # "zh-CN", "en-US"
    tz: str | None = None  # IANA name, "Asia/Shanghai"
    real_name: str = ""
    display_name: str = ""

    @property
    def name(self) -> str:
        return self.display_name or self.real_name

    @property
    def empty(self) -> bool:
        return self == EMPTY


EMPTY = Profile()


def profile_from_user(user: dict) -> Profile:
    """A `users.info` `user` object -> Profile."""
    prof = user.get("profile") or {}
    tz = user.get("tz")
    return Profile(
        locale=user.get("locale") or None,
        tz=tz if isinstance(tz, str) and tz else None,
        real_name=str(user.get("real_name") or prof.get("real_name") or ""),
        display_name=str(prof.get("display_name") or ""),
    )


class UserDirectory:
    """Thread-safe TTL cache in front of `users.info`.

    * a hit younger than `ttl` seconds is answered from memory;
    * concurrent misses for one user share one request (single flight);
    * a failed lookup is remembered for `error_ttl` seconds so an unreachable API is not
      asked once per command;
    * `get()` never waits more than `timeout` seconds and never raises.
    """

    def __init__(self, client: WebClient, *, ttl: float = 3600, timeout: float = 1.0,
                 error_ttl: float = 60.0, monotonic: Callable[[], float] = time.monotonic,
                 max_workers: int = 4):
        self._client = client
        self._ttl = ttl
        self._timeout = timeout
        self._error_ttl = min(error_ttl, ttl)
        self._now = monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Profile]] = {}
        self._inflight: dict[str, Future[Profile]] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="users-info")

    @classmethod
    def from_settings(cls, settings, **kw) -> UserDirectory:
        s = settings.slack
        timeout = s.users_info_timeout
        client = WebClient(
            token=s.bot_token,
            base_url=s.api_url or WebClient.BASE_URL,
            # The socket may wait a little longer than get() does, so a slow answer still
            # lands in the cache for the next command; no retries while the user waits.
            timeout=max(timeout * 3, 3.0),
            retry_handlers=[],
        )
        return cls(client, ttl=s.user_cache_seconds, timeout=timeout, **kw)

    def get(self, user_id: str | None, *, token: str | None = None) -> Profile:
        """`token`: the workspace's bot token when it is not the directory's own (several
        workspaces, Slack OAuth)."""
        if not user_id:
            return EMPTY
        try:
            now = self._now()
            with self._lock:
                hit = self._cache.get(user_id)
                if hit is not None and hit[0] > now:
                    return hit[1]
                fut = self._inflight.get(user_id)
                if fut is None:
                    fut = self._pool.submit(self._fetch, user_id, token)
                    self._inflight[user_id] = fut
            return fut.result(timeout=self._timeout)
        except FutureTimeout:
            log.warning("users.info for %s took over %.1fs; answering without locale/tz", user_id,
                        self._timeout)
            return EMPTY
        except Exception:  # a profile is a nicety, never a reason to fail
            log.exception("users.info for %s failed", user_id)
            return EMPTY

    def cached(self, user_id: str | None) -> bool:
        """True when get() would answer from memory, without calling Slack."""
        if not user_id:
            return True
        with self._lock:
            hit = self._cache.get(user_id)
            return hit is not None and hit[0] > self._now()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _fetch(self, user_id: str, token: str | None = None) -> Profile:
        ttl = self._ttl
        try:
            extra = {"token": token} if token and token != self._client.token else {}
            resp = self._client.users_info(user=user_id, include_locale=True, **extra)
            profile = profile_from_user(resp.get("user") or {})
        except Exception as e:  # noqa: BLE001 - logged; the command goes on
            log.warning("users.info for %s failed: %s: %s", user_id, type(e).__name__,
                        str(e).split("\n")[0][:200])
            profile, ttl = EMPTY, self._error_ttl
        with self._lock:
            self._inflight.pop(user_id, None)
            if ttl > 0:
                self._cache[user_id] = (self._now() + ttl, profile)
        return profile
