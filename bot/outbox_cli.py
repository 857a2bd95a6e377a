"""`teambot outbox`: what is waiting to go out, what could not be delivered, and retrying it.

    teambot outbox                 pending and sending messages (the default)
    teambot outbox --pending       the same
    teambot outbox --dead          messages that can never be delivered as they are, with their error
    teambot outbox --expired       messages whose moment passed before they could be delivered (a
                                   reminder for a day gone by), with the reason; never sent late
    teambot outbox --sent          the most recent deliveries
    teambot outbox retry ID [ID..] put dead or expired messages back in the queue (an expired one
                                   then goes out although it is late)
"""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy.exc import OperationalError, ProgrammingError

from commands.core.reply import Reply, Table
from reminders import outbox
from storage.db import make_engine
from storage.uow import UnitOfWork

USAGE = ("usage: teambot outbox [--pending | --dead | --expired | --sent] [--limit N]\n"
         "       teambot outbox retry ID [ID ...]")


def _short(text: str | None, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _when(dt: datetime | None) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if dt else "-"


def _summary(payload: str) -> str:
    try:
        return json.loads(payload).get("summary", "")
    except (ValueError, AttributeError):
        return ""


def render_table(rows: list, *, errors: bool) -> str:
    header = ("id", "status", "platform", "destination", "tries", "next (UTC)" if not errors else "created (UTC)",
              "error" if errors else "message")
    body = []
    for m in rows:
        body.append((str(m.id), m.status, m.platform, m.destination, str(m.attempts),
                     _when(m.created_at if errors else (m.sent_at or m.not_before)),
                     _short(m.last_error, 100) if errors else _short(_summary(m.payload), 50)))
    return Reply(parts=(Table(header, tuple(body)),)).plain()


def outbox_command(argv: list[str], settings, *, out: TextIO | None = None) -> int:
    """Exit status: 0 done, 1 nothing to retry / not found, 2 usage or database error."""
    out = out or sys.stdout
    args = list(argv)
    limit = 200
    if "--limit" in args:
        i = args.index("--limit")
        try:
            limit = int(args[i + 1])
            del args[i:i + 2]
        except (IndexError, ValueError):
            print(USAGE, file=out)
            return 2
    if args and args[0] in ("-h", "--help", "help"):
        print(USAGE, file=out)
        return 0
    engine = make_engine(settings.database_url)
    try:
        if args and args[0] == "retry":
            ids = args[1:]
            if not ids or not all(x.isdigit() for x in ids):
                print(USAGE, file=out)
                return 2
            status = 0
            with UnitOfWork(engine) as uow:
                for x in ids:
                    if outbox.retry_dead(uow.session, int(x)):
                        print(f"message {x}: queued again", file=out)
                    else:
                        print(f"message {x}: not found, or neither dead nor expired "
                              "(see teambot outbox --dead, --expired)", file=out)
                        status = 1
            return status
        flags = set(args)
        known = {"--pending", "--dead", "--expired", "--sent"}
        if flags - known or len(flags) > 1:
            print(USAGE, file=out)
            return 2
        which = next(iter(flags), "--pending")
        statuses = {"--pending": ("pending", "sending"), "--dead": ("dead",), "--expired": ("expired",),
                    "--sent": ("sent",)}[which]
        errors = which in ("--dead", "--expired")
        with UnitOfWork(engine) as uow:
            rows = outbox.list_messages(uow.session, statuses, limit=limit, newest_first=which == "--sent")
            totals = outbox.counts(uow.session)
        if rows:
            print(render_table(rows, errors=errors), file=out)
        else:
            print(f"no {which[2:]} messages", file=out)
        print("totals: " + (", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "empty"), file=out)
        if errors and rows:
            print("retry one with: teambot outbox retry ID", file=out)
        return 0
    except (OperationalError, ProgrammingError) as e:
        print(f"cannot read the outbox ({type(e.orig).__name__ if e.orig else 'error'}); "
              "is the database migrated? run: teambot db upgrade", file=out)
        return 2
    finally:
        engine.dispose()
