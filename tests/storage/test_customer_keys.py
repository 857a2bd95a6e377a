"""The customer table's UNIQUE keys are what 查重 rests on: one normalised name and one phone per
team, any number of customers without a phone, the same customer in two teams; on both engines."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commands.customers.names import name_key, phone_key
from storage.models import Customer, Team

AT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def _team(u, channel: str) -> int:
    team = Team(platform="slack", channel_id=channel, name=channel, created_by="U1", created_at=AT)
    u.session.add(team)
    u.session.flush()
    return team.id


def _customer(team_id: int, name: str, phone: str | None = None) -> Customer:
    return Customer(team_id=team_id, name=name, name_key=name_key(name), phone=phone, phone_key=phone_key(phone),
                    created_by="U1", created_at=AT, stage_changed_at=AT, active_at=AT, updated_at=AT,
                    owner_id="U1")


def test_team_pool_rules_default(uow):
    with uow() as u:
        _team(u, "C1")
    with uow() as u:
        team = u.session.scalars(select(Team)).one()
    assert (team.pool_days, team.warn_days, team.reclaim_days, team.claim_cap, team.quality_stage,
            team.stuck_days) == (30, 3, 7, 50, "qualified", 14)


@pytest.mark.parametrize("first, second", [
    (("杭州云帆科技有限公司", None), ("杭州 云帆科技", None)),
    (("ACME（中国）", "13800001111"), ("acme", None)),
    (("云帆", "+86 138-0000-1111"), ("星河", "13800001111")),
])
def test_a_second_spelling_of_the_same_customer_cannot_land(uow, first, second):
    with uow() as u:
        team = _team(u, "C1")
        u.session.add(_customer(team, *first))
    with pytest.raises(IntegrityError):
        with uow() as u:
            u.session.add(_customer(team, *second))


def test_customers_without_phone_and_the_same_name_in_another_team_land(uow):
    with uow() as u:
        east, west = _team(u, "C1"), _team(u, "C2")
        u.session.add_all([_customer(east, "云帆"), _customer(east, "星河"), _customer(west, "云帆")])
    with uow() as u:
        assert len(u.session.scalars(select(Customer)).all()) == 3
