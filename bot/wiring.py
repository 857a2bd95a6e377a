"""The one composition root: settings -> engine, unit of work, clock, dispatcher."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.config import Settings
from commands.clock import Clock, SystemClock
from commands.dispatch import Dispatcher
from storage import migrate
from storage.db import make_engine
from storage.uow import UowFactory, uow_factory

log = logging.getLogger("teambot")


@dataclass
class Wiring:
    settings: Settings
    engine: Engine
    uow: UowFactory
    clock: Clock
    dispatcher: Dispatcher


def wire(settings: Settings, *, clock: Clock | None = None, upgrade: bool = True) -> Wiring:
    engine = make_engine(settings.database_url)
    if upgrade and migrate.pending(engine):
        log.info("applying database migrations (%s -> %s)", migrate.current_revision(engine),
                 migrate.head_revision())
        migrate.upgrade(engine)
    clock = clock or SystemClock()
    uow = uow_factory(engine)
    dispatcher = Dispatcher(uow, clock, default_lang=settings.default_lang, default_tz=settings.default_tz)
    return Wiring(settings=settings, engine=engine, uow=uow, clock=clock, dispatcher=dispatcher)
