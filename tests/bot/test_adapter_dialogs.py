"""Every command's console dialog tests, replayed through the DingTalk and the WeCom adapters.

How: the console tests in tests/commands build a `tests.kit.dialog.Chat` and feed it rows with
`tests.kit.dialog.run_dialog`. Here each listed test function is called unchanged, with (pytest's
monkeypatch, undone after each case) the module's `Chat` and `run_dialog` names — and
`tests.kit.dialog.Chat`, used by tests/commands/kpi_data.world — replaced by `AdapterChat` and
`adapter_run_dialog`:

  * message in: `AdapterChat.say(user, text)` posts the message over the adapter's real HTTP route —
    DingTalk: a signed outgoing-robot callback to POST /dingtalk/events; WeCom: an encrypted callback
    to POST /wecom/callback (both through Starlette's TestClient into the real dispatcher and DB).
  * rendered reply out: DingTalk: the HTTP response body (markdown / actionCard text); WeCom: the app
    messages the fake WeCom API (tests/kit/fake_wecom.py) received while the callback ran.
  * `.plain()` is that rendered text (a str whose `in` normalises the needle like the text, so the
    tests' own literal checks compare modulo markup); buttons listed as typed commands in markdown
    (`> 完成：`/task done 1``: WeCom when the reply does not fit a template card, DingTalk beyond 5
    buttons) read as Reply.plain()'s `[完成] (/task done 1)`; DingTalk's leading `@sender ` in a group
    is dropped after checking atUserIds[0] is the sender. `.parts` are the neutral reply's parts with
    platform ids shown as console names. `.ok` comes from the neutral Reply the dispatcher returned (a
    spy on Dispatcher.handle), `.private` is whether the adapter actually delivered the answer
    privately (WeCom: only to the person's chat with the app; DingTalk: in a 1:1 conversation, or, for
    a group message, as the 1:1 message the adapter queued in the outbox for the sender while the
    group got only the `@sender 已私信回复你。` notice: then the text is that queued message's payload,
    rendered like DingTalkSender renders it).
  * `row_counts` ignores `inbound_receipt` (the adapter's per-message dedupe record) and the outbox
    rows carrying DingTalk's private answers (dedupe key `dingtalk:private:<msgId>`), and a module's
    `_outbox(uow)` helper does not list those rows: they are the adapter's delivery of the reply, not
    a message the command sent; the generated
    KPI/goal progress (tests/commands/kpi_data.generate) is written under the platform ids; a test's
    `session.get(UserPref, ("console", name))` reads the adapter's (platform, id) key.
  * The permission matrices run only the parameter sets in PARAM_SUBSET through the adapters.
  * `adapter_run_dialog` checks the same (user, input, expected, absent, ok) rows as
    tests/kit/dialog.run_dialog, after normalising both sides alike (`normalize`): mentions
    `<@id>` / `<@id|name>` -> `@id`, `*` and backticks dropped, DingTalk's markdown hard breaks
    ("  \\n") -> "\\n".

Users: console names are ids. A name that is a valid platform id (`li`, `wang`, `alice`) stays the
staff id / userid; any other (`李雷`, `韩梅梅`) gets a stable ASCII id `uzhNN` (DingTalk pairs and WeCom
resolves only id-shaped mentions) and the rendered text maps `@uzhNN` back to `@李雷`. A typed `@name`
becomes, on DingTalk, `@name` in the text with the staff id in atUsers (what the client sends); on
WeCom, `@userid` (the id the adapter looks up with /cgi-bin/user/get, which the fake knows).
Channels: the console channel id is the DingTalk conversationId / WeCom ChatId; `direct=True` is a
1:1 conversation (DingTalk conversationType 1, WeCom no ChatId).

Replayed (each through both adapters; parametrised tests with every parameter set, except
PARAM_SUBSET):
{REPLAYED_DOC}

Not replayed (they check the neutral Reply's parts, outbox payloads or parsing, not a dialog), and
cases skipped for a product reason, are listed in NOT_REPLAYED and SKIPS below, each with its reason
(both empty at present: nothing is skipped). The one exception to "skip" is `Chat.locales` (a
console-only per-user locale): a case using it would skip with that reason; none of the replayed do.
"""
from __future__ import annotations

import base64
import dataclasses
import importlib
import itertools
import json
import re
import warnings
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from bot.config import DingTalkSettings, Settings, WeComSettings
from bot.dingtalk import render as dt_render
from bot.dingtalk.http import build_asgi as dt_asgi
from bot.dingtalk.inbound import private_dm_key
from bot.wecom import render as wc_render
from bot.wecom.http import build_asgi as wc_asgi
from commands.core.dispatch import Dispatcher
from commands.core.reply import Reply, reply_from_dict
from storage.db import make_engine
from storage.models import OutboxMessage, UserPref
from storage.uow import uow_factory
from tests.commands import kpi_data
from tests.kit import dialog as kit_dialog
from tests.kit.fake_dingtalk import FakeDingTalk, robot_message, signed_headers
from tests.kit.fake_wecom import FakeWeCom, encrypted_callback, text_xml

DT_KEY, DT_SECRET = "dingappkey", "dingappsecret-test"
WC_CORP, WC_SECRET, WC_TOKEN = "wwcorp", "s3cret", "teambotToken"
WC_AES = base64.b64encode(bytes(range(32))).decode().rstrip("=")

_ID_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_AT = re.compile(r"(?<![A-Za-z0-9._%+\-@＠﹫])[@＠﹫](?P<name>[^\s@＠﹫<>,，;；:：()（）\[\]【】{}!！?？。、\"“”'‘’《》|]+)")
SELF_NAMES = frozenset({"me", "myself", "self", "我", "自己", "本人"})
_MENTION = re.compile(r"<@([^<>|]+)(?:\|[^<>]*)?>")
_msg_ids = itertools.count(1)


def normalize(s: str) -> str:
    s = _MENTION.sub(r"@\1", s).replace("*", "").replace("`", "")
    s = re.sub(r"[ \t]*[:：][ \t]*", ":", s)  # field labels: "截止: x" (console) / "截止：x" (DingTalk)
    return re.sub(r"[ \t]+\n", "\n", s)


class NText(str):
    """Normalised rendered text; `x in it` normalises `x` the same way, so a test's own literal
    (`"*Inventory* of team …"`, `"缺少：S/R。"`) is compared with the rendered text modulo markup."""

    def __contains__(self, needle) -> bool:
        return str.__contains__(self, normalize(needle) if isinstance(needle, str) else needle)


#: DingTalk (markdown listing when a card has too many buttons) and WeCom (markdown fallback when the
#: reply does not fit a template card) list buttons as typed commands: `> 完成：`/task done 1``.
#: Read back as Reply.plain()'s button line `[完成] (/task done 1)`.
_LISTED_BUTTON = re.compile(r"^(?:> )?(?P<label>[^\n`>][^\n`]*?)：`(?P<cmd>/[^`\n]+)`[ \t]*$", re.M)


def listed_buttons(text: str) -> str:
    return _LISTED_BUTTON.sub(lambda m: f"[{m.group('label')}] ({m.group('cmd')})", text)


def _map_ids(value, ids: "Ids"):
    if isinstance(value, str):
        return ids.back(value)
    if isinstance(value, tuple):
        return tuple(_map_ids(v, ids) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _map_ids(getattr(value, f.name), ids)
                                             for f in dataclasses.fields(value)})
    return value


@dataclass
class Rendered:
    """What an adapter delivered for one message, shaped like a Reply for the console tests."""
    text: str
    ok: bool
    private: bool
    neutral: Reply
    ids: "Ids"

    def plain(self) -> str:
        return NText(self.text)

    @property
    def parts(self):  # the neutral reply's parts, platform ids shown as the console names again
        return _map_ids(self.neutral.parts, self.ids)


class Ids:
    """console name <-> platform id."""

    def __init__(self) -> None:
        self.to_platform: dict[str, str] = {}
        self.to_console: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self.to_platform:
            pid = name if _ID_OK.fullmatch(name) else f"uzh{len(self.to_console) + 1:02d}"
            self.to_platform[name], self.to_console[pid] = pid, name
        return self.to_platform[name]

    def back(self, text: str) -> str:
        return re.sub(r"uzh\d\d", lambda m: self.to_console.get(m.group(0), m.group(0)), text)


def _mentions(text: str) -> list[re.Match]:
    return [m for m in _AT.finditer(text) if m.group("name").rstrip(".").casefold() not in SELF_NAMES]


class _Spy:
    def __init__(self, dispatcher: Dispatcher):
        self.replies: list[Reply] = []
        real = dispatcher.handle

        def handle(inv):
            reply = real(inv)
            self.replies.append(reply)
            return reply

        dispatcher.handle = handle


@dataclass
class AdapterChat:
    """tests.kit.dialog.Chat's interface, through one adapter's HTTP route."""
    adapter: str
    env: "AdapterEnv"
    uow: object
    clock: object
    platform: str = "console"
    channel: str = "C-sales"
    locales: dict[str, str] = field(default_factory=dict)
    transcript: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.uow, self.clock)
        self.spy = _Spy(self.dispatcher)
        if self.adapter == "dingtalk":
            settings = Settings(platform="dingtalk", database_url="sqlite://", dingtalk=DingTalkSettings(
                app_key=DT_KEY, app_secret=DT_SECRET, mode="http", api_url=self.env.fake.url))
            app = dt_asgi(settings, self.dispatcher, self.clock)
        else:
            settings = Settings(platform="wecom", database_url="sqlite://", wecom=WeComSettings(
                corp_id=WC_CORP, agent_id="1000002", secret=WC_SECRET, token=WC_TOKEN, encoding_aes_key=WC_AES,
                api_url=self.env.fake.url))
            app = wc_asgi(settings, self.dispatcher, self.clock)
        self.client = TestClient(app, raise_server_exceptions=False)
        self.env.clients.append(self.client)

    def say(self, user: str, message: str, *, channel: str | None = None, direct: bool = False,
            delivery_key: str | None = None) -> Rendered:
        if self.locales.get(user):
            pytest.skip("a per-user locale (Chat.locales) is console-only: the adapters take the language "
                        "from /teambot lang, not from the platform")
        before = len(self.spy.replies)
        ids = self.env.ids
        uid = ids(user)
        if self.adapter == "dingtalk":
            text, private = self._dingtalk(uid, user, message, channel or self.channel, direct)
        else:
            text, private = self._wecom(uid, user, message, channel or self.channel, direct)
        assert len(self.spy.replies) == before + 1, f"{user}: {message!r}: the dispatcher ran " \
                                                    f"{len(self.spy.replies) - before} times"
        neutral = self.spy.replies[-1]
        reply = Rendered(normalize(ids.back(listed_buttons(text))), neutral.ok, private, neutral, ids)
        self.transcript.append((user, message, reply))
        return reply

    # -- DingTalk: signed callback in, HTTP response body out ----------------------------------------
    def _dingtalk(self, uid: str, user: str, message: str, channel: str, direct: bool) -> tuple[str, bool]:
        at_ids = []
        if not direct:
            for m in _mentions(message):
                at_ids.append(self.env.ids(m.group("name").rstrip(".")))
        body = robot_message(message, sender=uid, nick=user, conversation=f"dm-{uid}" if direct else channel,
                             group=not direct, at_staff_ids=at_ids, msg_id=f"msgAD{next(_msg_ids):07d}",
                             created_ms=int(self.clock.now().timestamp() * 1000),
                             session_webhook=self.env.fake.session_url())
        raw = json.dumps(body, ensure_ascii=False).encode()
        before = len(self.env.fake.calls("session"))
        r = self.client.post("/dingtalk/events", content=raw,
                             headers=signed_headers(DT_SECRET, int(self.clock.now().timestamp() * 1000)))
        assert r.status_code == 200 and r.text == "", r.text
        [post] = self.env.fake.calls("session")[before:]
        answer = post.json
        at_sender = False
        if not direct:
            at_sender = (answer.get("at") or {}).get("atUserIds", [None])[0] == uid
            assert at_sender, f"{user}: {message!r}: a group answer must @ the sender: {answer}"
        text = dt_render.message_text(answer)
        if not direct:
            # A private answer: queued in the outbox as a 1:1 message to the sender (the one thing
            # the adapter queues under this message's id); the group got only the notice.
            with self.uow() as u:
                rows = list(u.session.scalars(select(OutboxMessage).where(
                    OutboxMessage.dedupe_key == private_dm_key(body["msgId"]))))
                dm = [(r.destination, r.platform, json.loads(r.payload)) for r in rows]
            if dm:
                [(destination, platform, payload)] = dm
                assert (destination, platform) == (f"user:{uid}", "dingtalk"), dm
                assert text in (f"@{uid} 已私信回复你。", f"@{uid} I've replied to you in a direct message."), \
                    f"{user}: {message!r}: the group should see only the notice: {text}"
                dm_message = dt_render.render(reply_from_dict(payload), group=False)
                assert "at" not in dm_message
                return dt_render.message_text(dm_message), True
        if at_sender and text.startswith(f"@{uid} "):  # the @ of the person answered, checked above
            text = text[len(uid) + 2:]
        return text, direct

    # -- WeCom: encrypted callback in, messages sent through the fake WeCom API out ---------------------
    def _wecom(self, uid: str, user: str, message: str, channel: str, direct: bool) -> tuple[str, bool]:
        fake: FakeWeCom = self.env.fake
        fake.set_user(uid, user)
        typed, pos = [], 0
        for m in _mentions(message):
            name = m.group("name").rstrip(".")
            pid = self.env.ids(name)
            fake.set_user(pid, name)
            typed += [message[pos:m.start("name")], pid]
            pos = m.start("name") + len(name)
        typed.append(message[pos:])
        xml = text_xml(uid, "".join(typed), f"8{next(_msg_ids):018d}", chat_id=None if direct else channel,
                       corp_id=WC_CORP)
        before = len(fake.calls())
        query, body = encrypted_callback(WC_TOKEN, WC_AES, WC_CORP, xml)
        r = self.client.post(f"/wecom/callback?{query}", content=body.encode(),
                             headers={"Content-Type": "text/xml; charset=utf-8"})
        assert r.status_code == 200 and r.text == "", r.text
        sent = [c for c in fake.calls()[before:] if c.method in ("message.send", "appchat.send")]
        assert sent, f"{user}: {message!r} got no answer"
        assert all(c.ok for c in sent), sent
        private = all(c.method == "message.send" and c.json.get("touser") == uid for c in sent)
        return "\n".join(wc_render.message_text(c.json) for c in sent), private


@dataclass
class AdapterEnv:
    adapter: str
    fake: object
    ids: Ids = field(default_factory=Ids)
    clients: list = field(default_factory=list)

    def chat(self, uow, clock, **kw) -> AdapterChat:
        return AdapterChat(self.adapter, self, uow, clock, **kw)


def adapter_run_dialog(chat: AdapterChat, table: list[tuple]) -> None:
    """tests.kit.dialog.run_dialog's rows, fragments normalised like the rendered text."""
    for row in table:
        user, message, expected = row[0], row[1], row[2]
        absent = row[3] if len(row) > 3 else []
        ok = row[4] if len(row) > 4 else True
        reply = chat.say(user, message)
        text = reply.plain()
        where = f"[{chat.adapter}] {user}: {message!r}"
        for frag in expected:
            assert normalize(frag) in text, f"{where}\n  expected {frag!r} in:\n{text}"
        for frag in absent:
            assert normalize(frag) not in text, f"{where}\n  did not expect {frag!r} in:\n{text}"
        assert reply.ok is ok, f"{where} ok={reply.ok}, expected {ok}:\n{text}"
        assert "Traceback" not in text


# --- what is replayed -------------------------------------------------------------------------------

REPLAYED: dict[str, list[str]] = {
    "tests.commands.test_tasks": [
        "test_task_dialog_zh", "test_task_dialog_en", "test_due_dates_are_echoed",
        "test_bad_adds_are_refused_and_write_nothing", "test_past_or_unreadable_new_due_date_is_refused_and_changes_nothing",
        "test_manager_assigns_anyone_others_only_themselves", "test_permission_rules",
        "test_a_rep_who_created_a_task_may_take_it_back_but_not_give_it_away", "test_refused_permission_messages",
        "test_a_task_of_another_team_is_not_found", "test_out_of_range_ids_are_not_found_and_bad_ids_are_usage_errors",
        "test_state_changes", "test_rescheduling_or_reassigning_clears_a_snooze", "test_reopening_an_overdue_task_says_so",
        "test_list_marks_overdue_and_snoozed_and_sorts_by_due", "test_list_needs_membership",
        "test_help_lists_the_task_command", "test_usage_errors_show_a_task_example_not_a_missing_key",
    ],
    "tests.commands.test_resources": [
        "test_permission_matrix", "test_refusals_say_who_may", "test_walk_through_zh_from_request_to_feedback",
        "test_walk_through_en_with_partial_allocation_and_no_spaces_zh", "test_nothing_changes_after_the_end",
        "test_allocate_before_review_is_refused_even_for_an_admin", "test_double_approve_is_refused_for_every_stage",
        "test_reject_needs_a_reason_and_the_requester_hears_it", "test_stock_never_goes_negative",
        "test_stock_table_is_have_vs_need", "test_lists_pending_mine_all", "test_a_request_of_another_team_is_not_found",
        "test_usage_errors_answer_in_the_callers_language_with_an_example",
    ],
    "tests.commands.test_goals": [
        "test_smart_check_names_the_missing_letters", "test_smart_check_in_english", "test_who_may_set_which_goals",
        "test_relative_goal_is_computed_at_set_time_and_echoed", "test_relative_goal_without_a_base_is_refused",
        "test_achievable_warning_names_the_best_past_period", "test_review_numbers", "test_adjust_keeps_history",
        "test_month_review_met_missed_and_suggestions",
    ],
    "tests.commands.test_kpi": [
        "test_current_quarter_with_targets_and_pace", "test_a_members_month_with_recurring_and_exact_targets",
        "test_english_and_the_last_value_metric", "test_metric_add_is_for_managers_and_names_must_be_free",
    ],
    "tests.commands.test_agenda": [
        "test_schedule_is_for_managers_and_moves_the_agenda_post", "test_meeting_after_a_holiday_moves_to_the_next_working_day",
    ],
    "tests.commands.test_settings": [
        "test_help_lists_every_command_in_both_languages", "test_users_own_language_wins_over_team_language",
        "test_time_zone_and_away",
    ],
}

#: Dialog-free or neutral-Reply-only tests of those modules, not replayed.
NOT_REPLAYED: dict[str, str] = {}

#: The big permission matrices run in full on the console (tests/commands); through each adapter,
#: for runtime, only these parameter sets: every step/action once allowed and once refused.
PARAM_SUBSET: dict[str, list[dict]] = {
    "test_resources::test_permission_matrix": [
        {"step": step, "actor": actor} for step, actors in {
            "request": ("li", "stranger"), "approve@submitted": ("wang", "li"),
            "reject@submitted": ("wang", "zhao"), "approve@approved": ("zhao", "wang"),
            "reject@approved": ("zhao", "li"), "allocate@reviewed": ("zhao", "wang"),
            "feedback@allocated": ("li", "wang"), "cancel@submitted": ("li", "wang"),
            "cancel@approved": ("li", "zhao"), "cancel@reviewed": ("li", "chen"),
            "stock": ("zhao", "wang"), "show": ("chen", "stranger"), "list": ("mei", "stranger"),
        }.items() for actor in actors],
    "test_tasks::test_permission_rules": [
        {"action": action, "position": position} for action, positions in {
            "done": ("assignee", "creator"), "snooze": ("manager", "other"), "reopen": ("creator", "assignee"),
            "due": ("creator", "other"), "assign": ("manager", "assignee"), "cancel": ("creator", "other"),
        }.items() for position in positions],
}

#: (adapter, "module::test") -> the product reason the case cannot pass through that adapter.
SKIPS: dict[tuple[str, str], str] = {}

__doc__ = __doc__.replace("{REPLAYED_DOC}", "\n".join(
    f"  {mod.rsplit('.', 1)[1]}: " + ", ".join(names) for mod, names in REPLAYED.items()))


def _param_sets(fn) -> list[tuple[str, dict]]:
    sets: list[tuple[str, dict]] = [("", {})]
    for mark in reversed(getattr(fn, "pytestmark", [])):
        if mark.name != "parametrize":
            continue
        names = [n.strip() for n in (mark.args[0].split(",") if isinstance(mark.args[0], str) else mark.args[0])]
        values = []
        for i, v in enumerate(mark.args[1]):
            v = v.values if hasattr(v, "values") and hasattr(v, "marks") else v
            v = (v,) if len(names) == 1 else tuple(v)
            values.append((str(i), dict(zip(names, v))))
        sets = [((a + "-" + b).strip("-"), {**pa, **pb}) for a, pa in sets for b, pb in values]
    return sets


def _cases():
    out = []
    for mod_name, names in REPLAYED.items():
        mod = importlib.import_module(mod_name)
        for name in names:
            fn = getattr(mod, name)
            key = f"{mod_name.rsplit('.', 1)[1]}::{name}"
            subset = PARAM_SUBSET.get(key)
            for pid, params in _param_sets(fn):
                if subset is not None and params not in subset:
                    continue
                for adapter in ("dingtalk", "wecom"):
                    marks = []
                    reason = SKIPS.get((adapter, key)) or SKIPS.get((adapter, f"{key}[{pid}]"))
                    if reason:
                        marks.append(pytest.mark.skip(reason=reason))
                    out.append(pytest.param(adapter, mod_name, name, params,
                                            id=f"{adapter}-{key}" + (f"[{pid}]" if pid else ""), marks=marks))
    return out


_PRIVATE_DM = private_dm_key("%")


def _adapter_row_counts(uow) -> dict[str, int]:
    """kit row_counts without `inbound_receipt`: the adapter records each message id it acted on
    (so a redelivery never runs twice) -- also for a refused command. That receipt is the adapter's
    bookkeeping, not a change the command made; the console Chat sends no message id, so its runs
    write none. Likewise the outbox rows carrying DingTalk's private answers to group messages (a
    refusal in a group is delivered 1:1 through the outbox) are the adapter's delivery of the reply."""
    counts = kit_dialog.row_counts(uow)
    counts.pop("inbound_receipt", None)
    with uow() as u:
        private = u.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.dedupe_key.like(_PRIVATE_DM)))
    counts[OutboxMessage.__tablename__] -= private
    return counts


def _without_private_dms(real):
    """A module's `_outbox(uow)` -> [(destination, dedupe_key, payload)], without the rows that carry
    DingTalk's private answers (the adapter's delivery of the reply, not a message the command sent)."""

    def outbox(uow):
        return [row for row in real(uow) if not (row[1] or "").startswith(_PRIVATE_DM[:-1])]

    return outbox


class _UowView:
    """The test's uow, with `session.get(UserPref, ("console", name))` read as the adapter's key
    (platform, platform id): preferences are stored per platform, and the tests were written for
    the console platform."""

    def __init__(self, uow, adapter: str, ids: Ids):
        self._uow, self._adapter, self._ids = uow, adapter, ids

    def __call__(self, *a, **kw):
        view = self

        class _Ctx:
            def __enter__(self_inner):
                u = view._uow(*a, **kw)
                self_inner.cm = u
                inner = u.__enter__()
                real_get = inner.session.get

                def get(model, key, *ga, **gkw):
                    if model is UserPref and isinstance(key, tuple) and key and key[0] == "console":
                        key = (view._adapter, view._ids(key[1]))
                    return real_get(model, key, *ga, **gkw)

                inner.session.get = get
                self_inner.inner, self_inner.real_get = inner, real_get
                return inner

            def __exit__(self_inner, *exc):
                self_inner.inner.session.get = self_inner.real_get
                return self_inner.cm.__exit__(*exc)

        return _Ctx()

    def __getattr__(self, name):
        return getattr(self._uow, name)


def _mapped_generate(ids: Ids):
    """kpi_data.generate writing progress under the platform ids the adapter stores members under
    (李雷 -> uzh01), returning its records under the console names the tests compute with."""
    real = kpi_data.generate

    def generate(s, team, *, users=kpi_data.REPS, **kw):
        data = real(s, team, users=tuple(ids(u) for u in users), **kw)
        back = {ids(u): u for u in users}
        return kpi_data.Data(
            values=[dataclasses.replace(v, user=back.get(v.user, v.user)) for v in data.values],
            entries=[dataclasses.replace(e, user=back.get(e.user, e.user)) for e in data.entries])

    return generate


@pytest.mark.parametrize("adapter, mod_name, name, params", _cases())
def test_dialog_through_adapter(adapter, mod_name, name, params, sqlite_url, clock, tmp_path, monkeypatch):
    import inspect

    mod = importlib.import_module(mod_name)
    fn = getattr(mod, name)
    engine = make_engine(sqlite_url)
    uow = uow_factory(engine)
    fake = FakeDingTalk() if adapter == "dingtalk" else FakeWeCom(corp_id=WC_CORP, secret=WC_SECRET)
    fake.start()
    env = AdapterEnv(adapter, fake)
    try:
        factory = env.chat
        for target in (mod, kit_dialog):
            if hasattr(target, "Chat"):
                monkeypatch.setattr(target, "Chat", factory)
        if hasattr(mod, "run_dialog"):
            monkeypatch.setattr(mod, "run_dialog", adapter_run_dialog)
        if hasattr(mod, "row_counts"):
            monkeypatch.setattr(mod, "row_counts", _adapter_row_counts)
        if hasattr(mod, "_outbox"):
            monkeypatch.setattr(mod, "_outbox", _without_private_dms(mod._outbox))
        monkeypatch.setattr(kpi_data, "generate", _mapped_generate(env.ids))
        view = _UowView(uow, adapter, env.ids)
        kwargs = {}
        for arg in inspect.signature(fn).parameters:
            if arg in params:
                kwargs[arg] = params[arg]
            elif arg == "uow":
                kwargs[arg] = view
            elif arg == "clock":
                kwargs[arg] = clock
            elif arg == "tmp_path":
                kwargs[arg] = tmp_path
            elif arg == "monkeypatch":
                kwargs[arg] = monkeypatch
            elif arg in ("world", "small"):
                kwargs[arg] = getattr(mod, arg)._get_wrapped_function()(view)
            else:
                raise AssertionError(f"{name}: no value for {arg}")
        fn(**kwargs)
    finally:
        for c in env.clients:
            c.close()
        fake.stop()
        engine.dispose()
