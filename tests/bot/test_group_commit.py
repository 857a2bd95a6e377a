"""bot.group_commit: the typed commands an HTTP server answers on its event loop in one turn share
one SQLite commit, and none of them answers before that commit. On a real event loop and a real
SQLite database; a failing commit is a real one (a deferred foreign key checked at COMMIT)."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from bot.group_commit import GroupCommit
from storage.db import make_engine
from storage.uow import UnitOfWork
from tests.kit.slack_signing import SECRET, signed_headers, slash_body
from tests.kit.transactions import committed_keys, fail_at_commit, write, write_then_raise


@pytest.fixture
def engine(sqlite_engine):
    return sqlite_engine


def write_then_fail_at_commit(engine) -> None:
    with UnitOfWork(engine) as u:
        fail_at_commit(u)


def test_the_commands_of_one_turn_share_one_commit_and_answer_after_it(engine):
    group = GroupCommit(engine)
    during, after = [], []

    async def command(key: str) -> str:
        def work() -> str:
            write(engine, key)
            during.append(committed_keys(engine))
            return key
        result = await group.run(work)
        after.append(committed_keys(engine))
        return result

    async def main():
        return await asyncio.gather(*(command(k) for k in ("a", "b", "c")))

    assert asyncio.run(main()) == ["a", "b", "c"]
    assert (group.batches, group.commands) == (1, 3)
    assert during == [[], [], []]  # nothing durable while the turn runs...
    assert after == [["a", "b", "c"]] * 3  # ...and no answer before the commit


def test_commands_of_later_turns_commit_on_their_own(engine):
    group = GroupCommit(engine)

    async def main():
        first = await group.run(lambda: write(engine, "a"))
        assert committed_keys(engine) == ["a"]
        return [first, await group.run(lambda: write(engine, "b"))]

    assert asyncio.run(main()) == ["a", "b"]
    assert group.batches == 2 and committed_keys(engine) == ["a", "b"]


def test_a_failed_commit_fails_every_command_of_its_turn_and_keeps_nothing(engine):
    group = GroupCommit(engine)

    async def main():
        return await asyncio.gather(group.run(lambda: write(engine, "a")),
                                    group.run(lambda: write_then_fail_at_commit(engine)),
                                    group.run(lambda: write(engine, "b")), return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, IntegrityError) for r in results), results
    assert committed_keys(engine) == []
    # The lock and the connection were given back: the next turn commits.
    assert asyncio.run(group.run(lambda: write(engine, "c"))) == "c"
    assert committed_keys(engine) == ["c"]


def test_a_command_that_fails_does_not_undo_the_others(engine):
    group = GroupCommit(engine)

    async def main():
        return await asyncio.gather(group.run(lambda: write(engine, "a")),
                                    group.run(lambda: write_then_raise(engine, "x", ValueError("bad input"))),
                                    group.run(lambda: write(engine, "b")), return_exceptions=True)

    a, failed, b = asyncio.run(main())
    assert (a, b) == ("a", "b") and isinstance(failed, ValueError)
    assert committed_keys(engine) == ["a", "b"]


def test_a_request_that_goes_away_does_not_cancel_the_commit_for_the_others(engine):
    group = GroupCommit(engine)

    async def main():
        gone = asyncio.create_task(group.run(lambda: write(engine, "gone")))
        stays = asyncio.create_task(group.run(lambda: write(engine, "stays")))
        await asyncio.sleep(0)  # both have done their work and wait for the commit
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await stays

    assert asyncio.run(main()) == "stays"
    # The command that was cancelled while waiting had been run: it is saved (its retry would
    # find the receipt and get the first answer).
    assert committed_keys(engine) == ["gone", "stays"]


def test_over_http_a_failed_commit_is_the_generic_answer_and_writes_nothing(engine, fake_slack):
    """bot.slack.server with group commit: the answer of a command whose commit failed is the
    generic error (HTTP 200, never a 5xx to Slack), not the reply it had computed."""
    from slack_bolt import App
    from slack_sdk import WebClient
    from starlette.testclient import TestClient

    from bot.slack.server import build_asgi

    app = App(signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=fake_slack.url),
              token_verification_enabled=False, process_before_response=True)

    @app.command("/note")
    def note(ack, body):
        if body["text"] == "fail":
            write_then_fail_at_commit(engine)
        else:
            write(engine, body["text"])
        ack(f"saved {body['text']}")

    asgi = build_asgi(app, SECRET, inline=lambda body: "command" in body, on_loop=GroupCommit(engine))
    with TestClient(asgi, raise_server_exceptions=False) as client:
        def post(text: str):
            body = slash_body("/note", text, "U1", "C1")
            return client.post("/slack/events", content=body.encode(), headers=signed_headers(body))

        ok, failed = post("a"), post("fail")
    assert (ok.status_code, ok.text) == (200, "saved a")
    assert failed.status_code == 200 and "Something went wrong" in failed.json()["text"]
    assert committed_keys(engine) == ["a"]


def test_only_for_sqlite():
    with pytest.raises(ValueError, match="SQLite"):
        GroupCommit(make_engine("postgresql+psycopg://u@127.0.0.1:9/x"))
