"""The outbox's Slack sender: neutral Reply payload -> chat.postMessage.

Destinations: "channel:C123" posts to the channel; "user:U123" opens (and remembers) the DM
channel with conversations.open, then posts there.

The WebClient is built with no retry handlers (`retry_handlers=[]`): the outbox does all retrying,
with backoff that survives restarts and is shared by replicas. Outcomes:
  * HTTP 429 (or `ratelimited`)                      -> rate_limited(Retry-After seconds)
  * HTTP 5xx, timeouts, connection errors, `internal_error`/`fatal_error`/`service_unavailable`...
                                                     -> transient (backoff, then dead after N)
  * any other `ok: false` error (channel_not_found, user_not_found, not_in_channel, is_archived,
    invalid_auth, account_inactive, msg_too_long, ...) -> permanent (dead at once, error kept)
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from commands.reply import Reply, reply_from_dict
from reminders.outbox import SendResult

log = logging.getLogger("teambot.slack.sender")

#: `ok: false` errors worth trying again later; every other error is permanent.
TRANSIENT_ERRORS = frozenset({
    "internal_error", "fatal_error", "service_unavailable", "request_timeout", "timeout",
    "team_added_to_org", "ekm_access_denied",
})
DEFAULT_TIMEOUT = 10  # seconds; keep well under the outbox lease


def _header(headers, name: str) -> str | None:
    for k, v in (headers or {}).items():
        if k.lower() == name.lower():
            return v[0] if isinstance(v, list) else v
    return None


def classify(e: SlackApiError) -> SendResult:
    resp = e.response
    status = getattr(resp, "status_code", 200) or 200
    data = getattr(resp, "data", None)
    error = (data.get("error") if isinstance(data, dict) else None) or f"HTTP {status}"
    if status == 429 or error == "ratelimited":
        raw = _header(getattr(resp, "headers", None), "Retry-After")
        try:
            wait = float(raw) if raw is not None else None
        except ValueError:
            wait = None
        return SendResult.rate_limited(wait, f"{error} (HTTP {status}, Retry-After {raw})")
    if status >= 500 or error in TRANSIENT_ERRORS:
        return SendResult.transient(f"{error} (HTTP {status})")
    return SendResult.permanent(error if status == 200 else f"{error} (HTTP {status})")


class SlackSender:
    """reminders.outbox.Sender for Slack."""

    def __init__(self, token: str | None = None, *, base_url: str | None = None,
                 client: WebClient | None = None, timeout: int = DEFAULT_TIMEOUT,
                 render: Callable[[Reply], dict] | None = None):
        self.client = client or WebClient(token=token, base_url=base_url or WebClient.BASE_URL,
                                           timeout=timeout, retry_handlers=[])
        self._render = render
        self._dm: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> SlackSender:
        return cls(settings.slack.bot_token, base_url=settings.slack.api_url)

    def render(self, payload: dict) -> dict:
        reply = reply_from_dict(payload)
        if self._render is not None:
            return self._render(reply)
        from bot.slack.render import message_payload

        return message_payload(reply)

    def _dm_channel(self, user_id: str) -> str:
        with self._lock:
            cached = self._dm.get(user_id)
        if cached:
            return cached
        resp = self.client.conversations_open(users=user_id)
        channel = resp["channel"]["id"]
        with self._lock:
            self._dm[user_id] = channel
        return channel

    def send(self, platform: str, destination: str, payload: dict) -> SendResult:
        kind, _, ident = destination.partition(":")
        if kind not in ("user", "channel") or not ident:
            return SendResult.permanent(f"bad destination {destination!r} (expected user:<id> or channel:<id>)")
        try:
            message = self.render(payload)
        except Exception as e:  # an unrenderable payload never gets better
            log.exception("cannot render outbox payload for %s", destination)
            return SendResult.permanent(f"render failed: {type(e).__name__}: {e}")
        try:
            channel = self._dm_channel(ident) if kind == "user" else ident
            self.client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **message)
            return SendResult.sent()
        except SlackApiError as e:
            result = classify(e)
            if kind == "user" and result.status == "permanent":
                with self._lock:  # the DM channel may be stale (archived, user deactivated)
                    self._dm.pop(ident, None)
            return result
        except (URLError, TimeoutError, ConnectionError) as e:
            return SendResult.transient(f"network: {type(e).__name__}: {e}")
        except SlackRequestError as e:
            return SendResult.permanent(f"bad request: {e}")
        except OSError as e:
            return SendResult.transient(f"network: {type(e).__name__}: {e}")
