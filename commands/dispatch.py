"""One inbound command: find the team, parse, run in one unit of work, reply.

Every adapter calls Dispatcher.handle(); nothing here knows a platform."""
from __future__ import annotations

import json
import logging
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from commands import forms, router
from commands.clock import Clock
from commands.context import Ctx, Invocation
from commands.errors import Refused, UsageError
from commands.i18n import normalize_lang, t
from commands.reply import Reply, Text, reply_from_dict, reply_to_dict
from storage import outbox_store
from storage.models import InboundReceipt, Member, Team, UserPref
from storage.uow import UowFactory

log = logging.getLogger("teambot.dispatch")


class Dispatcher:
    def __init__(self, uow: UowFactory, clock: Clock, *, default_lang: str = "zh",
                 default_tz: str = "Asia/Shanghai"):
        self.uow = uow
        self.clock = clock
        self.default_lang = default_lang
        self.default_tz = default_tz

    def handle(self, inv: Invocation) -> Reply:
        route = router.find(inv.command)
        text = router.normalize(inv.text)
        ctx: Ctx | None = None
        try:
            with self.uow() as uow:
                s = uow.session
                if inv.delivery_key:
                    earlier = _receipt(s, inv)
                    if earlier is not None:
                        return earlier
                ctx = self.context(s, inv)
                if route is None:
                    raise UsageError("core.unknown_command", example="settings.example",
                                     command=inv.command)
                # Issue 6: a bare /task, /progress, /resource or /goal opens a form (a Slack modal;
                # a usage card elsewhere). It only reads, so no receipt is kept for it.
                if not text and forms.has_form(route.name):
                    return forms.form_reply(route.name, s, ctx)
                feature = router.module(route)
                req = feature.parse(text, ctx)
                reply = feature.run(req, uow, ctx)
                for msg in ctx.outgoing:
                    outbox_store.enqueue(s, platform=inv.actor.platform, destination=msg.destination,
                                         payload=reply_to_dict(msg.reply), now=ctx.now,
                                         dedupe_key=msg.dedupe_key)
                if inv.delivery_key:
                    # A Core insert, executed now (a concurrent retry's receipt raises IntegrityError
                    # here, inside the unit of work, which then rolls everything back).
                    s.connection().execute(_INSERT_RECEIPT, {
                        "platform": inv.actor.platform, "key": inv.delivery_key,
                        "reply_json": json.dumps(reply_to_dict(reply), ensure_ascii=False),
                        "received_at": ctx.now})
            return reply
        except UsageError as e:
            lang = ctx.lang if ctx else self._fallback_lang(inv)
            # Catalogs are named after the feature module (tasks.toml for the `task` route).
            feature = route.module.rsplit(".", 1)[-1] if route else "settings"
            return usage_reply(lang, e, feature)
        except IntegrityError:
            # A concurrent delivery of the same retry won the receipt insert: answer as it did.
            if inv.delivery_key:
                with self.uow() as uow:
                    earlier = _receipt(uow.session, inv)
                if earlier is not None:
                    return earlier
            return self._crash(inv, ctx)
        except Exception:
            return self._crash(inv, ctx)

    def context(self, s: Session, inv: Invocation) -> Ctx:
        actor = inv.actor
        keys = {"platform": actor.platform, "channel": inv.channel, "user": actor.user_id}
        # The person's saved language and time zone come with the team (one query, not two).
        team, member, pref_lang, pref_tz = s.execute(_TEAM_AND_MEMBER, keys).first() or (None,) * 4
        if team is None:
            # In a DM (or any unbound channel) the person's only team is meant.
            rows = s.execute(_ONLY_TEAM, keys).all()
            if len(rows) == 1:
                team, member = rows[0]
            pref_lang, pref_tz = s.connection().execute(_PREF, keys).first() or (None, None)
        lang = (pref_lang or (team.lang if team else None)
                or normalize_lang(actor.locale) or self.default_lang)
        tz_name = pref_tz or (team.tz if team else None) or actor.tz or self.default_tz
        try:
            tz = ZoneInfo(tz_name)
        except (KeyError, ValueError, OSError):
            tz = ZoneInfo(self.default_tz)
        return Ctx(inv=inv, lang=lang, tz=tz, now=self.clock.now(), team=team, member=member)

    def _fallback_lang(self, inv: Invocation) -> str:
        return normalize_lang(inv.actor.locale) or self.default_lang

    def _crash(self, inv: Invocation, ctx: Ctx | None) -> Reply:
        incident = uuid.uuid4().hex[:8]
        log.exception("command failed: incident=%s platform=%s user=%s command=%s text=%r", incident,
                      inv.actor.platform, inv.actor.user_id, inv.command, inv.text)
        lang = ctx.lang if ctx else self._fallback_lang(inv)
        return Reply.text(t(lang, "core.internal_error", incident=incident), ok=False)


def usage_reply(lang: str, e: UsageError, feature: str) -> Reply:
    message = t(lang, e.key, **e.args_)
    parts = [Text(("🚫 " if isinstance(e, Refused) else "⚠️ ") + message)]
    example_key = e.example or f"{feature}.example"
    if example_key != "-":
        parts.append(Text(t(lang, "core.example_label") + "\n" + t(lang, example_key)))
    # `error` names the message, so a form can show it on the field it is about.
    return Reply(parts=tuple(parts), private=True, ok=False, summary=message, error=e.key)


# Built once: on the hot path, building a statement costs more than running it.
_RECEIPT = select(InboundReceipt.reply_json).where(InboundReceipt.platform == bindparam("platform"),
                                                   InboundReceipt.key == bindparam("key"))
_PREF = select(UserPref.lang, UserPref.tz).where(UserPref.platform == bindparam("platform"),
                                                 UserPref.user_id == bindparam("user"))
_TEAM_AND_MEMBER = (select(Team, Member, _PREF.with_only_columns(UserPref.lang).scalar_subquery(),
                           _PREF.with_only_columns(UserPref.tz).scalar_subquery())
                    .outerjoin(Member, and_(Member.team_id == Team.id, Member.user_id == bindparam("user")))
                    .where(Team.platform == bindparam("platform"), Team.channel_id == bindparam("channel")))
_ONLY_TEAM = (select(Team, Member).join(Member, Member.team_id == Team.id)
              .where(Team.platform == bindparam("platform"), Member.user_id == bindparam("user")).limit(2))


_INSERT_RECEIPT = insert(InboundReceipt.__table__)


def _receipt(s: Session, inv: Invocation) -> Reply | None:
    raw = s.connection().execute(_RECEIPT, {"platform": inv.actor.platform, "key": inv.delivery_key}).scalar()
    return reply_from_dict(json.loads(raw)) if raw is not None else None
