"""The follow-up due DM over Slack HTTP: the scheduler queues it at 09:00 on the planned working day,
the real outbox sender posts it to FakeSlack, and its three buttons are clicked the way Slack posts a
click: Log follow-up asks for what was done in a one-field form, Snooze moves the reminder to the next
working day, Release returns the customer to the pool."""
from __future__ import annotations

import json

from sqlalchemy import select

from reminders import customer_jobs, schedule
from storage.models import Customer, FollowUp
from storage.uow import uow_factory
from tests.bot.test_slack_resources import buttons, click, deliver, dms
from tests.kit.fixtures import SlackHarness
from tests.reminders.helpers import local

CHANNEL = "C1"
KINDS = {customer_jobs.FOLLOWUP_KIND: schedule.DEFAULT_KINDS[customer_jobs.FOLLOWUP_KIND]}


def _setup(slack: SlackHarness) -> None:
    for user in ("U1", "U2"):
        slack.fake.set_user(user, locale="zh-CN", tz="Asia/Shanghai")
    assert "华东一组" in slack.slash("/team", "setup 华东一组", user="U1", channel=CHANNEL).text
    assert "✅" in slack.slash("/team", "add <@U2|li> rep", user="U1", channel=CHANNEL).text
    r = slack.slash("/customer", "新建 杭州云帆科技 联系人=陈总", user="U2", channel=CHANNEL)
    assert r.status == 200 and "杭州云帆科技" in r.text, r.text
    # Thu 11-26: the next follow-up is planned for Saturday, a non-working day -> Monday 11-30.
    r = slack.slash("/followup", "杭州云帆 电话 报价已发 下次 11月28日", user="U2", channel=CHANNEL)
    assert r.status == 200 and "⚠️" not in r.text, r.text


def _followups(slack: SlackHarness) -> list[tuple]:
    with uow_factory(slack.engine)() as u:
        return [(f.note, f.next_on.isoformat() if f.next_on else None, f.next_state)
                for f in u.session.scalars(select(FollowUp).order_by(FollowUp.id))]


def test_follow_up_due_dm_and_its_buttons_over_slack(slack):
    _setup(slack)
    uow = uow_factory(slack.engine)
    for now in (local("2026-11-27", "09:00"), local("2026-11-28", "09:00")):
        assert not schedule.tick(uow, now, kinds=KINDS, quiet_hours=None).errors
    deliver(slack)
    assert dms(slack, "U2") == [] or all("今天要跟进" not in json.dumps(m, ensure_ascii=False) for m in dms(slack, "U2"))
    slack.clock.set(local("2026-11-30", "09:00"))
    assert not schedule.tick(uow, local("2026-11-30", "09:00"), kinds=KINDS, quiet_hours=None).errors
    deliver(slack)
    [dm] = [m for m in dms(slack, "U2") if "今天要跟进" in json.dumps(m, ensure_ascii=False)]
    text = json.dumps(dm, ensure_ascii=False)
    assert "杭州云帆科技" in text and "陈总" in text and "报价已发" in text
    labels = dict(buttons(dm))
    assert [v.strip() for v in labels.values()] == ["/followup 1", "/followup snooze 1", "/customer release 1"]

    # Snooze: the reminder moves to the next working day and stays pending.
    answer = click(slack, labels["推迟到下个工作日"], "U2")
    assert "推迟到 2026-12-01 周二" in answer, answer
    assert _followups(slack) == [("报价已发", "2026-12-01", "pending")]

    # Log follow-up: a one-field form, then the follow-up is recorded.
    r = slack.click(labels["记录跟进"], user="U2", channel="DU2", trigger_id="trig-log")
    assert r.status == 200
    [view] = slack.views("views.open")
    assert "跟进方式和内容" in json.dumps(view, ensure_ascii=False)
    assert slack.submit(view, {"text": "电话 确认了预算 下次 下周三"}, user="U2").body == ""
    rows = _followups(slack)
    assert rows[-1][0] == "确认了预算" and rows[-1][1:] == ("2026-12-09", "pending")  # 下周三 said on a Monday

    # Release: back to the pool.
    assert "公海" in click(slack, labels["释放到公海"], "U2")
    with uow() as u:
        c = u.session.scalars(select(Customer)).one()
        assert (c.owner_id, c.last_owner_id) == (None, "U2")
