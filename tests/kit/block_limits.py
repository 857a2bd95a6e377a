"""Slack's Block Kit limits as a validator, for every payload a test captures.

    problems = message_problems(payload)          # chat.postMessage / postEphemeral / ack / response_url
    problems = view_problems(view)                # views.open / update / push / publish
    assert_within_limits(fake, answers)           # every recorded call and every HTTP answer

Limits (https://api.slack.com/reference/block-kit/blocks, .../block-elements, .../surfaces/views):
  * a message holds at most 50 blocks, a modal or Home tab view 100;
  * a section's text at most 3000 characters, at most 10 fields of at most 2000;
  * a context block at most 10 elements; an actions block at most 25;
  * a header's text at most 150; an image's alt_text 2000, its URL 3000;
  * a button's label at most 75 characters, its value 2000, its action_id 255, style primary|danger;
  * a block_id at most 255 and unique in its message or view;
  * an input's label and hint at most 2000; placeholders 150; a static select at most 100 options of
    75 (text) / 150 (value) characters, its initial option one of them; a text input's max_length at
    most 3000 and its initial value no longer; dates YYYY-MM-DD, times HH:MM;
  * a modal's title, submit and close at most 24 characters, and a submit button when it has inputs;
    private_metadata 3000; callback_id 255;
  * `response_action: errors` names input block ids of the view it answers;
  * text objects are never empty; a message's top-level text at most 40,000 characters.
"""
from __future__ import annotations

import json
import re

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELDS = 10
FIELD_TEXT = 2000
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
HEADER_TEXT = 150
BUTTON_LABEL = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
ALT_TEXT = 2000
URL = 3000
LABEL = 2000
PLACEHOLDER = 150
OPTIONS = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
INPUT_MAX = 3000
VIEW_TITLE = 24
METADATA = 3000
CALLBACK_ID = 255
MESSAGE_TEXT = 40_000

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}$")
MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage")
VIEW_METHODS = ("views.open", "views.update", "views.push", "views.publish")


def _loads(value):
    return json.loads(value) if isinstance(value, str) else value


def _text_obj(p: list, where: str, obj, limit: int, *, plain: bool = False) -> None:
    if not isinstance(obj, dict):
        p.append(f"{where}: not a text object: {obj!r}"[:300])
        return
    if obj.get("type") not in (("plain_text",) if plain else ("plain_text", "mrkdwn")):
        p.append(f"{where}: text type {obj.get('type')!r}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        p.append(f"{where}: empty text")
    elif len(text) > limit:
        p.append(f"{where}: text of {len(text)} characters (limit {limit})")


def _element(p: list, where: str, el: dict, action_ids: set) -> None:
    kind = el.get("type")
    aid = el.get("action_id")
    if aid is not None:
        if len(aid) > ACTION_ID:
            p.append(f"{where}: action_id of {len(aid)} characters")
        if aid in action_ids:
            p.append(f"{where}: action_id {aid!r} twice in one block")
        action_ids.add(aid)
    if "placeholder" in el:
        _text_obj(p, where + ".placeholder", el["placeholder"], PLACEHOLDER, plain=True)
    if kind == "button":
        _text_obj(p, where + ".text", el.get("text"), BUTTON_LABEL, plain=True)
        if len(el.get("value") or "") > BUTTON_VALUE:
            p.append(f"{where}: button value of {len(el['value'])} characters")
        if len(el.get("url") or "") > URL:
            p.append(f"{where}: button url too long")
        if el.get("style") not in (None, "primary", "danger"):
            p.append(f"{where}: style {el.get('style')!r}")
    elif kind in ("static_select", "multi_static_select"):
        options = el.get("options") or []
        if not options and not el.get("option_groups"):
            p.append(f"{where}: a select with no options")
        if len(options) > OPTIONS:
            p.append(f"{where}: {len(options)} options (limit {OPTIONS})")
        for i, o in enumerate(options):
            _text_obj(p, f"{where}.options[{i}]", o.get("text"), OPTION_TEXT, plain=True)
            if not o.get("value") or len(o["value"]) > OPTION_VALUE:
                p.append(f"{where}.options[{i}]: value {o.get('value')!r}"[:300])
        if "initial_option" in el and el["initial_option"] not in options:
            p.append(f"{where}: initial_option is not one of the options")
    elif kind == "plain_text_input":
        limit = el.get("max_length", INPUT_MAX)
        if not 1 <= limit <= INPUT_MAX:
            p.append(f"{where}: max_length {limit}")
        if len(el.get("initial_value") or "") > limit:
            p.append(f"{where}: initial_value longer than max_length {limit}")
    elif kind == "datepicker":
        if "initial_date" in el and not _DATE.match(el["initial_date"]):
            p.append(f"{where}: initial_date {el['initial_date']!r}")
    elif kind == "timepicker":
        if "initial_time" in el and not _TIME.match(el["initial_time"]):
            p.append(f"{where}: initial_time {el['initial_time']!r}")
    elif kind == "image":
        if len(el.get("alt_text") or "") > ALT_TEXT or not el.get("alt_text"):
            p.append(f"{where}: image alt_text")
    elif kind in ("mrkdwn", "plain_text"):
        _text_obj(p, where, el, SECTION_TEXT)
    elif kind not in ("users_select", "conversations_select", "channels_select", "number_input",
                      "checkboxes", "radio_buttons", "overflow", "datetimepicker", "email_text_input",
                      "url_text_input", "external_select", "multi_users_select"):
        p.append(f"{where}: unknown element type {kind!r}")


def blocks_problems(blocks: list, limit: int, *, surface: str) -> list[str]:
    p: list[str] = []
    if not isinstance(blocks, list):
        return [f"blocks is not a list: {type(blocks).__name__}"]
    if len(blocks) > limit:
        p.append(f"{len(blocks)} blocks (limit {limit} in a {surface})")
    block_ids: set = set()
    for i, b in enumerate(blocks):
        where = f"blocks[{i}]({b.get('type')})"
        bid = b.get("block_id")
        if bid is not None:
            if len(bid) > BLOCK_ID:
                p.append(f"{where}: block_id of {len(bid)} characters")
            if bid in block_ids:
                p.append(f"{where}: block_id {bid!r} twice")
            block_ids.add(bid)
        kind = b.get("type")
        action_ids: set = set()
        if kind == "section":
            if "text" not in b and "fields" not in b:
                p.append(f"{where}: neither text nor fields")
            if "text" in b:
                _text_obj(p, where + ".text", b["text"], SECTION_TEXT)
            fields = b.get("fields") or []
            if len(fields) > FIELDS:
                p.append(f"{where}: {len(fields)} fields (limit {FIELDS})")
            for j, f in enumerate(fields):
                _text_obj(p, f"{where}.fields[{j}]", f, FIELD_TEXT)
            if "accessory" in b:
                _element(p, where + ".accessory", b["accessory"], action_ids)
        elif kind == "context":
            els = b.get("elements") or []
            if not els or len(els) > CONTEXT_ELEMENTS:
                p.append(f"{where}: {len(els)} elements (1..{CONTEXT_ELEMENTS})")
            for j, e in enumerate(els):
                _element(p, f"{where}.elements[{j}]", e, action_ids)
        elif kind == "actions":
            els = b.get("elements") or []
            if not els or len(els) > ACTIONS_ELEMENTS:
                p.append(f"{where}: {len(els)} elements (1..{ACTIONS_ELEMENTS})")
            for j, e in enumerate(els):
                _element(p, f"{where}.elements[{j}]", e, action_ids)
        elif kind == "header":
            _text_obj(p, where + ".text", b.get("text"), HEADER_TEXT, plain=True)
        elif kind == "image":
            if not b.get("image_url") or len(b["image_url"]) > URL:
                p.append(f"{where}: image_url")
            if not b.get("alt_text") or len(b["alt_text"]) > ALT_TEXT:
                p.append(f"{where}: alt_text")
        elif kind == "input":
            if surface == "message":
                p.append(f"{where}: input blocks belong in modals")
            _text_obj(p, where + ".label", b.get("label"), LABEL, plain=True)
            if "hint" in b:
                _text_obj(p, where + ".hint", b["hint"], LABEL, plain=True)
            if not isinstance(b.get("element"), dict):
                p.append(f"{where}: no element")
            else:
                _element(p, where + ".element", b["element"], action_ids)
        elif kind not in ("divider", "rich_text", "file", "video"):
            p.append(f"{where}: unknown block type {kind!r}")
    return p


def message_problems(payload: dict) -> list[str]:
    """A message as posted (chat.*), as answered (an ack body), or as sent to a response_url."""
    p: list[str] = []
    text = payload.get("text")
    if text is not None and len(text) > MESSAGE_TEXT:
        p.append(f"message text of {len(text)} characters")
    blocks = _loads(payload.get("blocks"))
    if blocks is None:
        if not text and not payload.get("response_action") and not payload.get("delete_original"):
            p.append("a message with neither text nor blocks")
        return p
    return p + blocks_problems(blocks, MESSAGE_BLOCKS, surface="message")


def view_problems(view: dict) -> list[str]:
    view = _loads(view) or {}
    kind = view.get("type")
    p: list[str] = []
    if kind not in ("modal", "home"):
        p.append(f"view type {kind!r}")
    blocks = view.get("blocks") or []
    p += blocks_problems(blocks, VIEW_BLOCKS, surface=kind or "view")
    if len(view.get("private_metadata") or "") > METADATA:
        p.append(f"private_metadata of {len(view['private_metadata'])} characters")
    if len(view.get("callback_id") or "") > CALLBACK_ID:
        p.append("callback_id too long")
    if kind == "modal":
        _text_obj(p, "title", view.get("title"), VIEW_TITLE, plain=True)
        for key in ("submit", "close"):
            if key in view:
                _text_obj(p, key, view[key], VIEW_TITLE, plain=True)
        if any(b.get("type") == "input" for b in blocks) and "submit" not in view:
            p.append("a modal with inputs needs a submit button")
    return p


def errors_problems(answer: dict, view: dict | None) -> list[str]:
    """A `response_action: errors` answer to a view submission."""
    p: list[str] = []
    errors = answer.get("errors")
    if not isinstance(errors, dict) or not errors:
        return ["response_action errors without errors"]
    inputs = {b.get("block_id") for b in (_loads(view) or {}).get("blocks") or [] if b.get("type") == "input"}
    for k, v in errors.items():
        if view is not None and k not in inputs:
            p.append(f"error for {k!r}, which is not an input of the view ({sorted(inputs)})")
        if not isinstance(v, str) or not v:
            p.append(f"empty error message for {k!r}")
    return p


def call_problems(call) -> list[str]:
    """Problems of one FakeSlack call (a message, a view or a response_url post); [] for the rest."""
    if call.method in MESSAGE_METHODS or call.method == "response_url":
        return message_problems(call.params)
    if call.method in VIEW_METHODS:
        return view_problems(call.params.get("view"))
    return []


def answer_problems(body: dict, view: dict | None = None) -> list[str]:
    """Our HTTP answer to Slack: a slash command's message, or a view submission's response_action."""
    if not body:
        return []
    if body.get("response_action") == "errors":
        return errors_problems(body, view)
    if body.get("response_action") in ("update", "push"):
        return view_problems(body.get("view"))
    if body.get("response_action") == "clear":
        return []
    return message_problems(body)


def assert_within_limits(fake, answers=(), views: dict | None = None) -> int:
    """Check every call FakeSlack recorded and every answer given (harness Answers or dicts);
    `views`: view id -> the view a submission answered, to check errors against. Returns how
    many payloads were checked."""
    problems: list[str] = []
    checked = 0
    for call in fake.calls():
        found = call_problems(call)
        if call.method in MESSAGE_METHODS + VIEW_METHODS + ("response_url",):
            checked += 1
        problems += [f"{call.method}: {x}" for x in found]
    for a in answers:
        body = a if isinstance(a, dict) else getattr(a, "json", {})
        view = (views or {}).get(getattr(a, "view_id", None)) if views else getattr(a, "view", None)
        if body:
            checked += 1
        problems += [f"answer: {x}" for x in answer_problems(body, view)]
    assert not problems, "Block Kit limits broken:\n" + "\n".join(problems[:50])
    return checked
