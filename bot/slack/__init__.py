"""Slack adapter: Bolt app (bot.slack.app), Block Kit rendering (render), forms as modals (modals),
users.info cache (users), HTTP mode (server) and Socket Mode (socket), the app manifest (manifest)
and the optional multi-workspace install with Slack OAuth (oauth)."""
from __future__ import annotations

from bot.config import Settings
from commands.clock import Clock
from commands.dispatch import Dispatcher


def run_slack(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, engine=None) -> None:
    """Run the Slack adapter until interrupted: Socket Mode when SLACK_APP_TOKEN is set,
    else HTTP mode on settings.http_port (POST /slack/events, GET /healthz; with Slack OAuth on,
    also GET /slack/install and /slack/oauth_redirect). `engine`: the database the OAuth
    installations are kept in (default: one opened on settings.database_url). Blocks."""
    from bot.slack.app import build_app

    app = build_app(settings, dispatcher, clock, engine=engine)
    if settings.slack.socket_mode:
        from bot.slack.socket import serve_socket_mode

        serve_socket_mode(settings, app)
    else:
        from bot.slack.server import serve

        serve(settings, app)
