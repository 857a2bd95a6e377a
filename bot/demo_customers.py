"""`teambot demo`'s customers: one in every stage of the funnel, follow-ups with next dates (one due
today), a win and a loss, one in the pool (公海) and two about to return to it — all entered through
the same /customer and /followup commands a user types, each at its own time in the past."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

Say = Callable[[str, str, str, datetime], None]

MANAGER = "wang"
#: name, add options, days ago it was added, [(days ago, stage command tail)], [(days ago, who, followup tail)]
CUSTOMERS: tuple[tuple[str, str, int, tuple, tuple], ...] = (
    ("杭州云帆科技", "电话=13800001111 联系人=陈总 阶段=线索 负责人=@li 来源=展会", 20,
     ((16, "初步接触"), (10, "需求确认"), (4, "方案报价 金额=50万")),
     ((18, "li", "电话 初次沟通，对方有采购计划"), (10, "li", "拜访 确认了采购预算"),
      (1, "li", "微信 报价已发，等对方反馈 下次 明天"))),
    ("苏州明远电子", "电话=13900002222 联系人=周经理 阶段=初步接触 负责人=@zhao 来源=老客户介绍", 25,
     ((15, "需求确认"), (9, "方案报价 金额=120万"), (5, "商务谈判 金额=120万")),
     ((5, "zhao", "会议 谈判付款方式 下次 下周三"),)),
    ("宁波海联物流", "联系人=王总 阶段=需求确认 负责人=@li", 24,
     ((14, "方案报价 金额=80万"), (6, "赢单 金额=80万")),
     ((7, "li", "拜访 合同条款确认"),)),
    ("上海申达贸易", "联系人=刘总 阶段=方案报价 负责人=@zhao", 15,
     ((3, "输单 价格高于竞品"),),
     ((8, "zhao", "电话 对方比价中"),)),
    ("常州新材料", "联系人=吴总 阶段=初步接触 负责人=@chen 来源=官网", 12,
     ((6, "需求确认"),),
     ((2, "chen", "邮件 发送了产品资料 下次 下周一"),)),
    # No follow-up for 28 and 29 days: their owners are warned, they return to the pool in a day or two.
    ("南京汇通科技", "联系人=郑经理 阶段=线索 负责人=@li 来源=展会", 28, (), ()),
    ("合肥科创集团", "电话=13700003333 阶段=初步接触 负责人=@zhao", 29, (), ()),
    ("无锡百川机械", "阶段=线索 负责人=公海 来源=市场活动", 10, (), ()),
)


def seed_customers(say: Say, now: datetime) -> None:
    for name, options, added, stages, followups in CUSTOMERS:
        say(MANAGER, "customer", f"新建 {name} {options}", now - timedelta(days=added))
        steps = [(ago, MANAGER, "customer", f"阶段 {name} {tail}") for ago, tail in stages]
        steps += [(ago, who, "followup", f"{name} {tail}") for ago, who, tail in followups]
        for ago, who, command, text in sorted(steps, key=lambda x: -x[0]):
            say(who, command, text, now - timedelta(days=ago, hours=-1))
