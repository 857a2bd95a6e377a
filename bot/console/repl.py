"""The local console: chat with the bot as a named user; scheduled posts print as they fire."""
from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from typing import TextIO

from bot.console.render import text as render
from commands.core import router
from commands.core.clock import Clock
from commands.core.context import Actor, Invocation
from commands.core.dispatch import Dispatcher

CHANNEL = "console"  # the one team channel of the console


class Console:
    def __init__(self, dispatcher: Dispatcher, clock: Clock, *, user: str, out: TextIO = sys.stdout,
                 echo_input: bool = True):
        self.dispatcher = dispatcher
        self.clock = clock
        self.user = user
        self.out = out
        #: Scripts and piped input show each line before its reply; a terminal already shows it.
        self.echo_input = echo_input
        #: Set by the CLI: after each command the outbox is drained, so a DM it caused prints next.
        self.scheduler = None
        self._lock = threading.Lock()

    def handle_line(self, line: str) -> bool:
        """Run one input line. Returns False when the user asked to quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line in ("/quit", "/exit", "quit", "exit"):
            return False
        if line.startswith("/as "):
            who = line[4:].strip().lstrip("@")
            if who:
                self.user = who
                self._print(f"(now speaking as @{who})\n")
            return True
        command, text = router.split_command(line)
        inv = Invocation(actor=Actor(platform="console", user_id=self.user, name=self.user),
                         channel=CHANNEL, command=command, text=text, received_at=self.clock.now())
        reply = self.dispatcher.handle(inv)
        if self.echo_input:
            self._print(f"@{self.user}> {line}")
        self._print(("" if reply.private else "[#channel] ") + render(reply) + "\n")
        self.flush()
        return True

    def flush(self) -> None:
        """Deliver what is due in the outbox now (DMs caused by the last command)."""
        if self.scheduler is not None:
            self.scheduler.drain()

    def post(self, destination: str, body: str) -> None:
        """Called by the console sender when a scheduled or event-driven message is delivered."""
        where = "#channel" if destination.startswith("channel:") else "DM @" + destination.split(":", 1)[1]
        self._print(f"[{where}] {body}\n")

    def _print(self, s: str) -> None:
        # The scheduler's thread prints too; keep whole messages together.
        with self._lock:
            print(s, file=self.out, flush=True)

    def loop(self, lines: Iterable[str] | None = None, *, interactive: bool = False) -> None:
        if interactive:
            self._print("teambot console. Type /teambot help, /as <user> to switch user, /quit to leave.\n")
            while True:
                try:
                    line = input(f"@{self.user}> ")
                except (EOFError, KeyboardInterrupt):
                    print(file=self.out)
                    return
                if not self.handle_line(line):
                    return
        for line in lines or ():
            if not self.handle_line(line):
                return
