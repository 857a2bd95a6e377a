"""`teambot demo`: a sample sales team with the seed's roles, a few weeks of progress, two marketing
activities, a resource allocation whose return is known, monthly targets with assessment weights, and
last month's assessment (考核) confirmed by the manager and acknowledged."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.console.repl import CHANNEL
from bot.demo_customers import seed_customers
from bot.wiring import Wiring
from commands.core import parsing
from commands.core.clock import FixedClock
from commands.core.context import Actor, Invocation
from commands.core.dispatch import Dispatcher
from storage.models import Team

MANAGER = "wang"
TZ = ZoneInfo("Asia/Shanghai")
PEOPLE = (  # user id, role
    ("li", "rep"),
    ("zhao", "rep"),
    ("chen", "account_manager"),
    ("liu", "marketing"),
    ("sun", "resource_admin"),
    ("zhou", "performance_admin"),
)
NOTES = (
    ("拜访华东区三家经销商", {"visits": (2, 5)}),
    ("签约新客户年度框架协议", {"sales": (80_000, 600_000), "customers": (1, 2)}),
    ("回访老客户，收集满意度", {"csat": (80, 98), "visits": (1, 3)}),
    ("线下沙龙活动", {"event_participants": (20, 80)}),
    ("跟进报价，客户内部审批中", {}),
)

#: Kudos between colleagues (giver, text, how long ago): the agenda's 经验分享 lists the recent ones.
KUDOS = (
    ("zhao", "@li 帮我准备了ACME的技术答疑材料，客户很满意", timedelta(days=9)),
    ("chen", "@zhao 周末加班把华东经销商的报价单全部核对完", timedelta(days=2)),
    ("li", "@liu 沙龙活动组织得很好，来了好几位意向客户", timedelta(minutes=10)),
)


def _honour(w: Wiring, say, now: datetime) -> None:
    """Last month's 月度销冠, confirmed by the manager as the monthly summary proposes it."""
    from zoneinfo import ZoneInfo

    from commands.core import parsing
    from commands.kudos import proposals

    at = now - timedelta(minutes=5)
    with w.uow() as uow:
        team = uow.session.scalars(select(Team).where(Team.platform == "console", Team.channel_id == CHANNEL)).one()
        tz = ZoneInfo(team.tz)
        month = parsing.previous(parsing.period_of("month", at, tz), tz)
        found = [p for p in proposals(uow.session, team, month, "zh") if p.title == "top_sales"]
    who = found[0].members[0].user_id if found else PEOPLE[0][0]
    say(MANAGER, "honor", f"@{who} 月度销冠 {month.label}", at)


def seed(w: Wiring, *, weeks: int = 4, rng: random.Random | None = None) -> bool:
    """Create the demo team in the console channel. Returns False if it already exists."""
    rng = rng or random.Random(7)
    with w.uow() as uow:
        if uow.session.scalars(select(Team).where(Team.platform == "console",
                                                  Team.channel_id == CHANNEL)).first():
            return False
    now = w.clock.now()
    say = _sayer(w)
    start = now - timedelta(weeks=weeks)
    # Set up before last month began, so li's monthly targets hold for the month assessed below.
    last_month = parsing.previous(parsing.period_of("month", now, TZ), TZ)
    setup = min(start, last_month.start) - timedelta(days=1)
    say(MANAGER, "team", "setup 华东销售一组 tz=Asia/Shanghai calendar=CN", setup)
    for user, role in PEOPLE:
        say(MANAGER, "team", f"add @{user} {role}", setup)
    for goal in ("sales 1.2m monthly for @li", "customers 8 monthly for @li", "visits 15 monthly for @li"):
        say(MANAGER, "goal", f"set {goal}", setup)
    say(MANAGER, "kpi", "weights sales=50 customers=30 visits=20", setup)
    day = start
    while day < now:
        if day.weekday() < 5:
            for user, _ in PEOPLE[:4]:
                if rng.random() < 0.6:
                    note, metrics = rng.choice(NOTES)
                    values = " ".join(f"{k}={rng.randint(*span)}" for k, span in metrics.items())
                    at = min(day + timedelta(hours=rng.randint(1, 8)), now - timedelta(minutes=5))
                    say(user, "progress", f"{note} {values}".strip(), at)
        day += timedelta(days=1)
    say("zhao", "progress", "阻塞: 客户法务审核合同已两周，需要经理协助推进", now - timedelta(days=1))
    _campaigns_and_returns(say, now)
    for giver, text, ago in KUDOS:
        say(giver, "kudos", text, now - ago)
    _honour(w, say, now)
    seed_customers(say, now)
    # Last month's assessment (考核), confirmed by the manager at the start of this month and acknowledged.
    confirmed = min(last_month.end + timedelta(hours=10), now - timedelta(minutes=2))
    say(MANAGER, "assess", f"confirm {last_month.label} @li 回款稳定，新客户还可以更多", confirmed)
    say("li", "assess", f"ack {last_month.label}", confirmed + timedelta(minutes=1))
    # The weeks above are back-filled history: the scheduler owes the team no posts from before the
    # demo started (it would record each as missed, with a warning, on its first tick).
    with w.uow() as uow:
        team = uow.session.scalars(select(Team).where(Team.platform == "console", Team.channel_id == CHANNEL)).one()
        team.created_at = now
    return True


def _campaigns_and_returns(say, now: datetime) -> None:
    """Two marketing activities (the second compared with the first) and a budget whose return is known."""
    def day(days_ago: int) -> tuple[str, datetime]:
        at = now - timedelta(days=days_ago)
        return at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat(), at

    first, at = day(20)
    say("liu", "activity", f"add 春季客户沙龙 {first} budget=2万", at)
    say("liu", "activity", "result 1 participants=80 leads=12", at + timedelta(hours=3))
    second, at = day(6)
    say("liu", "activity", f"add 新品发布会 {second} budget=5万", at)
    say("liu", "activity", "result 2 participants=104 leads=20", at + timedelta(hours=3))
    _, at = day(15)
    say("sun", "resource", "stock budget 200000 need 250000", at)
    say("zhao", "resource", "request budget 30000 for 华南展会展位", at + timedelta(minutes=10))
    say(MANAGER, "resource", "approve 1", at + timedelta(hours=1))
    say("sun", "resource", "approve 1", at + timedelta(hours=2))
    say("sun", "resource", "allocate 1", at + timedelta(hours=3))
    _, at = day(4)
    say("zhao", "resource", "feedback 1 展会签下两家新客户 sales=26万 customers=5", at)


def _sayer(w: Wiring):
    def say(user: str, command: str, text: str, at: datetime) -> None:
        # Each entry is written at its own time in the past, through the same command path as a user.
        dispatcher = Dispatcher(w.uow, FixedClock(at))
        reply = dispatcher.handle(Invocation(actor=Actor("console", user, user), channel=CHANNEL,
                                             command=command, text=text, received_at=at))
        if not reply.ok:
            raise RuntimeError(f"demo seed failed on {command} {text!r}: {reply.plain()}")
    return say
