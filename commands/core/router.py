"""Command names and their Chinese aliases -> the feature module that parses and runs them."""
from __future__ import annotations

import importlib
import unicodedata
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Route:
    name: str
    module: str
    aliases: tuple[str, ...]
    #: The dispatcher reads the team's metrics with the context (Ctx.metrics): the command nearly
    #: always needs them, and a separate query is one more round trip to the database.
    with_metrics: bool = False
    #: The feature declares a form (commands.core.forms.FeatureForm, as FORM): a bare command opens it.
    form: bool = False


# One line per command family (DESIGN rule 3).
ROUTES: tuple[Route, ...] = (
    Route("team", "commands.team", ("team", "团队", "小组")),
    Route("progress", "commands.progress", ("progress", "进展", "进度", "日志"), with_metrics=True, form=True),
    Route("task", "commands.tasks", ("task", "tasks", "任务", "待办"), form=True),
    Route("resource", "commands.resources", ("resource", "resources", "资源"), form=True),
    Route("goal", "commands.goals", ("goal", "goals", "目标"), form=True),
    Route("kpi", "commands.kpi", ("kpi", "绩效")),
    Route("assess", "commands.assess", ("assess", "assessment", "assessments", "考核", "考评"), form=True),
    Route("agenda", "commands.agenda", ("agenda", "会议", "议程")),
    Route("activity", "commands.activities", ("activity", "activities", "campaign", "活动", "市场活动"), form=True),
    Route("kudos", "commands.kudos", ("kudos", "表扬", "点赞", "praise", "表彰"), form=True),
    Route("honor", "commands.kudos.honor", ("honor", "honour", "荣誉", "荣誉称号")),
    Route("customer", "commands.customers", ("customer", "customers", "客户", "客户管理"), form=True),
    Route("followup", "commands.customers.followup", ("followup", "follow-up", "follow", "跟进", "客户跟进"),
          form=True),
    Route("teambot", "commands.settings", ("teambot", "help", "设置", "帮助")),
)
# The first Chinese alias of each route is how replies write the command for someone who typed one.

_BY_ALIAS = {a.casefold(): r for r in ROUTES for a in r.aliases}
_BY_NAME = {r.name: r for r in ROUTES}


#: Chinese prose punctuation that stays as typed in notes and reasons; it never carries syntax.
_KEEP = frozenset("，！？（）；")


def normalize(text: str) -> str:
    """Full-width letters, digits and syntax marks (＝ ： ＠ １２ ／, the ideographic space) typed on
    Chinese keyboards become ASCII, so `销售额＝５万` parses like `销售额=5万`."""
    text = text or ""
    if not any(c in _KEEP for c in text):
        return unicodedata.normalize("NFKC", text).strip()
    return "".join(c if c in _KEEP else unicodedata.normalize("NFKC", c) for c in text).strip()


#: What may stand for the slash: '/', and '、', which a Chinese keyboard types for it.
_SLASHES = "/、"


def command_word(command: str) -> str:
    """The command as typed without its slash: '/任务' and '、任务' -> '任务'."""
    return normalize(command).lstrip(_SLASHES)


def find(command: str) -> Route | None:
    return _BY_ALIAS.get(command_word(command).casefold())


def aliases() -> list[str]:
    """Every command alias, each route's in its own order (for did-you-mean)."""
    return [a for r in ROUTES for a in r.aliases]


def module(route: Route) -> ModuleType:
    found = _MODULES.get(route.module)
    if found is None:
        found = _MODULES[route.module] = importlib.import_module(route.module)
    return found


_MODULES: dict[str, ModuleType] = {}


def named(name: str) -> Route | None:
    """The route called `name` ('task'), not an alias."""
    return _BY_NAME.get(name)


def feature_forms() -> dict:
    """Route name -> the form its feature declares (FORM), for the routes with `form=True`, in order."""
    return {r.name: module(r).FORM for r in ROUTES if r.form}


def split_command(message: str) -> tuple[str, str]:
    """For platforms that deliver plain messages: '/task add ...', '任务 新建 ...' or '、任务 列表' ->
    ('task', 'add ...')."""
    msg = normalize(message)
    head, _, rest = msg.partition(" ")
    return head.lstrip(_SLASHES), rest.strip()
