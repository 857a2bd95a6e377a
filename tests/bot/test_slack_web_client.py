"""slack_sdk's WebClient on the pooled keep-alive transport (bot/slack/web_client.py), through the
outbox's Slack sender: one connection for a fan-out, and a stale connection never posts twice."""
from __future__ import annotations

import json

import pytest

from bot.kit import http_pool
from bot.slack.sender import SlackSender
from commands.core.reply import Reply, reply_to_dict
from tests.kit.keepalive_server import KeepAliveServer, wait_until_reset_arrives

def _payload(i: int) -> dict:
    return reply_to_dict(Reply.text(f"提醒 #{i}", private=False))

def _texts(server: KeepAliveServer) -> list[str]:
    return [json.loads(b)["text"] for b in server.bodies]

@pytest.fixture
def server():
    with KeepAliveServer() as srv:
        yield srv

def test_a_fan_out_goes_over_one_keep_alive_connection(server):
    sender = SlackSender("xoxb-test", base_url=server.url("/api/"))
    assert all(sender.send("slack", f"channel:C{i}", _payload(i)).ok for i in range(10))
    assert server.connections == 1 and server.requests == 10
    assert _texts(server)[3].startswith("提醒 #3")
    assert sender.client.http.resent == 0

def test_a_stale_connection_never_posts_twice(server, monkeypatch):
    monkeypatch.setattr(http_pool._Tracked, "is_connected", property(lambda self: self.sock is not None))
    sender = SlackSender("xoxb-test", base_url=server.url("/api/"))
    assert sender.send("slack", "channel:C1", _payload(1)).ok
    server.close_idle(rst=True)  # reset before our next request wrote a byte: sent again, arrives once
    wait_until_reset_arrives(sender.client.http)
    assert sender.send("slack", "channel:C1", _payload(2)).ok
    assert [t.split()[0:2] for t in _texts(server)] == [["提醒", "#1"], ["提醒", "#2"]]
    server.drop_next_after_read()  # Slack got it, the answer never came: unknown, not retried here
    result = sender.send("slack", "channel:C1", _payload(3))
    assert result.status == "transient" and "MaybeSent" in result.error
    assert server.requests == 3 and json.dumps(_texts(server)).count("#3") == 1
