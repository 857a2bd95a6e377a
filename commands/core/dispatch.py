"""One inbound command: find the team, parse, run in one unit of work, reply.

Every adapter calls Dispatcher.handle(); nothing here knows a platform."""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from commands.core import forms, home, router, suggest, typed_form
from commands.core.clock import Clock
from commands.core.context import Ctx, Invocation, MetricRow
from commands.core.errors import Refused, UsageError
from commands.core.people import NAME_IS_ID, zone
from commands.core.reply import Reply, Text, reply_from_dict, reply_to_dict
from commands.i18n import normalize_lang, t
from storage import outbox_store
from storage.models import InboundReceipt, Member, Metric, Team, UserPref
from storage.queries import team_goal_of
from storage.prepared import Prepared, insert_columns
from storage.uow import UnitOfWork, UowFactory

log = logging.getLogger("teambot.dispatch")

#: Reply.error of the answer to a command that failed (an incident), as opposed to a refusal's key.
INTERNAL_ERROR = "core.internal_error"
#: What Dispatcher.on_command hears: the command (a route's name, "unknown" for none), the outcome
#: ("ok", "refused" or "error") and the seconds it took.
CommandObserver = Callable[[str, str, float], None]


def outcome(reply: Reply) -> str:
    """ok, refused (a usage error, a refusal, a form asking for more) or error (an incident)."""
    if reply.ok:
        return "ok"
    return "error" if reply.error == INTERNAL_ERROR else "refused"


class _StaleConnection(Exception):
    """The command failed because its pooled database connection had gone away."""


class Dispatcher:
    def __init__(self, uow: UowFactory, clock: Clock, *, default_lang: str = "zh",
                 default_tz: str = "Asia/Shanghai", windows: outbox_store.DeliveryWindows | None = None):
        self.uow = uow
        self.clock = clock
        self.default_lang = default_lang
        self.default_tz = default_tz
        #: How long the messages a command queues stay good (the adapters' queued replies use it too).
        self.windows = windows or outbox_store.DeliveryWindows()
        #: Told of every command handled (/metrics); must not raise.
        self.on_command: CommandObserver | None = None

    def handle(self, inv: Invocation) -> Reply:
        if self.on_command is None:
            return self._handle_once(inv)
        started = time.perf_counter()
        reply = self._handle_once(inv)
        route = router.find(inv.command)
        self.on_command(route.name if route else "unknown", outcome(reply), time.perf_counter() - started)
        return reply

    def _handle_once(self, inv: Invocation) -> Reply:
        try:
            return self._handle(inv)
        except _StaleConnection:
            # The database dropped a pooled connection (a restart, a failover); SQLAlchemy has
            # thrown the pool's connections away and the command's transaction was rolled back,
            # so it runs once more on a fresh connection. (Cheaper than pinging the server before
            # every command, which is what the pool would otherwise have to do.)
            log.warning("database connection lost; running the command again: %s %s",
                        inv.actor.user_id, inv.command)
            try:
                return self._handle(inv)
            except _StaleConnection as e:
                return self._crash(inv, None, e.__cause__)

    def _handle(self, inv: Invocation) -> Reply:
        route = router.find(inv.command)
        text = router.normalize(inv.text)
        ctx: Ctx | None = None
        try:
            with self.uow() as uow:
                ctx = self.context(uow, inv, with_metrics=route is not None and route.with_metrics)
                if route is None:
                    route = unknown_command(inv.command)
                # A bare /task, /progress, /resource or /goal opens a form (a Slack modal;
                # a usage card elsewhere). It only reads, so no receipt is kept for it.
                if not text and forms.has_form(route.name):
                    return forms.form_reply(route.name, uow.session, ctx)
                feature = router.module(route)
                req = feature.parse(text, ctx)
                reply = in_typed_form(feature.run(req, uow, ctx), inv, route, ctx.lang)
                _learn_name(uow, ctx)
                for msg in ctx.outgoing:
                    outbox_store.enqueue(uow.session, platform=inv.actor.platform, destination=msg.destination,
                                         payload=reply_to_dict(msg.reply), now=ctx.now,
                                         dedupe_key=msg.dedupe_key, due_at=ctx.now,
                                         expires_at=ctx.now + self.windows.notice)
                if inv.delivery_key:
                    # The receipt goes in last, in the command's own transaction: a retry of a
                    # delivery that was already answered fails here on the unique key, everything it
                    # did is rolled back, and it gets the first answer (below). Cheaper than looking
                    # the receipt up first, which every command would pay for.
                    uow.write(_INSERT_RECEIPT, {
                        "platform": inv.actor.platform, "key": inv.delivery_key,
                        "reply_json": json.dumps(reply_to_dict(reply), ensure_ascii=False),
                        "received_at": ctx.now})
            return reply
        except UsageError as e:
            # A retry may be refused now because its first delivery changed things (a task already
            # done): it gets the first answer all the same.
            earlier = self._earlier(inv)
            if earlier is not None:
                return earlier
            lang = ctx.lang if ctx else self._fallback_lang(inv)
            e = keyword_suggestion(e, route, inv.command)
            # Catalogs are named after the feature module (tasks.toml for the `task` route).
            feature = route.module.rsplit(".", 1)[-1] if route else "settings"
            if e.typed_command:  # an unknown command: the example is the suggested one's
                route = router.find(e.typed_command)
            form = typed_form.form_of(route, e.typed_command or inv.command, inv.text, lang, e.typed_keyword)
            return self._remember(inv, usage_reply(lang, e, feature, form, route.name if route else None))
        except IntegrityError:
            # The delivery was answered before (or a concurrent delivery of it just was).
            earlier = self._earlier(inv)
            if earlier is not None:
                return earlier
            return self._remember(inv, self._crash(inv, ctx))
        except DBAPIError as e:
            if e.connection_invalidated:
                raise _StaleConnection from e
            return self._remember(inv, self._crash(inv, ctx))
        except Exception:
            return self._remember(inv, self._crash(inv, ctx))

    def _remember(self, inv: Invocation, reply: Reply) -> Reply:
        """Keep the receipt of a delivery that was refused or failed, so that a redelivery of it is
        answered once too, whatever the outcome (its own transaction: the command's was rolled back).
        When a concurrent delivery of it kept one first, that one's answer is the answer."""
        if not inv.delivery_key:
            return reply
        try:
            with self.uow() as uow:
                uow.write(_INSERT_RECEIPT, {
                    "platform": inv.actor.platform, "key": inv.delivery_key,
                    "reply_json": json.dumps(reply_to_dict(reply), ensure_ascii=False),
                    "received_at": self.clock.now()})
        except IntegrityError:
            return self._earlier(inv) or reply
        except Exception:  # noqa: BLE001 - the answer still goes out; a redelivery may get a second
            log.warning("could not keep the receipt of %s %s", inv.actor.platform, inv.delivery_key, exc_info=True)
        return reply

    def _earlier(self, inv: Invocation) -> Reply | None:
        """The answer kept for this delivery, when it was answered before."""
        if not inv.delivery_key:
            return None
        try:
            with self.uow() as uow:
                raw = uow.connection.execute(_RECEIPT, {"platform": inv.actor.platform,
                                                        "key": inv.delivery_key}).scalar()
        except Exception:  # noqa: BLE001 - the caller answers as if there were none
            log.exception("could not read the receipt of %s", inv.delivery_key)
            return None
        return reply_from_dict(json.loads(raw)) if raw is not None else None

    def context(self, uow: UnitOfWork, inv: Invocation, *, with_metrics: bool = False) -> Ctx:
        """Who is asking and in which team, read with one Core query (plain columns, no ORM objects:
        the Team and Member objects are loaded only if the command asks for them). with_metrics:
        the team's metrics come along in the same query (`Ctx.metrics`; every round trip to
        PostgreSQL costs more than the rows)."""
        actor = inv.actor
        keys = {"platform": actor.platform, "channel": inv.channel, "user": actor.user_id}
        metrics = None
        # The person's saved language and time zone come with the team (one query, not two).
        if with_metrics:
            rows = uow.read_all(_TEAM_MEMBER_METRICS, keys)
            row = rows[0][:_CONTEXT_COLUMNS] if rows else None
            metrics = ([MetricRow._make(r[_CONTEXT_COLUMNS:]) for r in rows if r[_CONTEXT_COLUMNS] is not None]
                       if rows else None)
        else:
            row = uow.read(_TEAM_AND_MEMBER, keys)
        if row is not None:
            team_id, team_lang, team_tz, calendar, member_id, role, known_as, pref_lang, pref_tz = row
        else:
            team_id = team_lang = team_tz = calendar = member_id = role = known_as = None
            # In a DM (or any unbound channel) the person's only team is meant.
            rows = uow.read_all(_ONLY_TEAM, keys)
            if len(rows) == 1:
                team_id, team_lang, team_tz, calendar, member_id, role, known_as = rows[0]
            pref_lang, pref_tz = uow.read(_PREF, keys) or (None, None)
        lang = pref_lang or team_lang or normalize_lang(actor.locale) or self.default_lang
        tz = zone(pref_tz or team_tz or actor.tz, ZoneInfo(self.default_tz))
        return Ctx(inv=inv, lang=lang, tz=tz, now=self.clock.now(), team_id=team_id, member_id=member_id,
                   member_role=role, calendar_code=calendar, member_name=known_as, metrics=metrics,
                   load=lambda model, key: uow.session.get(model, key))

    # -- what adapters need besides handle(): they never open a unit of work themselves ----------
    def already_answered(self, platform: str, key: str) -> bool:
        """Whether the delivery `key` of `platform` was answered before (a redelivery)."""
        with self.uow() as uow:
            return uow.connection.execute(_RECEIPT, {"platform": platform, "key": key}).first() is not None

    def queue_reply(self, reply: Reply, *, platform: str, destination: str, key: str) -> bool:
        """Hand a reply to the outbox for the platform's sender: an answer that must reach one person
        1:1, or one the adapter could not deliver at once. It expires after `windows.reply` (the
        person has moved on by then). `key` makes a second call for the same delivery a no-op (False)."""
        now = self.clock.now()
        with self.uow() as uow:
            return outbox_store.enqueue(uow.session, platform=platform, destination=destination,
                                        payload=reply_to_dict(reply), now=now, dedupe_key=key, due_at=now,
                                        expires_at=now + self.windows.reply)

    def home(self, inv: Invocation, *, page: int = 1) -> tuple[Reply, str]:
        """The person's home view (their tasks, KPIs, approvals, next meeting) and its language."""
        with self.uow() as uow:
            ctx = self.context(uow, inv)
            return home.build(uow.session, ctx, page=page), ctx.lang

    def language(self, inv: Invocation) -> str:
        """The language the core answers this person in (their choice, the team's, the platform's)."""
        with self.uow() as uow:
            return self.context(uow, inv).lang

    def _fallback_lang(self, inv: Invocation) -> str:
        return normalize_lang(inv.actor.locale) or self.default_lang

    def _crash(self, inv: Invocation, ctx: Ctx | None, error: BaseException | None = None) -> Reply:
        incident = uuid.uuid4().hex[:8]
        # Ids and the command's name only: what the person typed is theirs, and logs travel further.
        log.error("command failed: incident=%s platform=%s user=%s command=%s", incident,
                  inv.actor.platform, inv.actor.user_id, inv.command,
                  exc_info=error if error is not None else True)
        log.debug("incident=%s text=%r", incident, inv.text)
        lang = ctx.lang if ctx else self._fallback_lang(inv)
        return replace(Reply.text(t(lang, INTERNAL_ERROR, incident=incident), ok=False), error=INTERNAL_ERROR)


def _learn_name(uow: UnitOfWork, ctx: Ctx) -> None:
    """The name the platform gives a member is how others write them without @ ('李雷'): keep it
    current, since a member added by mention alone may have come without one. Only with a command
    that went through (a refused one changes nothing)."""
    name = (ctx.actor.name or "")[:80]
    if ctx.member_id is not None and name and ctx.member_name != name and ctx.actor.platform not in NAME_IS_ID:
        _RENAME.execute(uow.connection, {"member": ctx.member_id, "name": name})


def unknown_command(typed: str) -> router.Route:
    """Raise the answer to a command that does not exist: the closest real one, or the list."""
    word = router.command_word(typed)
    guess = suggest.closest(word, router.aliases())
    if guess is not None:
        route = router.find(guess)
        e = UsageError("core.did_you_mean_command", example=f"{route.module.rsplit('.', 1)[-1]}.example",
                       command=word, suggestion="/" + guess)
        e.typed_command = guess
        raise e
    names = " ".join("/" + r.name for r in router.ROUTES)
    raise UsageError("core.unknown_command", example="settings.example", command=word, commands=names)


def keyword_suggestion(e: UsageError, route: router.Route | None, typed: str) -> UsageError:
    """A feature's "unknown keyword" turned into "did you mean" when a keyword of the command is close."""
    if route is None or not e.key.endswith(".unknown_keyword") or "word" not in e.args_:
        return e
    word = str(e.args_["word"])
    module = router.module(route)
    tables = [getattr(module, name, None) or {} for name in ("KEYWORDS", "SCOPES")]
    guess = suggest.closest(word, [a for table in tables for names in table.values() for a in names])
    if guess is None:
        return e
    out = UsageError("core.did_you_mean_keyword", example=e.example, word=word,
                     command="/" + router.command_word(typed), keyword=guess)
    out.typed_keyword = word
    return out


def in_typed_form(reply: Reply, inv: Invocation, route: router.Route, lang: str) -> Reply:
    """The reply's hints (`用 /team add …`) written in the form the user typed (`用 /团队 添加 …`)."""
    if not any(isinstance(p, Text) and ("/" in p.text or "、" in p.text) for p in reply.parts):
        return reply
    form = typed_form.form_of(route, inv.command, inv.text, lang)
    parts = tuple(Text(typed_form.rewrite(p.text, form, route.name)) if isinstance(p, Text) else p
                  for p in reply.parts)
    return replace(reply, parts=parts)


def usage_reply(lang: str, e: UsageError, feature: str, form: typed_form.TypedForm | None = None,
                current: str | None = None) -> Reply:
    def written(text: str) -> str:
        return typed_form.rewrite(text, form, current) if form is not None else text

    message = t(lang, e.key, **e.args_)
    if e.suggestion:
        message += ("" if lang == "zh" else " ") + t(lang, "core.did_you_mean_word", word=e.suggestion)
    message = written(message)
    parts = [Text(("🚫 " if isinstance(e, Refused) else "⚠️ ") + message)]
    example_key = e.example or f"{feature}.example"
    if example_key != "-":
        parts.append(Text(t(lang, "core.example_label") + "\n" + written(t(lang, example_key))))
    # `error` names the message, so a form can show it on the field it is about.
    return Reply(parts=tuple(parts), private=True, ok=False, summary=message, error=e.key)


# Built once: on the hot path, building a statement costs more than running it.
_RECEIPT = select(InboundReceipt.reply_json).where(InboundReceipt.platform == bindparam("platform"),
                                                   InboundReceipt.key == bindparam("key"))
_PREF_SELECT = select(UserPref.lang, UserPref.tz).where(UserPref.platform == bindparam("platform"),
                                                        UserPref.user_id == bindparam("user"))
_PREF = Prepared(_PREF_SELECT)
_TEAM_AND_MEMBER_SELECT = (select(Team.id, Team.lang, Team.tz, Team.calendar, Member.id, Member.role,
                                  Member.display_name,
                                  _PREF_SELECT.with_only_columns(UserPref.lang).scalar_subquery(),
                                  _PREF_SELECT.with_only_columns(UserPref.tz).scalar_subquery())
                           .select_from(Team)
                           .outerjoin(Member, and_(Member.team_id == Team.id, Member.user_id == bindparam("user")))
                           .where(Team.platform == bindparam("platform"), Team.channel_id == bindparam("channel")))
_TEAM_AND_MEMBER = Prepared(_TEAM_AND_MEMBER_SELECT)
#: How many columns the context row has before the metric columns of _TEAM_MEMBER_METRICS.
_CONTEXT_COLUMNS = len(_TEAM_AND_MEMBER_SELECT.selected_columns)
#: The same row once per metric of the team (once with NULL metric columns when it has none).
_TEAM_MEMBER_METRICS = Prepared(_TEAM_AND_MEMBER_SELECT
                                .add_columns(Metric.id, Metric.code, Metric.name_zh, Metric.name_en, Metric.unit,
                                             Metric.aliases, team_goal_of(Metric))
                                .outerjoin(Metric, Metric.team_id == Team.id).order_by(Metric.id))
_ONLY_TEAM = Prepared(select(Team.id, Team.lang, Team.tz, Team.calendar, Member.id, Member.role,
                             Member.display_name)
                      .join(Member, Member.team_id == Team.id)
                      .where(Team.platform == bindparam("platform"), Member.user_id == bindparam("user")).limit(2))


_RENAME = Prepared(update(Member).where(Member.id == bindparam("member")).values(display_name=bindparam("name")))
_INSERT_RECEIPT = Prepared(insert_columns(InboundReceipt.__table__, "platform", "key", "reply_json", "received_at"))

