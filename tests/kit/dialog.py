"""Dialog tables: (user, input) -> reply fragments, run through the real dispatcher and database.

    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东一组")
    run_dialog(chat, [("wang", "/team add @li rep", ["✅", "<@li>"]), ...])

Users are console users (a name is the id), so `@li` mentions resolve without a directory."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import SQLModel

from commands.core import router
from commands.core.clock import Clock
from commands.core.context import Actor, Invocation
from commands.core.dispatch import Dispatcher
from commands.core.reply import Reply
from storage.uow import UowFactory


@dataclass
class Chat:
    uow: UowFactory
    clock: Clock
    platform: str = "console"
    channel: str = "C-sales"
    locales: dict[str, str] = field(default_factory=dict)
    transcript: list[tuple[str, str, Reply]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.uow, self.clock)

    def say(self, user: str, message: str, *, channel: str | None = None, direct: bool = False,
            delivery_key: str | None = None) -> Reply:
        command, text = router.split_command(message)
        inv = Invocation(actor=Actor(platform=self.platform, user_id=user, name=user,
                                     locale=self.locales.get(user)),
                         channel=channel or self.channel, command=command, text=text,
                         received_at=self.clock.now(), delivery_key=delivery_key, direct=direct)
        reply = self.dispatcher.handle(inv)
        self.transcript.append((user, message, reply))
        return reply


def run_dialog(chat: Chat, table: list[tuple]) -> None:
    """Each row: (user, input, fragments that must appear[, fragments that must not][, ok]).
    A fragment list may hold strings; `ok` (default True) is whether the command succeeded."""
    for row in table:
        user, message, expected = row[0], row[1], row[2]
        absent = row[3] if len(row) > 3 else []
        ok = row[4] if len(row) > 4 else True
        reply = chat.say(user, message)
        text = reply.plain()
        for frag in expected:
            assert frag in text, f"{user}: {message!r}\n  expected {frag!r} in:\n{text}"
        for frag in absent:
            assert frag not in text, f"{user}: {message!r}\n  did not expect {frag!r} in:\n{text}"
        assert reply.ok is ok, f"{user}: {message!r} ok={reply.ok}, expected {ok}:\n{text}"
        assert "Traceback" not in text


#: Bookkeeping every delivery leaves, refused or not (a redelivery is answered once): not a write
#: of the command's.
RECEIPTS = "inbound_receipt"


def row_counts(uow: UowFactory) -> dict[str, int]:
    """Rows per table (delivery receipts aside), to prove a refused command wrote nothing."""
    out = {}
    with uow() as u:
        for table in SQLModel.metadata.sorted_tables:
            if table.name != RECEIPTS:
                out[table.name] = u.session.scalar(select(func.count()).select_from(table))
    return out
