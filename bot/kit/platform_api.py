"""What the DingTalk and WeCom API clients share: the app's access token, cached until shortly
before it expires, and posts to group-robot webhooks that may only go to the platform's own hosts."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from bot.kit.http_json import DEFAULT_TIMEOUT, HttpAnswer, request_json
from bot.kit.http_pool import HttpPool

#: A token is dropped this long before the platform says it expires (clocks drift, requests take time).
EXPIRY_MARGIN = 300.0


class TokenCache:
    """Thread-safe: `get(fetch)` answers the cached token, or calls fetch() -> (token, seconds valid)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self._monotonic = monotonic
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def get(self, fetch: Callable[[], tuple[str, float]]) -> str:
        with self._lock:
            if self._token and self._monotonic() < self._token[1]:
                return self._token[0]
        token, expires_in = fetch()
        with self._lock:
            self._token = (token, self._monotonic() + max(60.0, expires_in - EXPIRY_MARGIN))
        return token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None


class Webhooks:
    """Posts to webhook URLs on the platform's own hosts (https), or on the API_URL override's host
    (tests, proxies): a webhook typed by a user must never make the bot call an arbitrary server."""

    def __init__(self, hosts: frozenset[str], api_url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                 http: HttpPool | None = None):
        self.override_host = urlsplit(api_url).hostname if api_url else None
        self.hosts = hosts | ({self.override_host} if self.override_host else set())
        self.timeout = timeout
        self.http = http

    def allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        host = parts.hostname or ""
        if host == self.override_host and parts.scheme in ("http", "https"):
            return True
        return parts.scheme == "https" and host in self.hosts

    def post(self, url: str, message: dict) -> HttpAnswer:
        """POST a message to a webhook; ValueError for a host that is not allowed."""
        if not self.allowed(url):
            raise ValueError(f"webhook host not allowed: {urlsplit(url).hostname!r}")
        return request_json("POST", url, message, timeout=self.timeout, http=self.http)
