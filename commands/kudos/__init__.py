"""/kudos (表扬): public praise between colleagues (公开表彰), honours (荣誉称号) and the team
incentive (团队激励) -- the guide's 精神激励.

Grammar:

    @user[ @user2 ...] <reason>          /表扬 @李雷 拿下ACME年框; also `/kudos to @li for closing ACME`,
                                          a member named without @ (`/表扬 李雷 拿下ACME年框`)
    list [period] [@user]                 列表 [上个月] [@李雷]   (default: this month)
    (nothing)                             the form (a Slack modal; a usage card elsewhere)

Anyone in the team gives kudos to anyone else in it; praising oneself is refused (kudos are what
colleagues say, and they count towards the 最佳协作 honour). Each kudos is kept and posted in the
team channel through the outbox; the next agenda's 经验分享 lists the kudos since the last meeting.

Honours: the monthly KPI summary proposes 月度销冠 (most sales), 拓客之星 (most new customers) and
最佳协作 (most kudos received) with Confirm buttons; the manager confirms with them or /honor
(commands/kudos/honor.py). The team incentive: commands/kudos/incentive.py.
"""
from __future__ import annotations

from commands.kudos.form import FORM
from commands.kudos.honours import of_members, proposal_parts, proposals, title_name
from commands.kudos.incentive import celebrate
from commands.kudos.parse import KEYWORDS, MAX_REASON, TITLES, GiveKudos, ListKudos, parse
from commands.kudos.run import between, counts, received, run

__all__ = [
    "between", "celebrate", "counts", "FORM", "GiveKudos", "KEYWORDS", "ListKudos", "MAX_REASON", "of_members",
    "parse", "proposal_parts", "proposals", "received", "run", "title_name", "TITLES",
]
