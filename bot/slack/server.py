"""HTTP mode: Slack's routes on the HTTP front (bot.kit.front), served by uvicorn.

`POST /slack/events` takes every Slack delivery (slash commands, interactivity, events). The
signature is checked first (401 for a bad one or a timestamp more than 5 minutes off). Bolt's
dispatch is synchronous: a delivery that may call Slack runs in a worker thread so the event loop
never waits on the network; a typed command that only does short local work may run on the event
loop's own thread (`inline`, see routes).
In multi-workspace mode (bot/slack/oauth.py) `GET /slack/install` and `GET /slack/oauth_redirect`
run Bolt's OAuth flow ("Add to Slack", then storing the installation).
Body limits, timeouts and `GET /healthz` are the front's.
"""
from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import uvicorn
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import HttpSettings, Settings
from bot.kit.front import Front, Probes, Route
from bot.kit.notices import generic_error

log = logging.getLogger("teambot.slack.http")

EVENTS_PATH = "/slack/events"
#: Slack's payloads are small; anything much bigger is not from Slack.
MAX_BODY = 1_000_000


T = TypeVar("T")


class OnLoop(Protocol):
    """How an inline delivery's work runs on the event loop: bot.group_commit.GroupCommit (SQLite)
    or storage.awaited.AwaitedEngine (PostgreSQL), chosen by bot.wiring.on_loop."""

    def run(self, fn: Callable[[], T]) -> Awaitable[T]: ...

    def close(self) -> None:
        """Called once the server has stopped."""


def to_bolt_request(request: Request, raw: bytes) -> BoltRequest:
    return BoltRequest(
        body=raw.decode("utf-8", errors="replace"),
        # From the ASGI scope: request.url would build a whole URL object per request.
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=dict(request.headers.items()),
    )


def to_response(resp: BoltResponse) -> Response:
    out = Response(status_code=resp.status, content=resp.body,
                   headers=resp.first_headers_without_set_cookie())
    # The OAuth flow's state cookie (the only cookie Bolt sets).
    for cookie in resp.cookies():
        for name, c in cookie.items():
            out.set_cookie(key=name, value=c.value, max_age=int(c["max-age"]) if c.get("max-age") else None,
                           path=c.get("path") or "/", secure=True, httponly=True, samesite="lax")
    return out


def routes(app: App, signing_secret: str | None = None, *,
           inline: Callable[[dict], bool] | None = None, on_loop: OnLoop | None = None) -> list[Route]:
    """`inline(body)`, given the body as Bolt parsed it: True for a delivery that Bolt may handle
    on the event loop's own thread, one that calls no Slack API and only does database work (see
    bot.slack.app.runs_inline). `on_loop.run` then runs it: on SQLite the inline deliveries of one
    turn of the event loop share one database commit, and each is answered after it
    (bot.group_commit); on PostgreSQL each statement is awaited, so other requests go on while it
    waits on the network (storage.awaited). Without `on_loop` Bolt runs it right there.
    Everything else goes to Starlette's thread pool so that a slow Slack API call never holds up
    other requests. Why not always the pool: each time a worker thread lets go of the GIL (every
    SQLite or socket call does), the event loop takes it, and handing it back costs more CPU than
    a whole typed command (bench/run.py measures both)."""
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def events(request: Request, raw: bytes) -> Response:
        # Check the signature before anything reads the body: Bolt parses first, so an unsigned body
        # it cannot parse (or a non-numeric timestamp) would otherwise get its generic 200, not a 401.
        if verifier is not None and not _signed(verifier, raw, request):
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            bolt_req = to_bolt_request(request, raw)
            if inline is not None and inline(bolt_req.body):
                if on_loop is not None:
                    bolt_resp = await on_loop.run(lambda: app.dispatch(bolt_req))
                else:
                    bolt_resp = app.dispatch(bolt_req)
            else:
                bolt_resp = await run_in_threadpool(app.dispatch, bolt_req)
        except Exception:  # Bolt catches its own; this is the last guard
            log.exception("Slack request failed outside the Bolt app")
            return JSONResponse({"response_type": "ephemeral", "text": generic_error()}, status_code=200)
        return to_response(bolt_resp)

    out = [Route(EVENTS_PATH, events, max_body=MAX_BODY)]
    flow = app.oauth_flow
    if flow is not None:
        async def install(request: Request, raw: bytes) -> Response:
            return await _oauth(flow.handle_installation, request)

        async def redirect(request: Request, raw: bytes) -> Response:
            return await _oauth(flow.handle_callback, request)

        out += [Route(flow.install_path, install, methods=("GET",)),
                Route(flow.redirect_uri_path, redirect, methods=("GET",))]
    return out


def build_asgi(app: App, signing_secret: str | None = None, *, inline: Callable[[dict], bool] | None = None,
               on_loop: OnLoop | None = None, limits: HttpSettings | None = None) -> Starlette:
    return Front(routes(app, signing_secret, inline=inline, on_loop=on_loop), limits or HttpSettings()).asgi()


def _signed(verifier: SignatureVerifier, raw: bytes, request: Request) -> bool:
    try:
        return verifier.is_valid(raw, request.headers.get("x-slack-request-timestamp"),
                                 request.headers.get("x-slack-signature"))
    except (ValueError, TypeError):
        return False


async def _oauth(step, request: Request) -> Response:
    try:
        return to_response(await run_in_threadpool(step, to_bolt_request(request, b"")))
    except Exception:  # Bolt renders its own failure pages; this is the last guard
        log.exception("Slack OAuth step failed")
        return Response("Installation failed; please try again.", status_code=500, media_type="text/plain")


def build_server(settings: Settings, app: App, *, inline: Callable[[dict], bool] | None = None,
                 on_loop: OnLoop | None = None, probes: Probes | None = None) -> uvicorn.Server:
    """The uvicorn server, not yet running: `serve()` runs it; tests run it in a thread and
    stop it with `server.should_exit = True`."""
    front = Front(routes(app, settings.slack.signing_secret, inline=inline, on_loop=on_loop),
                  settings.http, probes or Probes())
    return front.server(settings)


def serve(settings: Settings, app: App, *, inline: Callable[[dict], bool] | None = None,
          on_loop: OnLoop | None = None, probes: Probes | None = None) -> None:
    """Serve POST /slack/events and GET /healthz on settings.http_host:http_port. Blocks."""
    log.info("Slack HTTP mode: listening on %s:%s%s", settings.http_host, settings.http_port, EVENTS_PATH)
    server = build_server(settings, app, inline=inline, on_loop=on_loop, probes=probes)
    # What start-up built lives as long as the process: keep it out of the collector's full
    # passes, which otherwise walk it again and again under load.
    gc.collect()
    gc.freeze()
    try:
        server.run()
    finally:
        if on_loop is not None:
            on_loop.close()
