"""WeCom (企业微信) adapter.

  crypto    callback signature, AES-256-CBC decryption/encryption (WXBizMsgCrypt scheme, `cryptography`)
  render    Reply -> markdown / button_interaction template card (buttons carry the typed command)
  inbound   decrypted XML -> Invocation; WeComBot runs it and sends the answer
  http      GET|POST /wecom/callback on the HTTP front (bot.kit.front)
  api       access token, app messages, appchat, group robot webhooks, user names (blocking)
  sender    reminders.outbox Sender: app messages to people, group robots / appchats to teams
"""
from __future__ import annotations

from bot.config import Settings
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher


def run_wecom(settings: Settings, dispatcher: Dispatcher, clock: Clock, **kw) -> None:
    """Serve the WeCom callback on settings.http_port until interrupted. Blocks.
    `robots=` (chat id -> bot.kit.robots.Robot) routes team posts through group robots; `probes=`
    answer /healthz and /metrics."""
    from bot.wecom.http import serve

    serve(settings, dispatcher, clock, **kw)
