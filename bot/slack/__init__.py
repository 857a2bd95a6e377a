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
    from bot.slack.users import UserDirectory

    users = UserDirectory.from_settings(settings)
    # Over HTTP our server checks every signature before Bolt sees the request.
    http_checks = not settings.slack.socket_mode and bool(settings.slack.signing_secret)
    app = build_app(settings, dispatcher, clock, users=users, engine=engine, verified_upstream=http_checks)
    if settings.slack.socket_mode:
        from bot.slack.socket import serve_socket_mode

        serve_socket_mode(settings, app)
    else:
        from bot.slack.server import serve

        serve(settings, app, **http_dispatch(settings, users, engine))


def http_dispatch(settings: Settings, users, engine=None) -> dict:
    """How the HTTP server hands requests to Bolt: bot.slack.server.build_asgi's `inline` and
    `group`. On SQLite a typed command's database work is local and short, so it runs on the
    event loop, and the commands of one loop turn share a commit (bot.group_commit; it needs the
    dispatcher's engine, which `teambot run` passes). On PostgreSQL every statement waits on the
    network: there the thread pool lets several commands wait at once (bench/run.py measured both)."""
    from bot.group_commit import GroupCommit
    from bot.slack.app import runs_inline
    from storage.db import is_sqlite_url

    if not is_sqlite_url(settings.database_url):
        return {}
    return {"inline": runs_inline(users), "group": GroupCommit(engine) if engine is not None else None}
