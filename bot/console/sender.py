"""The console's outbox sender: DMs and channel posts are printed as they go out."""
from __future__ import annotations

from bot.console.render import text as render
from commands.core.reply import reply_from_dict
from reminders.outbox import SendResult


class ConsoleSender:
    def __init__(self, console):
        self.console = console

    def send(self, platform: str, destination: str, payload: dict) -> SendResult:
        self.console.post(destination, render(reply_from_dict(payload)))
        return SendResult.sent()
