"""Several resource admins allocating the last units at the same moment, on SQLite and PostgreSQL.

Every thread has its own engine (its own connections), and all of them wait on a barrier so that
their commands hit the database together. The inventory must never go below zero, the sum of what
was allocated never exceeds the stock, and every admin who lost the race got a clear refusal."""
from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import func, select

from commands.core.reply import Reply
from storage.db import make_engine
from storage.models import ResourceRequest, ResourceStock, ResourceTransition
from storage.uow import uow_factory
from tests.kit.dialog import Chat

ADMINS = ("zhao", "qian", "sun", "zhou", "wu", "zheng")


def _team(uow, clock, amounts: list[int], stock: int) -> Chat:
    chat = Chat(uow, clock)
    assert chat.say("wang", "/team setup 华东销售一组").ok
    assert chat.say("wang", "/team add @li rep").ok
    for admin in ADMINS:
        assert chat.say("wang", f"/team add @{admin} resource_admin").ok
    assert chat.say("zhao", f"/resource 盘点 人力 {stock}").ok
    for i, n in enumerate(amounts, start=1):
        assert chat.say("li", f"/resource 申请 人力 {n} 用于 展会{i}").ok
        assert chat.say("wang", f"/resource 批准 {i}").ok
        assert chat.say("zhao", f"/resource 审核通过 {i}").ok
    return chat


def _race(db_url: str, clock, commands: list[tuple[str, str]]) -> list[Reply]:
    """Run each (user, command) in its own thread with its own engine, all released at once."""
    barrier = threading.Barrier(len(commands))
    replies: list[Reply | None] = [None] * len(commands)
    errors: list[BaseException] = []

    def worker(i: int, user: str, command: str) -> None:
        engine = make_engine(db_url)
        try:
            chat = Chat(uow_factory(engine), clock)
            with engine.connect():  # open a connection before the start, so all really start together
                pass
            barrier.wait(timeout=30)
            replies[i] = chat.say(user, command)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker, args=(i, u, c)) for i, (u, c) in enumerate(commands)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert all(r is not None for r in replies)
    return replies  # type: ignore[return-value]


def _allocated(uow) -> tuple[int, int]:
    """(sum of allocated amounts, stock left)."""
    with uow() as u:
        session = u.session
        total = session.scalar(select(func.coalesce(func.sum(ResourceRequest.allocated_amount), 0))
                         .where(ResourceRequest.state == "allocated"))
        left = session.scalar(select(ResourceStock.available).where(ResourceStock.type == "people"))
    return int(total), int(left)


def test_the_last_units_go_to_one_admin_the_others_are_refused(db_url, uow, clock):
    # 5 people in stock, six reviewed requests of 2: exactly two allocations fit.
    _team(uow, clock, [2] * len(ADMINS), stock=5)
    replies = _race(db_url, clock, [(admin, f"/resource 分配 {i}") for i, admin in enumerate(ADMINS, start=1)])
    winners = [r for r in replies if r.ok]
    losers = [r for r in replies if not r.ok]
    assert len(winners) == 2, [r.plain() for r in replies]
    for r in losers:
        assert r.private and r.plain().startswith("🚫 库存不足：人力只剩 1 人，不够分配 2 人"), r.plain()
    total, left = _allocated(uow)
    assert (total, left) == (4, 1)
    with uow() as u:
        allocations = u.session.scalars(select(ResourceTransition).where(ResourceTransition.to_state == "allocated")
                                        ).all()
        refused = u.session.scalars(select(ResourceRequest).where(ResourceRequest.state == "reviewed")).all()
    assert len(allocations) == 2 and len(refused) == 4


def test_two_admins_allocating_the_same_request_one_wins(db_url, uow, clock):
    _team(uow, clock, [3], stock=10)
    replies = _race(db_url, clock, [(admin, "/resource allocate 1") for admin in ADMINS])
    assert sum(r.ok for r in replies) == 1, [r.plain() for r in replies]
    for r in replies:
        if not r.ok:
            assert "已经分配过了" in r.plain(), r.plain()
    assert _allocated(uow) == (3, 7)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_amounts_never_exceed_the_stock(db_url, uow, clock, seed):
    rng = random.Random(seed)
    amounts = [rng.randint(1, 4) for _ in ADMINS]
    stock = rng.randint(3, 8)
    _team(uow, clock, amounts, stock=stock)
    # Some admins ask for part of a request (partial allocation) to mix the sizes further.
    commands, tried = [], []
    for i, admin in enumerate(ADMINS, start=1):
        part = rng.randint(1, amounts[i - 1]) if rng.random() < 0.5 else None
        commands.append((admin, f"/resource allocate {i}" + (f" {part}" if part else "")))
        tried.append(part or amounts[i - 1])
    replies = _race(db_url, clock, commands)
    total, left = _allocated(uow)
    assert left >= 0 and total + left == stock, (amounts, stock, total, left)
    assert total == sum(n for n, r in zip(tried, replies) if r.ok)
    for command, n, r in zip(commands, tried, replies):
        if r.ok:
            continue
        # Every loser was told why; stock only goes down, so what it asked for is still more than is left.
        assert r.plain().startswith("🚫 库存不足"), (command, r.plain())
        assert n > left, (command, n, left)
    if min(tried) <= stock:
        assert any(r.ok for r in replies)
