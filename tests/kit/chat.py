"""One chat test kit for every platform (errbot's TestBackend): a dialog table runs unchanged on Slack,
DingTalk, WeCom and the console.

    with Chat("slack", sqlite_url, clock) as chat:          # or "dingtalk", "wecom", "console"
        chat.say("wang", "/team setup 华东一组")
        seen = chat.say("wang", "/task add @li 拜访客户 due 明天")
        assert "拜访客户" in seen.text and not seen.private
        assert any("拜访客户" in m for m in seen.dms["li"])    # li's DM from the bot
        run_dialog(chat, [("li", "/task list mine", ["拜访客户"]), ...])   # tests.kit.dialog's rows

`say(user, line)` sends the line the way the platform delivers it, into the real adapter and the real
dispatcher on a real database:
  * slack: a signed slash command (or, with `direct=True`, a `message.im` event) over HTTP into the
    real Bolt app, whose Web API is a local fake (tests/kit/fake_slack.py);
  * dingtalk: a signed outgoing-robot callback (group, or 1:1 with `direct=True`), answered through the
    message's sessionWebhook on a fake DingTalk;
  * wecom: an encrypted callback (group chat, or the person's chat with the app), answered through a
    fake WeCom's message APIs;
  * console: a line typed into bot.console.repl.Console.
Then the outbox is drained through the platform's own sender, so DMs and channel posts the line
caused arrive too. `say` returns a Seen: what the speaker saw in answer (`text`, `private`), what the
channel saw (`channel`), what each person got 1:1 (`dms`, by name), whether the command succeeded
(`ok`) and the core's neutral reply (`reply`).

Users are names. A typed `@name` becomes what the platform would send: `<@UNAME|name>` on Slack,
`@name` with the staff id in atUsers on DingTalk, `@userid` on WeCom. Names that are no valid platform
id (李雷) get a stable ASCII id, and every text read back shows names again. Texts are normalised
(`normalize`): mentions as `@name`, no markdown stars, backticks or quote marks, DingTalk's hard line
breaks as plain ones, buttons listed as `[label] (/command)` where the platform lists them as text.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import warnings
from dataclasses import dataclass, field
from io import StringIO

from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher
from commands.core.reply import Reply
from reminders.outbox import OutboxConfig, drain
from storage.db import make_engine
from storage.uow import uow_factory

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PLATFORMS = ("slack", "dingtalk", "wecom", "console")
_ids = itertools.count(1)
_AT = re.compile(r"(?<![A-Za-z0-9._%+\-@＠﹫])[@＠﹫](?P<name>[^\s@＠﹫<>,，;；:：()（）\[\]【】{}!！?？。、\"“”'‘’《》|]+)")
_SELF = frozenset({"me", "myself", "self", "我", "自己", "本人"})
_ID_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_MENTION = re.compile(r"<@(?P<uid>[^<>|\s]+)(?:\|(?P<label>[^<>]*))?>")
_LISTED = re.compile(r"^(?:> )?(?P<label>[^\n`>][^\n`]*?)：`(?P<cmd>/[^`\n]+)`[ \t]*$", re.M)


class RecordingDispatcher(Dispatcher):
    """The real dispatcher, keeping every reply it gave (errbot's TestBackend keeps them the same way)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.replies: list[Reply] = []

    def handle(self, inv):
        reply = super().handle(inv)
        self.replies.append(reply)
        return reply


@dataclass
class Message:
    """One message the platform showed: to the channel, or 1:1 to a person (platform id)."""
    to: str  # "channel" or a user's platform id
    text: str
    private_answer: bool = False  # the speaker's own private answer (not a DM the command caused)


@dataclass
class Seen:
    """What one line caused, as the people in the chat saw it."""
    user: str
    line: str
    text: str
    private: bool
    ok: bool
    reply: Reply | None
    channel: list[str] = field(default_factory=list)
    dms: dict[str, list[str]] = field(default_factory=dict)

    def plain(self) -> str:
        """The speaker's answer (what tests.kit.dialog.run_dialog reads)."""
        return self.text


@dataclass(frozen=True)
class Row:
    """One line of a dialog table and what it must cause."""
    user: str
    line: str
    #: Fragments of the speaker's answer, and fragments it must not contain.
    says: tuple[str, ...] = ()
    not_says: tuple[str, ...] = ()
    #: Whether the command succeeded (a refusal or usage error is ok=False).
    ok: bool = True
    #: Only the speaker saw the answer (None: not checked).
    private: bool | None = None
    #: Fragments the channel saw (each in one of its messages).
    channel: tuple[str, ...] = ()
    #: name -> fragments that person got 1:1 from the bot.
    dms: dict[str, tuple[str, ...]] = field(default_factory=dict)


def run_rows(chat: Chat, rows: list[Row]) -> list[Seen]:
    """Say each row's line and check what it caused; the assertion names the platform and the row."""
    out = []
    for row in rows:
        seen = chat.say(row.user, row.line)
        where = f"[{chat.platform}] {row.user}: {row.line!r}"
        for frag in row.says:
            assert frag in seen.text, f"{where}\n  expected {frag!r} in the answer:\n{seen.text}"
        for frag in row.not_says:
            assert frag not in seen.text, f"{where}\n  did not expect {frag!r} in the answer:\n{seen.text}"
        assert seen.ok is row.ok, f"{where}: ok={seen.ok}, expected {row.ok}:\n{seen.text}"
        if row.private is not None:
            assert seen.private is row.private, f"{where}: private={seen.private}, expected {row.private}"
        for frag in row.channel:
            assert any(frag in m for m in seen.channel), f"{where}\n  the channel did not see {frag!r}: {seen.channel}"
        for name, frags in row.dms.items():
            for frag in frags:
                assert any(frag in m for m in seen.dms.get(name, [])), \
                    f"{where}\n  {name} got no DM with {frag!r}: {seen.dms}"
        assert "Traceback" not in seen.text
        out.append(seen)
    return out


def normalize(text: str) -> str:
    text = _LISTED.sub(lambda m: f"[{m.group('label')}] ({m.group('cmd')})", text)
    text = _MENTION.sub(lambda m: "@" + m.group("uid"), text)
    text = text.replace("**", "").replace("*", "").replace("`", "")
    return re.sub(r"[ \t]+\n", "\n", text)


class Chat:
    def __init__(self, platform: str, db_url: str, clock: Clock, *, default_lang: str = "zh"):
        if platform not in PLATFORMS:
            raise ValueError(f"platform must be one of {PLATFORMS}")
        self.platform = platform
        self.clock = clock
        self.engine = make_engine(db_url)
        self.uow = uow_factory(self.engine)
        self.dispatcher = RecordingDispatcher(self.uow, clock, default_lang=default_lang)
        self.names: dict[str, str] = {}  # platform id -> name
        self._ids: dict[str, str] = {}  # name -> platform id
        self.driver = _DRIVERS[platform](self, db_url)
        self.transcript: list[Seen] = []

    @property
    def channel(self) -> str:
        """The team channel the lines are said in (the platform's id for it)."""
        return self.driver.channel

    def __enter__(self) -> Chat:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.driver.close()
        self.engine.dispose()

    def id(self, name: str) -> str:
        """The platform's user id for a name."""
        if name not in self._ids:
            pid = self.driver.user_id(name)
            self._ids[name], self.names[pid] = pid, name
            self.driver.introduce(pid, name)
        return self._ids[name]

    def say(self, user: str, line: str, *, direct: bool = False) -> Seen:
        uid = self.id(user)
        for m in _AT.finditer(line):
            if m.group("name").rstrip(".").casefold() not in _SELF:
                self.id(m.group("name").rstrip("."))
        before = len(self.dispatcher.replies)
        answers = self.driver.send(uid, user, line, direct=direct)
        # No pacing: the clock stands still during a dialog, and a second message to one person
        # would otherwise wait for it.
        drain(self.uow, self.driver.sender, self.clock, "chat", config=OutboxConfig(pacing=False))
        answers += self.driver.delivered()
        reply = self.dispatcher.replies[-1] if len(self.dispatcher.replies) > before else None
        seen = self._seen(user, uid, line, answers, reply, direct)
        self.transcript.append(seen)
        return seen

    def _seen(self, user: str, uid: str, line: str, answers: list[Message], reply: Reply | None,
              direct: bool) -> Seen:
        seen = Seen(user, line, "", True, reply.ok if reply is not None else False, reply)
        own = []
        for m in answers:
            text = self.back(m.text)
            if m.private_answer:
                own.append(text)
            elif m.to == "channel":
                seen.channel.append(text)
            else:
                seen.dms.setdefault(self.names.get(m.to, m.to), []).append(text)
        if own:
            seen.text = own[0]
        elif not direct and seen.channel:
            seen.text, seen.private = seen.channel[0], False
        return seen

    def back(self, text: str) -> str:
        """Platform text as the people read it: names for ids, markup normalised."""
        text = normalize(text)
        for pid, name in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            if pid != name:
                text = re.sub(rf"@{re.escape(pid)}(?![A-Za-z0-9_])", "@" + name, text)
        return text


# -- Slack ---------------------------------------------------------------------------------------

class _Slack:
    channel = "CSALES"

    def __init__(self, chat: Chat, db_url: str):
        from bot.slack.sender import SlackSender
        from tests.kit.fake_slack import FakeSlack
        from tests.kit.fixtures import SlackHarness
        self.chat = chat
        self.fake = FakeSlack().start()
        self.harness = SlackHarness(self.fake, db_url, chat.clock, dispatcher=chat.dispatcher)
        self.sender = SlackSender(self.harness.settings.slack.bot_token, base_url=self.fake.url)
        self._seen_calls = 0

    def user_id(self, name: str) -> str:
        word = re.sub(r"[^A-Za-z0-9]", "", name).upper()
        return "U" + (word if word and word.isascii() and word == name.upper() else f"ZH{next(_ids):03d}")

    def introduce(self, pid: str, name: str) -> None:
        self.fake.set_user(pid, real_name=name, locale="zh-CN", tz="Asia/Shanghai")

    def typed(self, line: str) -> str:
        def sub(m: re.Match) -> str:
            name = m.group("name").rstrip(".")
            if name.casefold() in _SELF:
                return m.group(0)
            if name in ("here", "channel", "everyone"):
                return f"<!{name}>" + m.group("name")[len(name):]
            return f"<@{self.chat.id(name)}|{name}>" + m.group("name")[len(name):]
        return _AT.sub(sub, line)

    def send(self, uid: str, name: str, line: str, *, direct: bool) -> list[Message]:
        self._seen_calls = len(self.fake.calls())
        text = self.typed(line)
        if direct:
            assert self.harness.dm(text, user=uid, channel="D" + uid).status == 200
            return [Message(uid, m.text, private_answer=True) for m in self.delivered()]
        command, _, rest = text.partition(" ")
        answer = self.harness.slash(command, rest, user=uid, channel=self.channel, user_name=name)
        assert answer.status == 200, answer.body
        self._seen_calls = len(self.fake.calls())
        if not answer.body.strip():
            return []  # a modal opened
        if answer.response_type == "in_channel":
            return [Message("channel", _slack_text(answer.json))]
        return [Message(uid, _slack_text(answer.json), private_answer=True)]

    def delivered(self) -> list[Message]:
        out = []
        for c in self.fake.calls()[self._seen_calls:]:
            if c.method != "chat.postMessage":
                continue
            target = str(c.params.get("channel") or "")
            text = _slack_text({**c.params, "blocks": c.json("blocks")})
            out.append(Message("channel" if not target.startswith("D") else target[1:], text))
        self._seen_calls = len(self.fake.calls())
        return out

    def close(self) -> None:
        self.harness.close()
        self.fake.stop()


def _slack_text(payload: dict) -> str:
    """What a person reads in a message: its blocks (the `text` is only the notification's fallback),
    with button labels as `[label] (/command)`."""
    from bot.slack.render import unescape
    from tests.kit.fixtures import payload_text
    blocks = payload.get("blocks") or []
    if not blocks:
        return unescape(payload.get("text") or "")
    out = []
    for b in blocks:
        if b.get("type") == "actions":
            out += [f"[{e['text']['text']}] ({e.get('value', '')})" for e in b.get("elements") or []]
        else:
            out.append(payload_text({"blocks": [b]}))
    return unescape("\n".join(x for x in out if x))


# -- DingTalk --------------------------------------------------------------------------------------

class _DingTalk:
    channel = "cidSales"
    KEY, SECRET = "dingappkey", "dingappsecret-test"

    def __init__(self, chat: Chat, db_url: str):
        from bot.config import DingTalkSettings, Settings
        from bot.dingtalk.api import DingTalkApi
        from bot.dingtalk.http import build_asgi
        from bot.dingtalk.sender import DingTalkSender
        from tests.kit.fake_dingtalk import FakeDingTalk
        self.chat = chat
        self.fake = FakeDingTalk().start()
        settings = Settings(platform="dingtalk", database_url=db_url, dingtalk=DingTalkSettings(
            app_key=self.KEY, app_secret=self.SECRET, mode="http", api_url=self.fake.url))
        self.client = TestClient(build_asgi(settings, chat.dispatcher, chat.clock), raise_server_exceptions=False)
        self.sender = DingTalkSender(DingTalkApi(self.KEY, self.SECRET, api_url=self.fake.url))
        self._seen_calls = 0
        self._speaker = ""
        self._private: str | None = None

    def user_id(self, name: str) -> str:
        return name if _ID_OK.fullmatch(name) else f"uzh{next(_ids):03d}"

    def introduce(self, pid: str, name: str) -> None:
        pass  # DingTalk sends the nickname with each message

    def send(self, uid: str, name: str, line: str, *, direct: bool) -> list[Message]:
        from bot.dingtalk import render
        from bot.dingtalk.inbound import private_dm_key
        from tests.kit.fake_dingtalk import robot_message, signed_headers
        self._speaker = uid
        at_ids = [] if direct else [self.chat.id(m.group("name").rstrip(".")) for m in _AT.finditer(line)
                                    if m.group("name").rstrip(".").casefold() not in _SELF]
        now_ms = int(self.chat.clock.now().timestamp() * 1000)
        msg_id = f"msgCHAT{next(_ids):07d}"
        body = robot_message(line, sender=uid, nick=name, conversation=f"dm-{uid}" if direct else self.channel,
                             group=not direct, at_staff_ids=at_ids, msg_id=msg_id, created_ms=now_ms,
                             session_webhook=self.fake.session_url())
        start = len(self.fake.calls())
        r = self.client.post("/dingtalk/events", content=json.dumps(body, ensure_ascii=False).encode(),
                             headers=signed_headers(self.SECRET, now_ms))
        assert r.status_code == 200 and r.text == "", r.text
        calls = self.fake.calls()
        self._seen_calls = len(calls)
        # A private answer to a group message goes 1:1 through the outbox (the group sees a notice).
        self._private = self._queued_text(private_dm_key(msg_id))
        out = []
        for c in calls[start:]:
            if c.method == "session":
                text = render.message_text(c.json)
                out.append(Message(uid, text, private_answer=True) if direct
                           else Message("channel", _without_at(text, c.json, uid)))
        return out

    def _queued_text(self, key: str) -> str | None:
        from sqlalchemy import select

        from bot.dingtalk import render
        from commands.core.reply import reply_from_dict
        from storage.models import OutboxMessage
        with self.chat.uow() as u:
            payload = u.session.scalar(select(OutboxMessage.payload).where(OutboxMessage.dedupe_key == key))
        if payload is None:
            return None
        return _dingtalk_param_text({"msgParam": json.dumps(
            {"text": render.markdown_text(reply_from_dict(json.loads(payload)))}, ensure_ascii=False)})

    def delivered(self) -> list[Message]:
        out = []
        for c in self.fake.calls()[self._seen_calls:]:
            if not c.ok or c.method not in ("robot.oToMessages", "robot.groupMessages"):
                continue
            text = _dingtalk_param_text(c.json)
            if c.method == "robot.groupMessages":
                out.append(Message("channel", text))
                continue
            for uid in c.json.get("userIds") or []:
                answer = uid == self._speaker and self._private is not None and text.startswith(self._private)
                if answer:
                    self._private = None
                out.append(Message(uid, text, private_answer=answer))
        self._seen_calls = len(self.fake.calls())
        return out

    def close(self) -> None:
        self.client.close()
        self.fake.stop()


def _without_at(text: str, message: dict, uid: str) -> str:
    """A group answer @s the person answered first; the dialog reads what follows."""
    at = (message.get("at") or {}).get("atUserIds") or []
    return text[len(uid) + 2:] if at[:1] == [uid] and text.startswith(f"@{uid} ") else text


def _dingtalk_param_text(body: dict) -> str:
    from bot.dingtalk.render import command_from_url
    param = json.loads(body.get("msgParam") or "{}")
    out = [param.get("text") or param.get("content") or ""]
    for i in range(1, 6):
        if param.get(f"actionTitle{i}"):
            out.append(f"[{param[f'actionTitle{i}']}] ({command_from_url(param.get(f'actionURL{i}', '')) or ''})")
    if param.get("singleTitle"):
        out.append(f"[{param['singleTitle']}] ({command_from_url(param.get('singleURL', '')) or ''})")
    return "\n".join(out)


# -- WeCom -----------------------------------------------------------------------------------------

class _WeCom:
    channel = "wrSales"
    CORP, SECRET, TOKEN = "wwcorp", "s3cret", "teambotToken"
    AES = base64.b64encode(bytes(range(32))).decode().rstrip("=")

    def __init__(self, chat: Chat, db_url: str):
        from bot.config import Settings, WeComSettings
        from bot.wecom.api import WeComApi
        from bot.wecom.http import build_asgi
        from bot.wecom.sender import WeComSender
        from tests.kit.fake_wecom import FakeWeCom
        self.chat = chat
        self.fake = FakeWeCom(corp_id=self.CORP, secret=self.SECRET).start()
        settings = Settings(platform="wecom", database_url=db_url, wecom=WeComSettings(
            corp_id=self.CORP, agent_id="1000002", secret=self.SECRET, token=self.TOKEN,
            encoding_aes_key=self.AES, api_url=self.fake.url))
        self.client = TestClient(build_asgi(settings, chat.dispatcher, chat.clock), raise_server_exceptions=False)
        self.sender = WeComSender(WeComApi(self.CORP, self.SECRET, "1000002", api_url=self.fake.url))
        self._seen_calls = 0

    def user_id(self, name: str) -> str:
        return name if _ID_OK.fullmatch(name) else f"uzh{next(_ids):03d}"

    def introduce(self, pid: str, name: str) -> None:
        self.fake.set_user(pid, name)

    def send(self, uid: str, name: str, line: str, *, direct: bool) -> list[Message]:
        from tests.kit.fake_wecom import encrypted_callback, text_xml
        typed = _AT.sub(lambda m: m.group(0) if m.group("name").rstrip(".").casefold() in _SELF
                        else "@" + self.chat.id(m.group("name").rstrip(".")) + m.group("name")[
                            len(m.group("name").rstrip(".")):], line)
        self._seen_calls = len(self.fake.calls())
        xml = text_xml(uid, typed, f"8{next(_ids):018d}", chat_id=None if direct else self.channel, corp_id=self.CORP)
        query, body = encrypted_callback(self.TOKEN, self.AES, self.CORP, xml)
        r = self.client.post(f"/wecom/callback?{query}", content=body.encode(),
                             headers={"Content-Type": "text/xml; charset=utf-8"})
        assert r.status_code == 200 and r.text == "", r.text
        out = self._messages(answering=uid)
        self._seen_calls = len(self.fake.calls())
        return out

    def _messages(self, answering: str | None = None) -> list[Message]:
        from bot.wecom.render import message_text
        out = []
        for c in self.fake.calls()[self._seen_calls:]:
            if not c.ok or c.method not in ("message.send", "appchat.send", "webhook.send"):
                continue
            if c.method == "message.send":
                out.append(Message(c.json.get("touser", ""), message_text(c.json),
                                   private_answer=c.json.get("touser") == answering))
            else:
                out.append(Message("channel", message_text(c.json)))
        return out

    def delivered(self) -> list[Message]:
        return self._messages()

    def close(self) -> None:
        self.client.close()
        self.fake.stop()


# -- console ---------------------------------------------------------------------------------------

class _Lines(StringIO):
    """Console output, one entry per print() (the console prints each message whole)."""

    def __init__(self):
        super().__init__()
        self.printed: list[str] = []

    def write(self, s: str) -> int:
        if s != "\n":
            self.printed.append(s)
        return len(s)


class _Console:
    channel = "console"

    def __init__(self, chat: Chat, db_url: str):
        from bot.console.repl import Console
        from bot.console.sender import ConsoleSender
        self.out = _Lines()
        self.console = Console(chat.dispatcher, chat.clock, user="nobody", out=self.out, echo_input=False)
        self.sender = ConsoleSender(self.console)
        self._seen = 0

    def user_id(self, name: str) -> str:
        return name

    def introduce(self, pid: str, name: str) -> None:
        pass

    def send(self, uid: str, name: str, line: str, *, direct: bool) -> list[Message]:
        if direct:
            raise ValueError("the console has one channel and no direct messages")
        self._seen = len(self.out.printed)
        self.console.user = uid
        self.console.handle_line(line)
        out = [self._message(text, answering=uid) for text in self.out.printed[self._seen:]]
        self._seen = len(self.out.printed)
        return out

    def delivered(self) -> list[Message]:
        out = [self._message(text) for text in self.out.printed[self._seen:]]
        self._seen = len(self.out.printed)
        return out

    @staticmethod
    def _message(text: str, answering: str | None = None) -> Message:
        text = text.rstrip("\n")
        if text.startswith("[#channel] "):
            return Message("channel", text[len("[#channel] "):])
        m = re.match(r"\[DM @(?P<who>[^\]]+)\] ", text)
        if m:
            return Message(m.group("who"), text[m.end():])
        return Message(answering or "", text, private_answer=True)

    def close(self) -> None:
        pass


_DRIVERS = {"slack": _Slack, "dingtalk": _DingTalk, "wecom": _WeCom, "console": _Console}
