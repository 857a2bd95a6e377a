"""Slack adapter: the Bolt app (app), its listeners by kind (listeners/) and their bridge to the core
(bridge), Block Kit rendering (render), forms as modals (modals), the users.info cache (users), HTTP
mode on the front (server) and Socket Mode (socket), the app manifest (manifest), the optional
multi-workspace install with Slack OAuth (oauth) and the outbox sender (sender)."""
from __future__ import annotations

from bot.config import Settings
from bot.kit.front import Probes
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher


def run_slack(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, engine=None, on_loop=None,
              probes: Probes | None = None) -> None:
    """Run the Slack adapter until interrupted: Socket Mode when SLACK_APP_TOKEN is set,
    else HTTP mode on settings.http_port (POST /slack/events, GET /healthz; with Slack OAuth on,
    also GET /slack/install and /slack/oauth_redirect). `engine`: the database the OAuth
    installations are kept in. `on_loop` (bot.wiring.on_loop): how a typed command runs on the
    HTTP server's event loop; without it every delivery goes to the thread pool. `probes` answer
    /healthz and /metrics, in Socket Mode too. Blocks."""
    from bot.slack.app import build_app, runs_inline
    from bot.slack.users import UserDirectory

    users = UserDirectory.from_settings(settings)
    # Over HTTP our server checks every signature before Bolt sees the request.
    http_checks = not settings.slack.socket_mode and bool(settings.slack.signing_secret)
    app = build_app(settings, dispatcher, clock, users=users, engine=engine, verified_upstream=http_checks)
    if settings.slack.socket_mode:
        from bot.slack.socket import serve_socket_mode

        serve_socket_mode(settings, app, probes=probes)
    else:
        from bot.slack.server import serve

        serve(settings, app, inline=runs_inline(users) if on_loop is not None else None, on_loop=on_loop,
              probes=probes)
