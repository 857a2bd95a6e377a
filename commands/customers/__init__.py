"""/customer (客户) and /followup (跟进): the team's shared customer database (SPEC "/customer").

Grammar (keywords are case-insensitive; Chinese keywords need no space after them):

    add <name> [phone=<n>] [contact=<person>] [stage=<stage>] [owner=@user|pool] [source=<text>] [amount=<n>]
                                                  新建 杭州云帆科技 电话=13800001111 联系人=陈总 阶段=初步接触
        keys: 电话/手机/phone, 联系人/contact, 阶段/stage, 负责人/owner, 来源/渠道/source, 金额/amount;
        = or : (full-width ＝ ： too); a value runs to the next key
    list [mine|pool|stale|team|@user] [<stage>]   列表 [我的|公海|快到期|团队|@某人] [阶段]
    show <customer>                               查看 <客户>
    stage <customer> <stage> [amount=<n>] [reason] 阶段 <客户> 赢单 金额=50万 | 输单 价格太高 (lost needs a reason)
    rename <customer> <new name>                  改名 <客户> <新名称>      (查重 again)
    edit <customer> phone=… contact=… source=…    修改 <客户> 电话=… 联系人=…  (phone 查重 again; phone=none clears)
    claim <customer>                              认领 <客户>   (pool only, within claim_cap; last owner waits reclaim_days)
    release <customer> [reason]                   释放 <客户> [原因]
    transfer <customer|all> @from @to             移交 all @李雷 @韩梅梅  (manager: customers, their follow-up
                                                  reminders, and with `all` the person's open tasks)
    rules [pool_days=30 warn_days=3 reclaim_days=7 cap=50 quality=qualified stuck_days=14]
                                                  规则 [公海天数=30 …]  (= /team rules, commands/team_rules.py)

A <customer> is an id (#12 or 12) or an unambiguous part of the name; an ambiguous one lists the
candidates. Stages: lead 线索 → contacted 初步接触 → qualified 需求确认 → proposal 方案报价 →
negotiation 商务谈判 → won 赢单 | lost 输单. Permissions: commands/customers/access.py.
/followup is commands/customers/followup.py; names.py holds the 查重 normal forms; pool.py the pool rules.
"""
from __future__ import annotations

from commands.customers.access import RULES, SEES_ALL, mask
from commands.customers.form import CUSTOMER_FORM as FORM
from commands.customers.names import looks_like_phone, name_key, phone_key
from commands.customers.parse import (
    KEYWORDS,
    SCOPES,
    AddCustomer,
    ClaimCustomer,
    EditCustomer,
    ListCustomers,
    ReleaseCustomer,
    RenameCustomer,
    SetStage,
    ShowCustomer,
    TransferCustomers,
    parse,
)
from commands.customers.run import run
from commands.customers.stages import CLOSED, HOWS, OPEN_STAGES, STAGES, how_name, stage_name

__all__ = [
    "AddCustomer", "ClaimCustomer", "CLOSED", "EditCustomer", "FORM", "HOWS", "how_name", "KEYWORDS", "ListCustomers",
    "looks_like_phone", "mask", "name_key", "OPEN_STAGES", "parse", "phone_key", "ReleaseCustomer",
    "RenameCustomer", "RULES", "run", "SCOPES", "SEES_ALL", "SetStage", "ShowCustomer", "stage_name", "STAGES",
    "TransferCustomers",
]
