"""DingTalk (钉钉) adapter.

  signing   outgoing-robot callback check and custom-robot webhook signing (HmacSHA256)
  render    Reply -> markdown / ActionCard (buttons send their typed command back)
  inbound   robot message JSON -> Invocation; DingTalkBot: the one path of both modes (run, answer)
  http      HTTP mode: POST /dingtalk/events on the HTTP front (bot.kit.front)
  stream    Stream mode with the official dingtalk_stream SDK (no public URL)
  api       access token, robot message APIs, webhook posts (blocking, stdlib HTTP)
  sender    reminders.outbox Sender: team robot webhooks, app robot to groups and people
"""
from __future__ import annotations

from bot.config import Settings
from bot.kit.front import Probes
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher


def run_dingtalk(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, probes: Probes | None = None) -> None:
    """Run the DingTalk adapter until interrupted: Stream mode (DINGTALK_MODE=stream, the default),
    else the HTTP callback on settings.http_port; /healthz (and /metrics) there in both. Blocks."""
    if settings.dingtalk.mode == "http":
        from bot.dingtalk.http import serve

        serve(settings, dispatcher, clock, probes=probes)
    else:
        from bot.dingtalk.stream import run_stream

        run_stream(settings, dispatcher, clock, probes=probes)
