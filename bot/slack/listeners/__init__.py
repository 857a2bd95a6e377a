"""Bolt listeners by kind, each module registering its own with `register(app, bridge)` as Slack's
app templates do:

  commands    every slash command; a bare form command opens its modal
  actions     `tb:` buttons, run as the clicking user; a step that needs a text asks in a modal
  views       form submissions -> the typed command; refusals shown on the field
  shortcuts   "Create task from message"
  home        the App Home tab
  events      direct messages, token revocation, and every other event acknowledged
  errors      the last resort: nothing reaches Slack as a 5xx or a traceback
"""
from __future__ import annotations

from slack_bolt import App

from bot.slack.bridge import SlackBridge
from bot.slack.listeners import actions, commands, errors, events, home, shortcuts, views


def register(app: App, bridge: SlackBridge) -> None:
    for kind in (commands, actions, views, shortcuts, home, events):
        kind.register(app, bridge)
    events.register_last(app)
    errors.register(app)
