"""Slack adapter: Bolt app (bot.slack.app), Block Kit rendering (render), forms as modals (modals),
users.info cache (users), HTTP mode (server) and Socket Mode (socket), the app manifest (manifest)
and the optional multi-workspace install with Slack OAuth (oauth)."""
from __future__ import annotations

from bot.config import Settings
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher


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
    `on_loop`. A typed command that calls no Slack API runs on the event loop's thread with the
    dispatcher's engine (`teambot run` passes it): on SQLite the commands of one loop turn share a
    commit (bot.group_commit); on PostgreSQL each statement is awaited (storage.awaited), and
    without the engine there they go to the thread pool with the rest (bench/run.py measures
    both ways)."""
    from bot.group_commit import GroupCommit
    from bot.slack.app import runs_inline
    from storage.awaited import AwaitedEngine
    from storage.db import is_sqlite_url

    if is_sqlite_url(settings.database_url):
        return {"inline": runs_inline(users), "on_loop": GroupCommit(engine) if engine is not None else None}
    if engine is None:
        return {}
    return {"inline": runs_inline(users), "on_loop": AwaitedEngine(engine)}
