"""The one HTTP front of the process: every platform's routes (Slack events, the DingTalk callback, the
WeCom callback) behind the same limits, plus `GET /healthz` and `GET /metrics`.

What a request meets before a platform's handler sees it (the limits are bot.config.HttpSettings):
  * the request line and headers must arrive within `header_timeout_seconds` (uvicorn itself waits for ever,
    so a client sending half a request would hold its connection);
  * a declared Content-Length above the route's `max_body` is refused at once (413), before one byte
    of the body is read; so is a streamed body the moment it grows past the limit;
  * the body must arrive within `body_timeout_seconds` (408 after it);
  * all bodies being read at once share `body_memory_mb`: a request that would go beyond it is
    refused with 503 (a platform retries), so stalled uploads cannot add up to an unbounded heap;
  * at most `max_connections` connections are served at once (uvicorn answers 503 beyond it);
  * a client that hangs up mid-body is one INFO line, never a traceback.
Log lines name the route and the client address, never what the body says.

`/healthz` and `/metrics` answer from Probes that bot.wiring supplies; Socket Mode and Stream mode,
which need no HTTP for their messages, run the front in a background thread for these two.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.config import HttpSettings
from bot.kit.liveness import ConnectionWatch

log = logging.getLogger("teambot.http")

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

#: A route's handler: the request and its body, read within the limits (b"" for a GET).
Handler = Callable[[Request, bytes], Awaitable[Response]]


def _healthy() -> tuple[bool, dict]:
    return True, {}


@dataclass(frozen=True)
class Probes:
    """What /healthz and /metrics answer. `health()` -> (healthy, details shown with it);
    `metrics()` -> (body, content type), e.g. Prometheus' text format; without it /metrics is 404.
    `connection`: what Socket Mode and Stream mode report their connection's state to (health reads it)."""
    health: Callable[[], tuple[bool, dict]] = _healthy
    metrics: Callable[[], tuple[bytes, str]] | None = None
    connection: ConnectionWatch | None = None


@dataclass(frozen=True)
class Route:
    path: str
    handler: Handler
    methods: tuple[str, ...] = ("POST",)
    #: The largest body the route takes, in bytes.
    max_body: int = 256_000


def error(status: int, message: str, **headers: str) -> JSONResponse:
    """A refusal the front or a route gives before any platform work: short, and the connection closed
    when the body was not read to its end."""
    return JSONResponse({"error": message}, status_code=status, headers={"Connection": "close", **headers})


class _Budget:
    """Body bytes held across requests; only touched on the event loop's thread."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def take(self, n: int) -> bool:
        if self.used + n > self.limit:
            return False
        self.used += n
        return True

    def give(self, n: int) -> None:
        self.used -= n


class _Refused(Exception):
    def __init__(self, response: Response | None):
        self.response = response


@dataclass
class Front:
    routes: Sequence[Route] = ()
    limits: HttpSettings = field(default_factory=HttpSettings)
    probes: Probes = field(default_factory=Probes)

    def __post_init__(self) -> None:
        self._budget = _Budget(int(self.limits.body_memory_mb * 1_000_000))

    # -- ASGI -------------------------------------------------------------------------------------
    def asgi(self) -> Starlette:
        routes = [StarletteRoute(r.path, self._endpoint(r), methods=list(r.methods)) for r in self.routes]
        routes.append(StarletteRoute(HEALTH_PATH, self._health, methods=["GET"]))
        if self.probes.metrics is not None:
            routes.append(StarletteRoute(METRICS_PATH, self._metrics, methods=["GET"]))
        return Starlette(routes=routes)

    def _endpoint(self, route: Route):
        async def endpoint(request: Request) -> Response:
            held = 0
            try:
                if request.method in ("GET", "HEAD"):
                    return await route.handler(request, b"")
                body, held = await self._read(request, route)
                return await route.handler(request, body)
            except _Refused as e:
                return e.response if e.response is not None else Response(status_code=400)
            finally:
                self._budget.give(held)
        return endpoint

    async def _read(self, request: Request, route: Route) -> tuple[bytes, int]:
        """The body, within the route's limit, the time limit and the shared memory budget; the
        bytes taken from the budget come back with it (the caller gives them back)."""
        declared = request.headers.get("content-length")
        held = 0
        if declared is not None:
            if not declared.strip().isdigit():
                raise _Refused(error(400, "bad Content-Length"))
            size = int(declared)
            if size > route.max_body:
                log.info("%s: refused a body of %d bytes from %s (limit %d)", route.path, size,
                         _client(request), route.max_body)
                raise _Refused(error(413, "request too large"))
            if not self._budget.take(size):
                raise _Refused(self._busy(request, route))
            held = size
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.limits.body_timeout_seconds):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > route.max_body:
                        raise _Refused(error(413, "request too large"))
                    if declared is None:
                        if not self._budget.take(len(chunk)):
                            raise _Refused(self._busy(request, route))
                        held += len(chunk)
                    chunks.append(chunk)
        except _Refused as e:
            self._budget.give(held)
            raise e
        except TimeoutError:
            self._budget.give(held)
            log.info("%s: body from %s not complete within %.0fs (%d bytes came)", route.path,
                     _client(request), self.limits.body_timeout_seconds, size)
            raise _Refused(error(408, "request body too slow")) from None
        except ClientDisconnect:
            self._budget.give(held)
            log.info("%s: client %s hung up after %d bytes of its body", route.path, _client(request), size)
            raise _Refused(None) from None
        return b"".join(chunks), held

    def _busy(self, request: Request, route: Route) -> Response:
        log.warning("%s: refused a request from %s: %d bytes of bodies are being read already", route.path,
                    _client(request), self._budget.used)
        return error(503, "busy, try again", **{"Retry-After": "1"})

    async def _health(self, request: Request) -> Response:
        try:
            healthy, details = await asyncio.to_thread(self.probes.health)
        except Exception:  # noqa: BLE001 - a probe that fails says "unhealthy", it does not crash
            log.exception("the health probe failed")
            healthy, details = False, {}
        return JSONResponse({"ok": bool(healthy), **details}, status_code=200 if healthy else 503)

    async def _metrics(self, request: Request) -> Response:
        # Off the event loop: a scrape reads the database.
        body, content_type = await asyncio.to_thread(self.probes.metrics)
        return Response(body, media_type=content_type)

    # -- the server -------------------------------------------------------------------------------
    def server(self, settings) -> uvicorn.Server:
        """The uvicorn server on settings.http_host:http_port, not yet running: `serve()` runs it;
        tests run it in a thread and stop it with `server.should_exit = True`."""
        protocol = type("Protocol", (_TimedHeaders,), {"header_timeout": self.limits.header_timeout_seconds})
        config = uvicorn.Config(
            self.asgi(), host=settings.http_host, port=settings.http_port, http=protocol,
            # uvicorn refuses a request once the connections, its own included, reach the limit.
            limit_concurrency=self.limits.max_connections + 1, access_log=False, workers=1, lifespan="off",
            log_level=settings.log_level.lower(),
            # uvicorn would otherwise install its own logging config over ours.
            log_config=None,
        )
        return uvicorn.Server(config)

    def serve(self, settings, what: str) -> None:
        """Serve until interrupted. Blocks."""
        log.info("%s: listening on %s:%s", what, settings.http_host, settings.http_port)
        self.server(settings).run()

    def serve_in_background(self, settings) -> Callable[[], None]:
        """Serve /healthz and /metrics from a daemon thread (Socket Mode, Stream mode); returns what
        stops it. A port that cannot be bound costs the probes, not the bot."""
        server = self.server(settings)
        thread = threading.Thread(target=server.run, name="http-front", daemon=True)
        thread.start()
        log.info("health and metrics on %s:%s%s", settings.http_host, settings.http_port, HEALTH_PATH)

        def stop() -> None:
            server.should_exit = True
            thread.join(5)
        return stop


class _TimedHeaders(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's line and headers."""

    header_timeout = 10.0
    _headers_due: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            self._arm()  # bytes of a (next) request: its headers are now on the clock
        super().data_received(data)
        if self.cycle is not cycle:
            self._disarm()  # the headers are complete: the body has a deadline of its own

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._headers_due is None:
            self._headers_due = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _headers_late(self) -> None:
        self._headers_due = None
        if self.cycle is None or self.cycle.response_complete:
            log.info("closed a connection from %s: no complete request headers within %.0fs",
                     "%s:%s" % self.client if self.client else "?", self.header_timeout)
            self.transport.close()


def _client(request: Request) -> str:
    client = request.client
    return f"{client.host}:{client.port}" if client else "?"
