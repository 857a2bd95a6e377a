"""Blocking JSON over HTTP for the DingTalk and WeCom APIs (keep-alive connections from
bot/kit/http_pool.py; call from worker threads).

An HTTP error status is an answer, not an exception; no answer at all is NetworkError. Redirects are
never followed: a webhook URL must not lead the bot somewhere else."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from bot.kit.http_pool import HttpPool, MaybeSent, NotSent

DEFAULT_TIMEOUT = 10.0
MAX_ANSWER = 1_000_000


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    data: dict | None
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default=None):
        return (self.data or {}).get(key, default)

    @property
    def errcode(self) -> int | None:
        """The platform's `errcode` (0 = ok), None when the body has none that reads as a number."""
        if self.data is None:
            return None
        try:
            return int(self.data.get("errcode", 0))
        except (TypeError, ValueError):
            return None

    @property
    def errmsg(self) -> str:
        return str((self.data or {}).get("errmsg") or "")


class NetworkError(Exception):
    """No HTTP answer at all: DNS, refused connection, timeout, TLS, a connection lost mid-way."""


def request_json(method: str, url: str, body: dict | None = None, *, headers: dict | None = None,
                 timeout: float = DEFAULT_TIMEOUT, http: HttpPool | None = None) -> HttpAnswer:
    """One JSON request, over `http`'s keep-alive connections (a pool of its own when None)."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
    hdrs = {"Accept": "application/json"}
    if data is not None:
        hdrs["Content-Type"] = "application/json; charset=utf-8"
    hdrs.update(headers or {})
    if not url.lower().startswith(("http://", "https://")):
        raise NetworkError(f"not an http(s) URL: {url[:80]!r}")
    try:
        r = (http or _default_pool()).request(method, url, body=data, headers=hdrs, timeout=timeout)
    except (NotSent, MaybeSent) as e:  # MaybeSent: the caller's retry is its own decision
        raise NetworkError(f"{type(e).__name__}: {e}") from None
    except ValueError as e:  # an unparsable URL
        raise NetworkError(f"{type(e).__name__}: {e}") from None
    text = r.body[:MAX_ANSWER].decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = None
    return HttpAnswer(r.status, parsed if isinstance(parsed, dict) else None, text[:2000], dict(r.headers))


_pool_lock = threading.Lock()
_pool: HttpPool | None = None


def _default_pool() -> HttpPool:
    """For callers without a client of their own: one pool per process, made on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = HttpPool()
        return _pool
