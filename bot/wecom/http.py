"""WeCom callback routes, served by Starlette/uvicorn on the HTTP port.

`GET /wecom/callback?msg_signature&timestamp&nonce&echostr`: the URL check WeCom makes when the
callback is saved in the admin console; we answer the decrypted echostr.
`POST /wecom/callback?msg_signature&timestamp&nonce` with `<xml><Encrypt>...</Encrypt>...</xml>`:
we check the signature, decrypt (bot.wecom.crypto), parse the message and answer 200 with an empty
body at once (WeCom's "no passive reply"); the command then runs in a worker thread as a background
task and its answer goes out through the app message API (bot.wecom.inbound.WeComBot). WeCom retries a
callback that is not answered within 5 seconds; answering first means it never has to, and a retry
would be recognised by its MsgId anyway.
`GET /healthz` answers 200 {"ok": true}.

Every failure to verify or read a callback (signature, ciphertext, padding, receive id, XML) is the
same `400 bad request` with no detail and no traceback; the reason is logged.
"""
from __future__ import annotations

import logging

import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.config import Settings
from bot.http_body import BodyTooLarge, read_limited
from bot.wecom.api import WeComApi
from bot.wecom.crypto import WeComCrypto, WeComCryptoError
from bot.wecom.inbound import MAX_XML, BadXml, WeComBot, parse_xml, to_inbound
from bot.wecom.sender import RobotLookup, WeComSender
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher

log = logging.getLogger("teambot.wecom.http")

CALLBACK_PATH = "/wecom/callback"


def _bad() -> Response:
    return PlainTextResponse("bad request", status_code=400)


def build_routes(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, api: WeComApi | None = None,
                 sender: WeComSender | None = None, robots: RobotLookup | None = None) -> list[Route]:
    w = settings.wecom
    crypto = WeComCrypto(w.token or "", w.encoding_aes_key or "", w.corp_id or "")
    api = api or WeComApi.from_settings(settings)
    sender = sender or WeComSender(api, robots=robots)
    bot = WeComBot(dispatcher, clock, api, sender)

    async def verify(request: Request) -> Response:
        q = request.query_params
        try:
            echo = crypto.verify_url(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), q.get("echostr"))
        except WeComCryptoError as e:
            log.warning("WeCom URL verification refused: %s", e.reason)
            return _bad()
        return PlainTextResponse(echo)

    async def callback(request: Request) -> Response:
        q = request.query_params
        try:
            raw = await read_limited(request, MAX_XML)
        except BodyTooLarge:
            return PlainTextResponse("request too large", status_code=413)
        try:
            outer = parse_xml(raw.decode("utf-8"))
            plain = crypto.decrypt(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), outer.get("Encrypt"))
            inbound = to_inbound(parse_xml(plain))
        except (WeComCryptoError, BadXml) as e:
            log.warning("WeCom callback refused: %s", e.reason)
            return _bad()
        except UnicodeDecodeError:
            log.warning("WeCom callback refused: body is not UTF-8")
            return _bad()
        if inbound is None:
            return Response(b"", status_code=200)
        # Starlette runs a plain function's background task in its thread pool after responding.
        return Response(b"", status_code=200, background=BackgroundTask(bot.process, inbound))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return [Route(CALLBACK_PATH, verify, methods=["GET"]), Route(CALLBACK_PATH, callback, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"])]


def build_asgi(settings: Settings, dispatcher: Dispatcher, clock: Clock, **kw) -> Starlette:
    return Starlette(routes=build_routes(settings, dispatcher, clock, **kw))


def build_server(settings: Settings, dispatcher: Dispatcher, clock: Clock, **kw) -> uvicorn.Server:
    config = uvicorn.Config(build_asgi(settings, dispatcher, clock, **kw), host=settings.http_host,
                            port=settings.http_port, access_log=False, workers=1, lifespan="off",
                            log_level=settings.log_level.lower(), log_config=None)
    return uvicorn.Server(config)


def serve(settings: Settings, dispatcher: Dispatcher, clock: Clock, **kw) -> None:
    """Serve GET|POST /wecom/callback and GET /healthz on settings.http_host:http_port. Blocks."""
    log.info("WeCom: listening on %s:%s%s", settings.http_host, settings.http_port, CALLBACK_PATH)
    build_server(settings, dispatcher, clock, **kw).run()
