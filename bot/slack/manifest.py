"""The Slack app manifest (`teambot manifest`): paste it at https://api.slack.com/apps -> Create New
App -> From an app manifest; the app then works in one step (install it, copy its tokens).

One slash command per entry of commands.core.router.ROUTES (a command module added to the router
shows up here once it has a line in COMMANDS below; without one it still gets a generic line),
the message shortcut "Create task from message", interactivity (buttons, modals, the shortcut),
the Home tab and the events the adapter listens to. In HTTP mode every URL is <url>/slack/events,
and the OAuth redirect URL (<url>/slack/oauth_redirect) is listed for multi-workspace installs.
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from commands.core.router import ROUTES

MODES = ("http", "socket")
EVENTS_PATH = "/slack/events"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
#: The message shortcut (bot/slack/app.py listens to this callback_id).
SHORTCUTS: tuple[dict, ...] = (
    {"name": "Create task from message", "type": "message", "callback_id": "create_task_from_message",
     "description": "把这条消息变成任务 · Turn this message into a task for someone"},
)

#: Route name -> (description, usage hint). Bilingual; Slack shows them in the command picker.
COMMANDS: dict[str, tuple[str, str]] = {
    "team": ("团队与角色 · Team, roles and roster",
             "setup <name> | add @user <role> | remove @user"),
    "progress": ("记录进展与阻塞 · Log progress and blockers",
                 "<note> sales=500k | blocker: <text> | list | undo"),
    "task": ("任务 · Tasks with owners and due dates",
             "add @user <title> due <date> | list | done <id>"),
    "resource": ("资源申请与盘点 · Resource requests and stock",
                 "request <type> <amount> for <purpose> | list | approve <id>"),
    "goal": ("SMART 目标 · SMART goals",
             "set <metric> <target> <period> | list | review"),
    "kpi": ("绩效 · KPIs vs target and last period", "[@user|team] [period] | chart [period] | weights sales=50 ..."),
    "assess": ("考核 · Assessments: sheet, confirm, acknowledge",
               "[period] [@user|team] | confirm <period> @user [score=<n>] | ack | object <period> <reason>"),
    "agenda": ("会议议程 · Meeting agendas: weekly, monthly, kick-off",
               "[weekly|monthly|kickoff <project>] | schedule weekly mon 09:30 [60m]"),
    "activity": ("市场活动 · Marketing activities and their turnout",
                 "add <name> <date> [budget=<n>] | result <id> participants=<n> | list"),
    "kudos": ("表扬同事 · Praise a colleague in the team channel", "@user <reason> | list [period]"),
    "honor": ("荣誉称号 · Confirm an honour (manager)", "@user <title> [period]"),
    "customer": ("客户与公海 · Customers, the pool and handover",
                 "add <name> phone=<n> | list [mine|pool|stale] | show <customer> | claim <id>"),
    "followup": ("客户跟进 · Log a customer follow-up", "<customer> call|visit|wechat|email|meeting <note> [next <date>]"),
    "teambot": ("帮助与设置 · Help and settings",
                "help | lang zh|en | tz <zone> | away until <date> | export <what>"),
}

#: Bot token scopes: the minimal set the adapter uses.
BOT_SCOPES: dict[str, str] = {
    "commands": "receive the slash commands and the “Create task from message” shortcut",
    "chat:write": "post DMs, reminders, agendas and KPI summaries (chat.postMessage / postEphemeral)",
    "im:write": "open a DM with a member (conversations.open) for reminders and approvals",
    "im:history": "read the messages people send to the bot in its DM (message.im events)",
    "users:read": "users.info: a member's locale (include_locale=true) and time zone",
    "files:write": "upload KPI charts and CSV exports (files.uploadV2)",
}

#: app_uninstalled and tokens_revoked need no scope: with them a workspace that removes the app
#: loses its stored installation (multi-workspace mode).
BOT_EVENTS = ("app_home_opened", "message.im", "app_uninstalled", "tokens_revoked")

DESCRIPTION = "销售团队协作：进展、任务、资源、目标与绩效 · Sales team routine: progress, tasks, resources, goals, KPIs"
LONG_DESCRIPTION = (
    "teambot 把销售团队的协作流程搬进聊天：记录进展与阻塞、分配任务并提醒截止、资源申请与审批、"
    "SMART 目标与 KPI 汇总，并在周会前自动发布议程。\n\n"
    "teambot runs a sales team's collaboration routine inside Slack: progress logs and blockers, "
    "task assignment with deadline reminders, resource requests with two-stage approval, SMART goals "
    "and KPI summaries, and a weekly meeting agenda posted before the meeting. Every command works "
    "in Chinese and English."
)


def _base_url(url: str) -> str:
    base = url.strip().rstrip("/")
    return base.removesuffix(EVENTS_PATH)


def _events_url(url: str | None) -> str:
    if not url:
        raise ValueError("HTTP mode needs the public base URL Slack should call, e.g. "
                         "`teambot manifest --url https://bot.example.com` (requests go to "
                         f"<url>{EVENTS_PATH}); or use Socket Mode (`--mode socket`), which needs no URL")
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"the request URL must be an https:// URL Slack can reach, got {url!r}")
    base = url.strip().rstrip("/")
    return base if base.endswith(EVENTS_PATH) else base + EVENTS_PATH


def manifest(mode: str = "http", url: str | None = None) -> dict:
    """The app manifest for HTTP mode (`url` = the public base URL, required) or Socket Mode."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    request_url = _events_url(url) if mode == "http" else None

    commands = []
    for route in ROUTES:
        description, hint = COMMANDS.get(route.name, (f"teambot {route.name}", "help"))
        cmd: dict = {"command": f"/{route.name}", "description": description,
                     "usage_hint": hint, "should_escape": True}
        if request_url:
            cmd["url"] = request_url
        commands.append(cmd)

    oauth: dict = {"scopes": {"bot": list(BOT_SCOPES)}}
    if request_url:
        # Used only in multi-workspace mode (SLACK_CLIENT_ID/SECRET): "Add to Slack" returns here.
        oauth = {"redirect_urls": [_base_url(request_url) + OAUTH_REDIRECT_PATH], **oauth}
    events: dict = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict = {"is_enabled": True}
    if request_url:
        events["request_url"] = request_url
        interactivity["request_url"] = request_url

    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "teambot",
            "description": DESCRIPTION,
            "long_description": LONG_DESCRIPTION,
            "background_color": "#1d4e89",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "teambot", "always_online": True},
            "shortcuts": [dict(sc) for sc in SHORTCUTS],
            "slash_commands": commands,
        },
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": mode == "socket",
            "token_rotation_enabled": False,
        },
    }


def manifest_json(mode: str = "http", url: str | None = None) -> str:
    return json.dumps(manifest(mode, url), ensure_ascii=False, indent=2)
