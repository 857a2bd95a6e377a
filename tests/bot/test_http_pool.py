"""The pooled keep-alive client (bot/kit/http_pool.py) against a server that closes idle connections:
one connection for many calls; a stale connection never makes a request arrive twice; a request
goes again on a fresh connection only when it provably never left."""
from __future__ import annotations

import pytest

from bot.kit import http_pool
from bot.kit.http_pool import HttpPool, MaybeSent, NotSent
from tests.kit.keepalive_server import KeepAliveServer, wait_until_reset_arrives


@pytest.fixture
def server():
    with KeepAliveServer() as srv:
        yield srv


@pytest.fixture
def pool():
    p = HttpPool(timeout=5)
    yield p
    p.close()


@pytest.fixture
def racing(monkeypatch):
    """The server's close reaches us just after the pool looked at the connection: the look
    finds it alive (what a real race does; here the look is made to miss it every time)."""
    monkeypatch.setattr(http_pool._Tracked, "is_connected", property(lambda self: self.sock is not None))


def post(pool, server, n: int) -> int:
    return pool.request("POST", server.url("/api/chat.postMessage"), body=f'{{"n": {n}}}'.encode(),
                        headers={"Content-Type": "application/json"}).status


def test_many_calls_share_one_connection(pool, server):
    assert [post(pool, server, i) for i in range(20)] == [200] * 20
    assert server.requests == 20 and server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_not_used(pool, server):
    post(pool, server, 1)
    assert server.close_idle(rst=False) == 1
    assert post(pool, server, 2) == 200
    assert server.requests == 2 and server.connections == 2 and pool.resent == 0


def test_a_reset_before_any_byte_was_written_is_sent_again_on_a_fresh_connection(pool, server, racing):
    post(pool, server, 1)
    assert server.close_idle(rst=True) == 1
    wait_until_reset_arrives(pool)
    assert post(pool, server, 2) == 200
    assert pool.resent == 1
    assert server.requests == 2 and server.bodies[-1] == b'{"n": 2}'  # arrived once


def test_a_request_written_to_a_connection_the_server_had_closed_is_not_sent_again(pool, server, racing):
    """The bytes left; the server had closed and never read them, but we cannot know that: the
    caller is told the outcome is unknown, and nothing is retried behind its back."""
    post(pool, server, 1)
    server.close_idle(rst=False)
    with pytest.raises(MaybeSent):
        post(pool, server, 2)
    assert pool.resent == 0 and server.requests == 1 and server.connections == 1


def test_a_request_the_server_read_and_then_dropped_is_never_sent_twice(pool, server):
    post(pool, server, 1)
    server.drop_next_after_read()
    with pytest.raises(MaybeSent):
        post(pool, server, 2)
    assert server.requests == 2 and pool.resent == 0  # it arrived once, and only once
    assert post(pool, server, 3) == 200 and server.requests == 3


def test_a_refused_connection_is_tried_once_more_then_reported_as_not_sent(pool, server):
    server.stop_listening()
    with pytest.raises(NotSent):
        post(pool, server, 1)
    assert pool.resent == 1 and server.requests == 0


def test_connections_idle_longer_than_max_idle_are_retired(server):
    now = [100.0]
    pool = HttpPool(timeout=5, max_idle=4.0, monotonic=lambda: now[0])
    try:
        post(pool, server, 1)
        now[0] += 3.0
        post(pool, server, 2)
        assert server.connections == 1
        now[0] += 4.5  # longer than max_idle since the last answer: the server may be closing it
        post(pool, server, 3)
        assert server.connections == 2 and server.requests == 3 and pool.resent == 0
    finally:
        pool.close()
