"""查重 holds for every spelling and under a race.

* Property: any spelling variant of a stored company name (spaces, full-width forms, case, 有限公司,
  有限责任公司, 股份, 集团, (中国) / （中国）, Co., Ltd.) or phone (+86, 0086, dashes, spaces,
  full-width digits) is found as the duplicate of the stored customer, in the database.
* Race: two people add the same customer at the same moment on PostgreSQL: one row is left, and
  the one who lost gets the duplicate refusal naming the customer, never an internal error."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from commands.customers import access
from commands.customers.names import name_key, phone_key
from commands.i18n import t
from storage.db import make_engine
from storage.models import Customer, Team
from storage.uow import uow_factory
from tests.kit.databases import require_pg
from tests.kit.dialog import Chat

AT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CORE = st.text(alphabet="杭州云帆科技星河贸易华南物流宁波港务abdefghkmnprsuvwxyz0123456789", min_size=2, max_size=12)
LEGAL = ("", "有限公司", "有限责任公司", "股份有限公司", "股份", "集团", "集团有限公司", "(中国)", "（中国）",
         "（中国）有限公司", " Co., Ltd.", " Ltd", " Inc.", " LIMITED")


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


@st.composite
def name_variant(draw, core: str) -> str:
    chars = list(core)
    out = []
    for c in chars:
        out.append(c.upper() if draw(st.booleans()) else c)
        if draw(st.integers(0, 4)) == 0:
            out.append(" ")
    text = "".join(out)
    if draw(st.booleans()):
        text = draw(st.sampled_from(LEGAL[7:10])) + text if draw(st.booleans()) else text
    text += draw(st.sampled_from(LEGAL))
    if draw(st.booleans()):
        text = _full_width(text)
    return "  " + text if draw(st.booleans()) else text


MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@st.composite
def phone_variant(draw, digits: str) -> str:
    prefix = draw(st.sampled_from(["", "+86 ", "+86", "0086 ", "0086-", "86", "+86-"]))
    out = []
    for i, c in enumerate(digits):
        out.append(c)
        if i < len(digits) - 1 and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from([" ", "-", "  "])))
    text = prefix + "".join(out)
    return _full_width(text) if draw(st.booleans()) else text


@given(st.data(), CORE)
def test_every_spelling_of_a_name_has_one_key(data, core):
    stored = data.draw(name_variant(core))
    typed = data.draw(name_variant(core))
    assert name_key(typed) == name_key(stored)


@given(st.data(), MOBILE)
def test_every_spelling_of_a_phone_has_one_key(data, digits):
    assert phone_key(data.draw(phone_variant(digits))) == digits


def test_a_landline_with_and_without_the_country_code_is_one_number():
    assert phone_key("+86 571 8888 6666") == phone_key("0571-88886666") == phone_key("0086 (571) 88886666")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data(), core=CORE, digits=MOBILE)
def test_any_variant_of_a_stored_customer_is_found_as_its_duplicate(sqlite_uow, data, core, digits):
    stored_name, stored_phone = data.draw(name_variant(core)), data.draw(phone_variant(digits))
    typed_name, typed_phone = data.draw(name_variant(core)), data.draw(phone_variant(digits))
    with sqlite_uow() as u:
        session = u.session
        team = session.scalars(select(Team)).first()
        if team is None:
            team = Team(platform="console", channel_id="C1", name="华东", created_by="wang", created_at=AT)
            session.add(team)
            session.flush()
        session.execute(delete(Customer))
        c = Customer(team_id=team.id, name=stored_name.strip(), name_key=name_key(stored_name), phone=stored_phone,
                     phone_key=phone_key(stored_phone), owner_id="li", created_by="li", created_at=AT,
                     stage_changed_at=AT, active_at=AT, updated_at=AT)
        session.add(c)
        session.flush()
        by_name = access.duplicate(session, team.id, name_key(typed_name), None)
        by_phone = access.duplicate(session, team.id, "另一家公司", phone_key(typed_phone))
        assert by_name is not None and by_name[0].id == c.id and by_name[1] == "name", (stored_name, typed_name)
        assert by_phone is not None and by_phone[0].id == c.id and by_phone[1] == "phone", (stored_phone, typed_phone)


# -- the race ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("first, second", [
    ("/客户 新建 杭州云帆科技有限公司 电话=13800001111", "/customer add 杭州 云帆科技"),
    ("/客户 新建 杭州云帆科技 电话=13800001111", "/customer add 星河贸易 phone=+86 138-0000-1111"),
])
def test_two_simultaneous_adds_leave_one_customer(db_url, clock, monkeypatch, first, second):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    require_pg()
    engine = make_engine(db_url)
    chat = Chat(uow_factory(engine), clock)
    for line in ("/team setup 华东一组", "/team add @li rep", "/team add @mei rep"):
        assert chat.say("wang", line).ok
    # Both commands look for a duplicate before either writes: each waits at the barrier after its
    # first look, so both see none and both insert; only the UNIQUE keys can stop the second.
    barrier, seen = threading.Barrier(2), threading.local()
    real = access.duplicate

    def duplicate(*a, **kw):
        found = real(*a, **kw)
        if not getattr(seen, "looked", False):
            seen.looked = True
            barrier.wait(timeout=30)
        return found

    monkeypatch.setattr(access, "duplicate", duplicate)
    replies: dict[str, object] = {}
    errors: list[BaseException] = []

    def add(user: str, line: str) -> None:
        eng = make_engine(db_url)
        try:
            replies[user] = Chat(uow_factory(eng), clock).say(user, line)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=add, args=a) for a in (("li", first), ("mei", second))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors, errors
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Customer)).scalar() == 1
    oks = sorted(r.ok for r in replies.values())
    assert oks == [False, True], {u: r.plain() for u, r in replies.items()}
    loser = next(r for r in replies.values() if not r.ok).plain()
    assert "客户已存在" in loser and "#1" in loser, loser
    assert t("zh", "core.internal_error", incident="")[:10] not in loser
    engine.dispose()
