"""Neutral Forms (commands/core/forms.py) <-> Slack modals. Pure functions: no I/O.

    view = modal_view(form, {"c": channel_id})      # for views.open
    values = submitted_values(view_state)             # {"title": "...", "due_date": "2026-12-04", ...}

Every field becomes an `input` block whose block_id is the field's name and whose element's
action_id is `v`; a submission's `response_action: errors` names those block ids. Limits kept
(https://api.slack.com/reference/block-kit): title, submit and close at most 24 characters, labels
and hints 2000, placeholders 150, at most 100 options of 75/150 characters (text/value) per select,
private_metadata 3000, callback_id 255, 100 blocks per view.
"""
from __future__ import annotations

import json

from commands.core.reply import Form, FormField

#: callback_id prefix of our modals; the view_submission listener matches `^tb:form:`.
CALLBACK_PREFIX = "tb:form:"
VALUE_ACTION = "v"
MAX_TITLE = 24
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_METADATA = 3000
MAX_VIEW_BLOCKS = 100
MAX_INPUT = 3000
#: Slack shows an error under one input; keep it readable.
MAX_ERROR = 1000


def clip(s: str, limit: int) -> str:
    s = s or ""
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _pt(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": clip(text or " ", limit) or " ", "emoji": True}


def _option(value: str, label: str) -> dict:
    return {"text": _pt(label, MAX_OPTION_TEXT), "value": value[:MAX_OPTION_VALUE]}


#: Field kinds Slack has a picker for: (element type, the key of its initial value).
_PICKERS = {"user": ("users_select", "initial_user"), "channel": ("conversations_select", "initial_conversation"),
            "date": ("datepicker", "initial_date"), "time": ("timepicker", "initial_time")}


def element(f: FormField) -> dict:
    el: dict = {"action_id": VALUE_ACTION}
    if f.kind in _PICKERS:
        el["type"], initial_key = _PICKERS[f.kind]
        if f.kind == "channel":
            el["filter"] = {"include": ["public", "private"], "exclude_bot_users": True,
                            "exclude_external_shared_channels": True}
        if f.initial:
            el[initial_key] = f.initial
    elif f.kind == "select" and f.options:
        el["type"] = "static_select"
        el["options"] = [_option(o.value, o.label) for o in f.options[:MAX_OPTIONS]]
        initial = next((o for o in el["options"] if o["value"] == f.initial), None) if f.initial else None
        if initial is not None:
            el["initial_option"] = initial
    elif f.kind == "number":
        el["type"] = "number_input"
        el["is_decimal_allowed"] = True
        if f.initial:
            el["initial_value"] = f.initial
    else:  # text, multiline, amount (with units: 50万), and a select with nothing to choose from
        el["type"] = "plain_text_input"
        limit = min(f.max_length or MAX_INPUT, MAX_INPUT)
        el["max_length"] = limit
        if f.kind == "multiline":
            el["multiline"] = True
        if f.initial:
            el["initial_value"] = f.initial[:limit]
    if f.placeholder:
        el["placeholder"] = _pt(f.placeholder, MAX_PLACEHOLDER)
    return el


def input_block(f: FormField) -> dict:
    block: dict = {"type": "input", "block_id": f.name[:255], "optional": not f.required,
                   "label": _pt(f.label, MAX_LABEL), "element": element(f)}
    if f.hint:
        block["hint"] = _pt(f.hint, MAX_LABEL)
    return block


def metadata(form: Form, channel: str | None) -> str:
    """What the submission needs besides the values: the form, where it was opened, its state."""
    meta = {"f": form.form_id, "c": channel or "", "s": form.state}
    text = json.dumps(meta, ensure_ascii=False)
    while len(text) > MAX_METADATA and meta["s"]:
        meta["s"] = meta["s"][: len(meta["s"]) - (len(text) - MAX_METADATA) - 1]
        text = json.dumps(meta, ensure_ascii=False)
    return text


def read_metadata(view: dict) -> dict:
    try:
        meta = json.loads((view or {}).get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def modal_view(form: Form, channel: str | None) -> dict:
    return {
        "type": "modal",
        "callback_id": (CALLBACK_PREFIX + form.form_id)[:255],
        "title": _pt(form.title, MAX_TITLE),
        "submit": _pt(form.submit, MAX_TITLE),
        "private_metadata": metadata(form, channel),
        "blocks": [input_block(f) for f in form.fields][:MAX_VIEW_BLOCKS],
    }


def input_ids(view: dict) -> list[str]:
    """The block ids of the inputs a view shows, in order (where errors may be attached)."""
    return [b.get("block_id") for b in (view or {}).get("blocks") or []
            if b.get("type") == "input" and b.get("block_id")]


def _value(v: dict) -> str:
    kind = v.get("type")
    if kind == "users_select":
        return v.get("selected_user") or ""
    if kind == "conversations_select":
        return v.get("selected_conversation") or ""
    if kind == "channels_select":
        return v.get("selected_channel") or ""
    if kind == "datepicker":
        return v.get("selected_date") or ""
    if kind == "timepicker":
        return v.get("selected_time") or ""
    if kind in ("static_select", "external_select"):
        return ((v.get("selected_option") or {}).get("value")) or ""
    return v.get("value") or ""


def submitted_values(view: dict) -> dict[str, str]:
    """view.state.values -> {field name: value as a string} ("" for what was left empty)."""
    out: dict[str, str] = {}
    state = ((view or {}).get("state") or {}).get("values") or {}
    for block_id, actions in state.items():
        if not isinstance(actions, dict):
            continue
        v = actions.get(VALUE_ACTION)
        if v is None and actions:
            v = next(iter(actions.values()))
        if isinstance(v, dict):
            out[block_id] = str(_value(v))
    return out


def errors(field: str, message: str) -> dict:
    """The body of `response_action: errors` for one field."""
    return {"response_action": "errors", "errors": {field: clip(message.strip() or "…", MAX_ERROR)}}
