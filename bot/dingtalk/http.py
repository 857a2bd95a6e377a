"""DingTalk HTTP mode: the outgoing-robot callback, served by Starlette/uvicorn.

`POST /dingtalk/events`: DingTalk posts each message that @-mentions the robot in a group, and each
message in a 1:1 chat with it. We check the `timestamp`/`sign` headers (bot.dingtalk.signing; 401
otherwise), read the JSON, run the command through the dispatcher in a worker thread (the event loop
never blocks on the database) and answer with the reply message as the HTTP response body, which
DingTalk posts into the conversation. A redelivery (same msgId) gets the first answer again without
running the command twice (the dispatcher's receipt table).
`GET /healthz` answers 200 {"ok": true}.

Nothing a sender types can produce a 5xx or a traceback: a bad signature is 401, an unreadable body
400, a body over MAX_BODY 413, and a failure inside the core a friendly message (the dispatcher logs
the incident).
"""
from __future__ import annotations

import json
import logging

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import Settings
from bot.dingtalk.inbound import BadCallback, DingTalkBot, parse_message
from bot.dingtalk.signing import SignatureError, verify_callback
from bot.http_body import BodyTooLarge, read_limited
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher

log = logging.getLogger("teambot.dingtalk.http")

EVENTS_PATH = "/dingtalk/events"
#: Robot callbacks are a few kilobytes.
MAX_BODY = 256_000
GENERIC = {"msgtype": "text", "text": {"content": "⚠️ 出了点问题，请稍后再试。 / Something went wrong, please try again."}}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errcode": status, "errmsg": message}, status_code=status)


def build_routes(settings: Settings, dispatcher: Dispatcher, clock: Clock, *,
                 bot: DingTalkBot | None = None) -> list[Route]:
    bot = bot or DingTalkBot(dispatcher, clock)
    secret = settings.dingtalk.app_secret or ""

    async def events(request: Request) -> Response:
        try:
            raw = await read_limited(request, MAX_BODY)
        except BodyTooLarge:
            return _error(413, "request too large")
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
        try:
            message = await run_in_threadpool(bot.answer, inbound)
        except Exception:  # the dispatcher answers its own failures; this is the last guard
            log.exception("DingTalk message %s failed outside the dispatcher", inbound.msg_id)
            message = GENERIC
        return JSONResponse(message)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return [Route(EVENTS_PATH, events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]


def build_asgi(settings: Settings, dispatcher: Dispatcher, clock: Clock) -> Starlette:
    return Starlette(routes=build_routes(settings, dispatcher, clock))


def build_server(settings: Settings, dispatcher: Dispatcher, clock: Clock) -> uvicorn.Server:
    config = uvicorn.Config(build_asgi(settings, dispatcher, clock), host=settings.http_host,
                            port=settings.http_port, access_log=False, workers=1, lifespan="off",
                            log_level=settings.log_level.lower(), log_config=None)
    return uvicorn.Server(config)


def serve(settings: Settings, dispatcher: Dispatcher, clock: Clock) -> None:
    """Serve POST /dingtalk/events and GET /healthz on settings.http_host:http_port. Blocks."""
    log.info("DingTalk HTTP mode: listening on %s:%s%s", settings.http_host, settings.http_port, EVENTS_PATH)
    build_server(settings, dispatcher, clock).run()
