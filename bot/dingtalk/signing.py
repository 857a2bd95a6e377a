"""DingTalk signatures: the outgoing-robot callback check and the custom-robot webhook signature.

Both use the same construction (https://open.dingtalk.com/document/orgapp/enterprise-created-chatbot
and .../customize-robot-security-settings):

    sign = base64(HmacSHA256(key=secret, message=f"{timestamp}\\n{secret}"))

with `timestamp` in milliseconds since the epoch.

* Inbound (HTTP mode): DingTalk sends the headers `timestamp` and `sign`, signed with the app's
  AppSecret. We refuse a missing or malformed header, a timestamp more than one hour away from our
  clock (either direction: DingTalk's own rule), and a signature that differs, compared in constant
  time (hmac.compare_digest).
* Outbound (a group's custom robot with "加签"): the webhook URL gets `&timestamp=..&sign=..`, the
  signature URL-encoded, signed with the robot's `SEC...` secret.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus, urlsplit, urlunsplit

#: DingTalk refuses a callback whose timestamp is more than one hour from the current time.
MAX_SKEW_MS = 60 * 60 * 1000


class SignatureError(Exception):
    """A callback that did not come from DingTalk (or came too late). `reason` is safe to log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def sign(timestamp: str | int, secret: str) -> str:
    """base64(HmacSHA256(secret, f"{timestamp}\\n{secret}"))."""
    message = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_callback(timestamp: str | None, signature: str | None, app_secret: str, now_ms: int, *,
                    max_skew_ms: int = MAX_SKEW_MS) -> None:
    """Raise SignatureError unless (timestamp, sign) headers are DingTalk's for this app secret."""
    if not app_secret:
        raise SignatureError("no app secret configured")
    if not timestamp or not signature:
        raise SignatureError("missing timestamp or sign header")
    ts = timestamp.strip()
    if not ts.isdigit() or len(ts) > 16:
        raise SignatureError("malformed timestamp")
    if abs(now_ms - int(ts)) > max_skew_ms:
        raise SignatureError("timestamp more than an hour away")
    expected = sign(ts, app_secret)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", "replace")):
        raise SignatureError("signature mismatch")


def signed_webhook_url(webhook: str, secret: str | None, now_ms: int) -> str:
    """The custom robot's webhook URL with `timestamp` and `sign` added (unchanged without a secret)."""
    if not secret:
        return webhook
    parts = urlsplit(webhook)
    extra = f"timestamp={now_ms}&sign={quote_plus(sign(now_ms, secret))}"
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
