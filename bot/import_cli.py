"""`teambot import customers FILE --team <name> [--apply] [--lang zh|en]`.

The reading, 查重 and writing are commands/customers/sheet.py and importing.py; this is the command
line around them: find the team, print the report in the team's language (or --lang), exit 0 when the
file could be read (bad rows are reported, not fatal), 2 when it could not (no file, no such team, not
a customer sheet), 1 when the write lost a race with someone adding the same customer.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commands.core.errors import UsageError
from commands.customers import importing, sheet
from commands.i18n import t
from storage.models import Team


def import_customers(w, file: str, team_ref: str, *, apply: bool, lang: str | None = None,
                     out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    speak = lang or "zh"
    try:
        with w.uow() as u:
            team = _team(u.session, team_ref)
            speak = lang or team.lang
            path = Path(file)
            if not path.is_file():
                raise UsageError("import.no_file", file=file)
            p = importing.plan(u.session, team, sheet.read(path.read_bytes()), speak)
            if apply and p.new:
                importing.apply(u.session, p, w.clock.now())
    except UsageError as e:
        print(f"teambot: {t(speak, e.key, **e.args_)}", file=err)
        if e.example:
            print(f"  {t(speak, e.example)}", file=err)
        return 2
    except IntegrityError:
        print(f"teambot: {t(speak, 'import.written_error')}", file=err)
        return 1
    print(importing.report(p, speak, file=path.name, applied=apply), file=out)
    return 0


def _team(session, ref: str) -> Team:
    ref = (ref or "").strip()
    teams = list(session.scalars(select(Team).order_by(Team.id)))
    listed = ", ".join(f"{x.id} {x.name}" for x in teams) or "—"
    if ref.isdigit():
        found = [x for x in teams if x.id == int(ref)] or [x for x in teams if x.name == ref]
    else:
        found = [x for x in teams if x.name == ref] or [x for x in teams if x.name.casefold() == ref.casefold()]
    if not found:
        raise UsageError("import.no_team", team=ref, teams=listed)
    if len(found) > 1:
        raise UsageError("import.ambiguous_team", team=ref, id=found[0].id,
                         teams=", ".join(f"{x.id} ({x.platform} {x.channel_id})" for x in found))
    return found[0]
