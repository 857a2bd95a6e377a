"""The outbox's Slack sender: neutral Reply payload -> chat.postMessage.

Destinations: "channel:C123" posts to the channel; "user:U123" opens (and remembers) the DM
channel with conversations.open, then posts there.

The WebClient runs over keep-alive connections (bot/slack/web_client.py) and is built with no retry
handlers (`retry_handlers=[]`): the outbox does all retrying, with backoff that survives restarts and
is shared by replicas. Thread-safe: the outbox calls it from several threads at once. Outcomes:
  * HTTP 429 (or `ratelimited`)                      -> rate_limited(Retry-After seconds), for the
                                                       whole workspace
  * HTTP 5xx, timeouts, connection errors, `internal_error`/`fatal_error`/`service_unavailable`...
                                                     -> transient (backoff, then dead after N)
  * any other `ok: false` error (channel_not_found, user_not_found, not_in_channel, is_archived,
    invalid_auth, account_inactive, msg_too_long, ...) -> permanent (dead at once, error kept)

Images: an Image part naming a local file (a KPI chart) is uploaded to the same conversation with
files.uploadV2 right after the message is posted. Each step (the text, each upload) is recorded as
it is done (`send_steps`: in the outbox row, so it survives a restart), and a retry does only what
is left: if an upload fails transiently the send answers transient and the retry only re-uploads,
never posting the text again. An upload that can never work (missing files:write scope...) is
logged and the message counts as sent, since its text was delivered.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.kit import delivery
from bot.kit.delivery import Undeliverable
from bot.kit.http_pool import HttpPool
from bot.slack.web_client import PooledWebClient
from commands.core.reply import File, Image, Reply
from reminders.outbox import PLATFORM, SendResult, Steps

log = logging.getLogger("teambot.slack.sender")

#: `ok: false` errors worth trying again later; every other error is permanent.
TRANSIENT_ERRORS = frozenset({
    "internal_error", "fatal_error", "service_unavailable", "request_timeout", "timeout",
    "team_added_to_org", "ekm_access_denied",
})
DEFAULT_TIMEOUT = 10  # seconds; keep well under the outbox lease
#: The step of a multi-step send that posts the text (each upload is "file:<path>").
TEXT = "text"


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
        # Slack's limits are per method and workspace (ours keeps the 1-a-second per channel): the
        # whole workspace waits, every replica too, or the others would run into the same 429.
        return SendResult.rate_limited(wait, f"{error} (HTTP {status}, Retry-After {raw})", scope=PLATFORM)
    if status >= 500 or error in TRANSIENT_ERRORS:
        return SendResult.transient(f"{error} (HTTP {status})")
    return SendResult.permanent(error if status == 200 else f"{error} (HTTP {status})")


class SlackSender:
    """reminders.outbox.Sender for Slack."""

    def __init__(self, token: str | None = None, *, base_url: str | None = None,
                 client: WebClient | None = None, timeout: int = DEFAULT_TIMEOUT,
                 render: Callable[[Reply], dict] | None = None):
        self.client = client or PooledWebClient(http=HttpPool(timeout=timeout), token=token,
                                                 base_url=base_url or WebClient.BASE_URL, timeout=timeout,
                                                 retry_handlers=[])
        self._render = render
        self._dm: dict[str, str] = {}
        #: send() outside the outbox: messages begun but not finished -> the steps done.
        self._partial: OrderedDict[tuple[str, str], tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> SlackSender:
        return cls(settings.slack.bot_token, base_url=settings.slack.api_url)

    def render(self, reply: Reply) -> dict:
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
        """One send outside the outbox: the steps done are remembered in this process only."""
        key = (destination, hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest())
        with self._lock:
            done = self._partial.get(key, ())
        result = self.send_steps(platform, destination, payload,
                                 Steps(done, on_done=lambda steps: self._remember(key, steps)))
        if result.status != "transient" and result.status != "rate_limited":
            self._forget(key)
        return result

    def send_steps(self, platform: str, destination: str, payload: dict, steps: Steps) -> SendResult:
        """The text, then each local chart or file; a step in `steps` was done by an earlier try."""
        try:
            kind, ident = delivery.destination(destination)
            reply, message = delivery.rendered(payload, destination, self.render)
        except Undeliverable as e:
            return e.result
        # Charts (Image) and exports (File) that live on local disk are uploaded after the text.
        images = [p for p in reply.parts
                  if isinstance(p, (Image, File)) and p.path and os.path.isfile(p.path)]
        try:
            channel = self._dm_channel(ident) if kind == "user" else ident
            if TEXT not in steps:
                self.client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **message)
                if images:
                    steps.done(TEXT)
            for image in images:
                step = f"file:{image.path}"
                if step in steps:
                    continue
                try:
                    title = image.alt if isinstance(image, Image) else image.title
                    self.client.files_upload_v2(channel=channel, file=image.path, title=title,
                                                filename=os.path.basename(image.path), request_file_info=False)
                except SlackApiError as e:
                    if classify(e).status == "permanent":
                        log.error("%s: image %s not uploaded (%s); the message text was delivered",
                                  destination, image.path, classify(e).error)
                    else:
                        raise
                steps.done(step)
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

    def _remember(self, key: tuple[str, str], done: tuple[str, ...]) -> None:
        with self._lock:
            self._partial[key] = done
            while len(self._partial) > 1000:
                self._partial.popitem(last=False)

    def _forget(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._partial.pop(key, None)
