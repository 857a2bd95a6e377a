"""DingTalk HTTP mode: the outgoing-robot callback on the HTTP front (bot.kit.front).

`POST /dingtalk/events`: DingTalk posts each message that @-mentions the robot in a group, and each
message in a 1:1 chat with it. We check the `timestamp`/`sign` headers (bot.dingtalk.signing; 401
otherwise), read the JSON and hand it, in a worker thread, to the path Stream mode takes too
(DingTalkBot.deliver: run the command, answer through the message's sessionWebhook or, when that
has expired, through the outbox and the OpenAPI). DingTalk documents replies only through those two
ways, so the HTTP answer is an empty 200. A redelivery (same msgId) is acknowledged without running
the command or answering twice.

Nothing a sender types can produce a 5xx or a traceback: a bad signature is 401, an unreadable body
400, a body over MAX_BODY 413 (the front's), and a failure inside the core a friendly message (the
dispatcher logs the incident).
"""
from __future__ import annotations

import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import Settings
from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.inbound import BadCallback, DingTalkBot, parse_message
from bot.dingtalk.signing import SignatureError, verify_callback
from bot.kit.front import Front, Probes, Route
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher

log = logging.getLogger("teambot.dingtalk.http")

EVENTS_PATH = "/dingtalk/events"
#: Robot callbacks are a few kilobytes.
MAX_BODY = 256_000


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errcode": status, "errmsg": message}, status_code=status)


def routes(settings: Settings, dispatcher: Dispatcher, clock: Clock, *,
           bot: DingTalkBot | None = None) -> list[Route]:
    bot = bot or DingTalkBot(dispatcher, clock, DingTalkApi.from_settings(settings))
    secret = settings.dingtalk.app_secret or ""

    async def events(request: Request, raw: bytes) -> Response:
        now_ms = int(clock.now().timestamp() * 1000)
        try:
            verify_callback(request.headers.get("timestamp"), request.headers.get("sign"), secret, now_ms)
        except SignatureError as e:
            log.warning("DingTalk callback refused: %s", e.reason)
            return _error(401, "invalid signature")
        try:
            inbound = parse_message(json.loads(raw.decode("utf-8")))
        except (ValueError, UnicodeDecodeError) as e:
            log.warning("DingTalk callback unreadable: %s", getattr(e, "reason", type(e).__name__))
            return _error(400, e.reason if isinstance(e, BadCallback) else "body is not JSON")
        await run_in_threadpool(bot.deliver, inbound)
        return Response(status_code=200)

    return [Route(EVENTS_PATH, events, max_body=MAX_BODY)]


def build_asgi(settings: Settings, dispatcher: Dispatcher, clock: Clock):
    return Front(routes(settings, dispatcher, clock), settings.http).asgi()


def serve(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, probes: Probes | None = None) -> None:
    """Serve POST /dingtalk/events and GET /healthz on settings.http_host:http_port. Blocks."""
    front = Front(routes(settings, dispatcher, clock), settings.http, probes or Probes())
    front.serve(settings, f"DingTalk HTTP mode ({EVENTS_PATH})")
