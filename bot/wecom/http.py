"""WeCom callback routes on the HTTP front (bot.kit.front).

`GET /wecom/callback?msg_signature&timestamp&nonce&echostr`: the URL check WeCom makes when the
callback is saved in the admin console; we answer the decrypted echostr.
`POST /wecom/callback?msg_signature&timestamp&nonce` with `<xml><Encrypt>...</Encrypt>...</xml>`:
we check the signature, decrypt (bot.wecom.crypto), parse the message and answer 200 with an empty
body at once (WeCom's "no passive reply"); the command then runs in a worker thread as a background
task and its answer goes out through the app message API (bot.wecom.inbound.WeComBot). WeCom retries a
callback that is not answered within 5 seconds; answering first means it never has to, and a retry
would be recognised by its MsgId anyway.
Body limits, timeouts and `GET /healthz` are the front's.

Every failure to verify or read a callback (signature, ciphertext, padding, receive id, XML) is the
same `400 bad request` with no detail and no traceback; the reason is logged.
"""
from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.config import Settings
from bot.kit.front import Front, Probes, Route
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


def routes(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, api: WeComApi | None = None,
                 sender: WeComSender | None = None, robots: RobotLookup | None = None) -> list[Route]:
    w = settings.wecom
    crypto = WeComCrypto(w.token or "", w.encoding_aes_key or "", w.corp_id or "")
    api = api or WeComApi.from_settings(settings)
    sender = sender or WeComSender(api, robots=robots)
    bot = WeComBot(dispatcher, clock, api, sender)

    async def verify(request: Request, raw: bytes) -> Response:
        q = request.query_params
        try:
            echo = crypto.verify_url(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), q.get("echostr"))
        except WeComCryptoError as e:
            log.warning("WeCom URL verification refused: %s", e.reason)
            return _bad()
        return PlainTextResponse(echo)

    async def callback(request: Request, raw: bytes) -> Response:
        q = request.query_params
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

    return [Route(CALLBACK_PATH, verify, methods=("GET",)),
            Route(CALLBACK_PATH, callback, max_body=MAX_XML)]


def build_asgi(settings: Settings, dispatcher: Dispatcher, clock: Clock, **kw):
    return Front(routes(settings, dispatcher, clock, **kw), settings.http).asgi()


def serve(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, probes: Probes | None = None, **kw) -> None:
    """Serve GET|POST /wecom/callback and GET /healthz on settings.http_host:http_port. Blocks."""
    front = Front(routes(settings, dispatcher, clock, **kw), settings.http, probes or Probes())
    front.serve(settings, f"WeCom ({CALLBACK_PATH})")
