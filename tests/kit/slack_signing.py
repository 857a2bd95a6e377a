"""Requests the way Slack sends them: signed bodies for slash commands, button clicks and events.

    body = slash_body("/progress", "签约ACME 销售额=50万", user_id="U1", channel_id="C1")
    client.post("/slack/events", content=body, headers=signed_headers(body, SECRET))

Signing follows https://api.slack.com/authentication/verifying-requests-from-slack:
`X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}"))`.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import urlencode

SECRET = "test-signing-secret"
_seq = itertools.count(1)


def signature(body: str, secret: str, timestamp: int) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(body: str, secret: str = SECRET, timestamp: int | None = None, *,
                   content_type: str | None = None, retry_num: int | None = None,
                   retry_reason: str = "http_timeout") -> dict:
    """Slack's headers for `body`: timestamp (now unless given), signature, content type (JSON for
    a body starting with `{`, else form) and, with `retry_num`, X-Slack-Retry-Num/-Reason."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    headers = {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, secret, ts),
        "Content-Type": content_type or ("application/json" if body.lstrip().startswith("{")
                                         else "application/x-www-form-urlencoded"),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def new_trigger_id() -> str:
    return f"{int(time.time())}.{next(_seq)}.faketrigger{next(_seq):06d}"


def slash_body(command: str, text: str = "", user_id: str = "U1", channel_id: str = "C1", *,
               trigger_id: str | None = None, response_url: str = "https://hooks.slack.test/commands/T1/1/x",
               team_id: str = "T1", user_name: str | None = None, channel_name: str | None = None,
               api_app_id: str = "A1") -> str:
    """A slash command as Slack posts it (form-encoded). `trigger_id` is fresh unless given;
    `channel_name` defaults to "directmessage" for D-channels."""
    if not command.startswith("/"):
        command = "/" + command
    if channel_name is None:
        channel_name = "directmessage" if channel_id.startswith("D") else "sales"
    return urlencode({
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "teambot-test",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    })


def action_payload(value: str, action_id: str = "tb:click:0", user_id: str = "U1",
                   channel_id: str | None = "C1", *, response_url: str | None = "https://hooks.slack.test/actions/T1/1/x",
                   trigger_id: str | None = None, team_id: str = "T1", label: str = "Go",
                   message_ts: str = "1700000000.000100", container: dict | None = None) -> dict:
    """A block_actions payload for one button click (as a dict)."""
    payload: dict = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": "A1",
        "token": "deprecated-verification-token",
        "team": {"id": team_id, "domain": "teambot-test"},
        "trigger_id": trigger_id or new_trigger_id(),
        "actions": [{
            "type": "button", "action_id": action_id, "block_id": "b1", "value": value,
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "action_ts": f"{time.time():.6f}",
        }],
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": "sales"}
        payload["container"] = container or {"type": "message", "message_ts": message_ts,
                                              "channel_id": channel_id, "is_ephemeral": False}
        payload["message"] = {"type": "message", "ts": message_ts, "text": "", "blocks": []}
    else:
        payload["container"] = container or {"type": "view", "view_id": "V1"}
        payload["view"] = {"id": "V1", "type": "home", "blocks": []}
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def action_body(value: str, action_id: str = "tb:click:0", user_id: str = "U1",
                channel_id: str | None = "C1", **kw) -> str:
    """A button click as Slack posts it: form-encoded `payload=<json>` (see action_payload)."""
    return urlencode({"payload": json.dumps(action_payload(value, action_id, user_id, channel_id, **kw),
                                            ensure_ascii=False)})


def event_body(event: dict, event_id: str | None = None, *, team_id: str = "T1",
               api_app_id: str = "A1", event_time: int | None = None) -> str:
    """An Events API `event_callback` (JSON) wrapping `event`."""
    return json.dumps({
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_seq):08d}",
        "event_time": event_time or int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": "UBOT",
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }, ensure_ascii=False)


def dm_event(text: str, user_id: str = "U1", channel_id: str = "D1", **extra) -> dict:
    """A `message.im` event: a person writing to the bot in its DM."""
    return {"type": "message", "channel_type": "im", "user": user_id, "channel": channel_id,
            "text": text, "ts": f"{time.time():.6f}", "event_ts": f"{time.time():.6f}", **extra}


def view_state(view: dict, values: dict | None = None) -> dict:
    """`view.state.values` as Slack sends it for `view` (a modal we opened) with `values` filled in
    (field name -> value; a field not named keeps its initial value, None clears it)."""
    values = values or {}
    state: dict = {}
    for b in view.get("blocks") or []:
        if b.get("type") != "input":
            continue
        el = b["element"]
        kind, bid = el["type"], b["block_id"]
        given = bid in values
        v = values.get(bid)
        if kind == "users_select":
            entry = {"selected_user": v if given else el.get("initial_user")}
        elif kind == "conversations_select":
            entry = {"selected_conversation": v if given else el.get("initial_conversation")}
        elif kind == "datepicker":
            entry = {"selected_date": v if given else el.get("initial_date")}
        elif kind == "timepicker":
            entry = {"selected_time": v if given else el.get("initial_time")}
        elif kind == "static_select":
            if given:
                option = next((o for o in el.get("options", []) if o["value"] == v), None)
                if v is not None and option is None:
                    raise ValueError(f"{bid}: {v!r} is not one of the options")
            else:
                option = el.get("initial_option")
            entry = {"selected_option": option}
        else:
            entry = {"value": v if given else el.get("initial_value")}
        state[bid] = {el.get("action_id", "v"): {"type": kind, **entry}}
    return {"values": state}


def view_submission_payload(view: dict, values: dict | None = None, user_id: str = "U1", *,
                            view_id: str = "V000001", team_id: str = "T1") -> dict:
    """A `view_submission` of `view` (as views.open got it) with `values` filled in."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "teambot-test"},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": "A1",
        "token": "deprecated-verification-token",
        "trigger_id": new_trigger_id(),
        "view": {
            "id": view_id, "team_id": team_id, "type": "modal", "app_id": "A1", "bot_id": "BBOT",
            "hash": f"{int(time.time())}.hash{next(_seq)}", "state": view_state(view, values),
            **{k: view[k] for k in ("callback_id", "private_metadata", "title", "submit", "close", "blocks")
               if k in view},
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


def view_submission_body(view: dict, values: dict | None = None, user_id: str = "U1", **kw) -> str:
    return urlencode({"payload": json.dumps(view_submission_payload(view, values, user_id, **kw),
                                            ensure_ascii=False)})


def message_shortcut_payload(text: str, user_id: str = "U1", channel_id: str = "C1", *,
                             callback_id: str = "create_task_from_message", message_ts: str = "1764122400.000200",
                             author: str = "U2", response_url: str | None = "https://hooks.slack.test/actions/T1/9/x",
                             team_id: str = "T1") -> dict:
    """A message shortcut (`message_action`) on a message by `author` saying `text`."""
    payload = {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": new_trigger_id(),
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": "teambot-test"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id, "name": user_id.lower()},
        "channel": {"id": channel_id, "name": "sales"},
        "is_enterprise_install": False,
        "api_app_id": "A1",
        "token": "deprecated-verification-token",
        "message_ts": message_ts,
        "message": {"type": "message", "user": author, "ts": message_ts, "text": text},
    }
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def message_shortcut_body(text: str, user_id: str = "U1", channel_id: str = "C1", **kw) -> str:
    return urlencode({"payload": json.dumps(message_shortcut_payload(text, user_id, channel_id, **kw),
                                            ensure_ascii=False)})
