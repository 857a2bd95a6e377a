"""The HTTP front (bot/kit/front.py) over real sockets: uvicorn in a thread, raw clients that stall,
lie about their length or hang up. What a slow or hostile client meets must be an answer in bounded
time and bounded memory, never a hung connection or a traceback."""
from __future__ import annotations

import logging
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest
from starlette.responses import JSONResponse

from bot.config import HttpSettings, Settings
from bot.kit.front import Front, Probes, Route

LIMIT = 1_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def echo(request, body: bytes):
    return JSONResponse({"bytes": len(body)})


@contextmanager
def serving(limits: HttpSettings | None = None, probes: Probes | None = None):
    front = Front([Route("/in", echo, max_body=LIMIT)], limits or HttpSettings(), probes or Probes())
    settings = Settings(http_host="127.0.0.1", http_port=free_port(), log_level="INFO")
    server = front.server(settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the front did not start"
        time.sleep(0.01)
    try:
        yield front, settings.http_port
    finally:
        server.should_exit = True
        thread.join(10)


def raw(port: int, head: bytes, body: bytes = b"", *, timeout: float = 10.0) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(head + body)
    return s


def answer(s: socket.socket) -> bytes:
    """Everything the server sends until it closes (or the socket's timeout)."""
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return out


def post_head(length: int) -> bytes:
    return (f"POST /in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def test_a_declared_body_over_the_limit_is_refused_at_once():
    with serving() as (_, port):
        started = time.monotonic()
        s = raw(port, post_head(10_000_000), b"x" * 1024)
        got = answer(s)
        s.close()
        assert got.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 2


def test_a_body_that_stops_coming_is_answered_after_the_body_timeout():
    with serving(HttpSettings(body_timeout_seconds=0.5)) as (_, port):
        started = time.monotonic()
        s = raw(port, post_head(500_000), b"x" * 1024)
        got = answer(s)
        s.close()
        assert got.startswith(b"HTTP/1.1 408"), got[:80]
        assert 0.4 < time.monotonic() - started < 5


def test_headers_that_stop_coming_close_the_connection_after_the_header_timeout():
    with serving(HttpSettings(header_timeout_seconds=0.5)) as (_, port):
        started = time.monotonic()
        s = raw(port, b"POST /in HTTP/1.1\r\nHost: x\r\nContent-Le")
        assert answer(s) == b""  # closed, not held open
        s.close()
        assert 0.4 < time.monotonic() - started < 5
        idle = raw(port, b"")  # a connection that says nothing at all
        assert answer(idle) == b""
        idle.close()


def test_a_streamed_body_is_cut_at_the_limit():
    with serving() as (_, port):
        head = b"POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"x" * 100_000
        s = raw(port, head, b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(12)))
        got = answer(s)
        s.close()
        assert got.startswith(b"HTTP/1.1 413"), got[:80]


def test_a_client_hanging_up_mid_body_is_one_info_line(caplog):
    with caplog.at_level(logging.INFO):
        with serving() as (front, port):
            s = raw(port, post_head(500_000), b"x" * 10_000)
            time.sleep(0.2)  # the server has read what came
            s.close()
            deadline = time.monotonic() + 5
            while not any("hung up" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
                time.sleep(0.02)
            assert front._budget.used == 0
    hung = [r for r in caplog.records if "hung up" in r.getMessage()]
    assert len(hung) == 1 and hung[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not any(r.exc_info for r in caplog.records)


def _rss() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


@pytest.mark.skipif(not hasattr(socket, "SO_SNDBUF"), reason="needs socket buffers")
def test_sixty_stalled_uploads_of_a_megabyte_add_under_20_mb():
    with serving(HttpSettings(body_timeout_seconds=30)) as (front, port):
        payload = b"x" * 990_000
        before = _rss()
        clients, refused = [], 0
        for _ in range(60):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(post_head(1_000_000))
            s.setblocking(False)
            try:
                s.send(payload)
            except BlockingIOError:
                pass
            clients.append(s)
        # Wait until the server has taken in what it will take (its budget stops growing).
        last, steady = -1, 0
        while steady < 10:
            time.sleep(0.05)
            steady = steady + 1 if front._budget.used == last else 0
            last = front._budget.used
        grown = _rss() - before
        for s in clients:
            s.setblocking(True)
            s.settimeout(0.5)
            if answer(s).startswith(b"HTTP/1.1 503"):
                refused += 1
            s.close()
        assert grown < 20_000_000, f"{grown / 1e6:.1f} MB"
        assert front._budget.used <= int(HttpSettings().body_memory_mb * 1_000_000)
        assert refused > 0  # the ones over the shared budget were told to come back


def test_more_connections_than_the_cap_are_told_to_come_back():
    with serving(HttpSettings(max_connections=3, body_timeout_seconds=5)) as (front, port):
        stalled = [raw(port, post_head(1000), b"x") for _ in range(3)]
        deadline = time.monotonic() + 5
        while front._budget.used < 3000:  # all three are being served (their bodies awaited)
            assert time.monotonic() < deadline
            time.sleep(0.02)
        extra = raw(port, post_head(2), b"{}")
        extra.settimeout(3)
        got = answer(extra)
        for s in stalled + [extra]:
            s.close()
        assert got.startswith(b"HTTP/1.1 503"), got[:80]


def test_health_and_metrics_answer_from_the_probes():
    state = {"ok": True}
    probes = Probes(health=lambda: (state["ok"], {"scheduler": "ticking" if state["ok"] else "stalled"}),
                    metrics=lambda: (b"teambot_up 1\n", "text/plain; version=0.0.4"))
    with serving(probes=probes) as (_, port), httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        assert http.get("/healthz").json() == {"ok": True, "scheduler": "ticking"}
        state["ok"] = False
        r = http.get("/healthz")
        assert r.status_code == 503 and r.json() == {"ok": False, "scheduler": "stalled"}
        m = http.get("/metrics")
        assert m.status_code == 200 and m.text == "teambot_up 1\n" and m.headers["content-type"].startswith("text/plain")
        assert http.post("/in", content=b"{}").json() == {"bytes": 2}
    with serving() as (_, port), httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        assert http.get("/healthz").json() == {"ok": True}
        assert http.get("/metrics").status_code == 404  # nothing to say until a provider is given


def test_socket_mode_and_stream_mode_serve_health_on_the_http_port(monkeypatch):
    import bot.dingtalk.stream as stream
    import bot.slack.socket as socket_mode
    from bot.config import DingTalkSettings, SlackSettings

    port = free_port()
    seen = []

    class Connection:
        """Stands in for the websocket client: while it runs, the health route must answer."""

        def start(self) -> None:
            seen.append(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json())

        start_forever = start

    probes = Probes(health=lambda: (True, {"connection": "up"}))
    base = Settings(http_host="127.0.0.1", http_port=port)
    monkeypatch.setattr(socket_mode, "build_handler", lambda settings, app: Connection())
    socket_mode.serve_socket_mode(replace(base, slack=SlackSettings(app_token="xapp-1")), app=None, probes=probes)
    monkeypatch.setattr(stream, "build_client", lambda settings, dispatcher, clock, **kw: Connection())
    stream.run_stream(replace(base, dingtalk=DingTalkSettings(app_key="k", app_secret="s")), None, None, probes=probes)
    assert seen == [{"ok": True, "connection": "up"}] * 2
