"""Blocking JSON over HTTP for the DingTalk and WeCom APIs (stdlib urllib; call from worker threads).

An HTTP error status is an answer, not an exception; no answer at all is NetworkError. Redirects are
never followed: a webhook URL must not lead the bot somewhere else."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field

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
    """No HTTP answer at all: DNS, refused connection, timeout, TLS."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def request_json(method: str, url: str, body: dict | None = None, *, headers: dict | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> HttpAnswer:
    """One JSON request."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
    hdrs = {"Accept": "application/json"}
    if data is not None:
        hdrs["Content-Type"] = "application/json; charset=utf-8"
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _OPENER.open(req, timeout=timeout) as r:  # URLs are ours or allow-listed
            status, raw, rh = r.status, r.read(MAX_ANSWER), r.headers
    except urllib.error.HTTPError as e:
        status, rh = e.code, e.headers
        try:
            raw = e.read(MAX_ANSWER)
        except OSError:
            raw = b""
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
        raise NetworkError(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = None
    return HttpAnswer(status, parsed if isinstance(parsed, dict) else None, text[:2000],
                      {k.lower(): v for k, v in (rh or {}).items()})
