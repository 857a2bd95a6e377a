"""The /goal form: metric, target, period or deadline, for whom -> `/goal set <metric> <target> <when> for ...`."""
from __future__ import annotations

from commands.core import parsing
from commands.core.context import Ctx
from commands.core.form_values import FieldError, amount, required, who
from commands.core.forms import DATE_ERRORS, FeatureForm, labelled
from commands.core.metrics import metric_options
from commands.core.reply import Choice
from commands.i18n import t

_SELF = "me"


def fields(session, ctx: Ctx, teams):
    lang = ctx.lang
    now, tz = ctx.now, ctx.tz
    periods: list[Choice] = []
    for kind in ("month", "quarter", "year"):
        this = parsing.period_of(kind, now, tz)
        nxt = parsing.period_of(kind, this.end, tz)
        periods.append(Choice(this.label, t(lang, f"goals.form.period_this_{kind}", label=this.label)))
        periods.append(Choice(nxt.label, t(lang, f"goals.form.period_next_{kind}", label=nxt.label)))
    for word in ("weekly", "monthly", "quarterly", "yearly"):
        periods.append(Choice(word, t(lang, f"goals.form.period_{word}")))
    scopes = (Choice(_SELF, t(lang, "goals.form.scope_me")), Choice("team", t(lang, "goals.form.scope_team")))
    return (
        labelled(lang, "goals", "metric", "select", options=metric_options(session, teams, lang)),
        labelled(lang, "goals", "target", "amount", max_length=40),
        labelled(lang, "goals", "period", "select", required=False, options=tuple(periods)),
        labelled(lang, "goals", "deadline", "date", required=False),
        labelled(lang, "goals", "scope", "select", options=scopes, initial=_SELF),
        labelled(lang, "goals", "member", "user", required=False),
    )


def compose(v: dict[str, str]) -> str:
    metric = required(v, "metric")
    target = amount("target", required(v, "target"))
    period, deadline = v.get("period", ""), v.get("deadline", "")
    if period and deadline:
        raise FieldError("deadline", "goals.period_or_deadline")
    when = period or (f"by {deadline}" if deadline else "")
    member = v.get("member", "")
    if v.get("scope") == "team":
        if member:
            raise FieldError("member", "goals.team_or_person")
        scope = "for team"
    else:
        # "for me" said outright: a manager's goal without `for` is a question, not a default.
        scope = f"for {who(member)}" if member else "for me"
    return " ".join(x for x in ("/goal set", metric, target, when, scope) if x)


ERRORS = {
    # Metric and target are required and checked by compose(), so "not SMART" means no time.
    "goals.not_smart": "period",
    **dict.fromkeys(("parse.bad_amount", "goals.target_positive", "goals.percent_not_allowed",
                     "goals.percent_range", "goals.relative_no_base", "goals.relative_needs_period"),
                    "target"),
    **dict.fromkeys(("goals.period_over", "parse.bad_period"), "period"),
    **dict.fromkeys(DATE_ERRORS + ("goals.deadline_date_required",), "deadline"),
    "goals.exists": "metric",
    "goals.team_needs_manager": "scope",
    **dict.fromkeys(("goals.others_need_manager", "goals.not_a_member", "goals.team_or_person",
                     "goals.one_person", "core.unknown_person"), "member"),
}

FORM = FeatureForm("goals", fields, compose, ERRORS)
