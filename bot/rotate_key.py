"""`teambot db rotate-key`, and the start-up check that every stored robot secret can be read."""
from __future__ import annotations

import logging
import sys

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage import migrate, sealed

log = logging.getLogger("teambot")


def rotate_key(engine: Engine, out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    ring = sealed.current()
    if ring is None:
        print(f"teambot: {sealed.ENV} is not set: there is no key to encrypt with. Here is a new one:\n"
              f"  {sealed.new_key()}\nSet {sealed.ENV} to it wherever teambot runs (keep a copy: without it the "
              f"group robots cannot be read back), then run `teambot db rotate-key` again.", file=err)
        return 2
    if migrate.pending(engine):
        migrate.upgrade(engine)
    report = sealed.rotate(engine, SQLModel.metadata, ring)
    done = report.sealed + report.resealed
    print(f"{done} stored secret{'s' if done != 1 else ''} (group robots' webhooks and signing secrets) now "
          f"encrypted with the first key of {sealed.ENV}: {report.sealed} were plaintext, {report.resealed} "
          f"were encrypted already.", file=out)
    for table, key, column in report.unopened:
        print(f"teambot: {table} {'/'.join(map(str, key))} {column}: no key of {sealed.ENV} decrypts it; left "
              f"as it was (add the key it was encrypted with, or set the robot again with /team robot)", file=err)
    if report.unopened:
        return 1
    if sealed.key_count() > 1:
        print(f"Every secret now opens with the first key alone: the others can be removed from {sealed.ENV}.",
              file=out)
    return 0


def warn_unreadable(engine: Engine) -> None:
    """One warning at start-up when stored robot secrets cannot be decrypted (their posts would fail)."""
    bad = sealed.unopenable(engine, SQLModel.metadata, sealed.current())
    if bad:
        log.warning("%d stored group-robot secret(s) cannot be decrypted with %s (%s): posts to those groups "
                    "fail until the key they were encrypted with is added back", len(bad), sealed.ENV,
                    ", ".join(f"{t} {'/'.join(map(str, k))} {c}" for t, k, c in bad))
