"""Form submissions (`tb:form:` callback ids). The values become the typed command (forms.compose)
and run as the submitting user, deduped by view id + command, so a retry of this very submission
writes once. A refusal comes back as `response_action: errors` on the field it is about; a success
closes the modal and is answered where the form was opened (bridge.tell)."""
from __future__ import annotations

import hashlib
import logging
import re

from slack_bolt import App
from slack_sdk import WebClient

from bot.kit.markup import plain
from bot.kit.notices import generic_error
from bot.slack.bridge import SlackBridge, lang_of, token_of
from bot.slack.modals import CALLBACK_PREFIX, errors, input_ids, read_metadata, submitted_values
from commands.core import forms
from commands.core.router import split_command
from commands.i18n import t

log = logging.getLogger("teambot.slack")


def _submission_key(view: dict, command: str) -> str:
    return f"view:{view.get('id') or ''}:{hashlib.sha256(command.encode()).hexdigest()[:16]}"


def register(app: App, bridge: SlackBridge) -> None:
    @app.view(re.compile("^" + re.escape(CALLBACK_PREFIX)))
    def on_submit(ack, body: dict, view: dict, client: WebClient, context) -> None:
        user_id = ((body.get("user") or {}).get("id")) or ""
        token = token_of(context)
        meta = read_metadata(view)
        form_id = meta.get("f") or (view.get("callback_id") or "")[len(CALLBACK_PREFIX):]
        present, values = input_ids(view), submitted_values(view)
        channel = forms.channel_of(values) or meta.get("c") or ""
        answer: dict = {}
        reply = inv = None
        try:
            try:
                command = forms.compose(form_id, values, meta.get("s") or "")
            except forms.FieldError as e:
                field = e.field if e.field in present else forms.field_for_error(form_id, e.key, present)
                answer = errors(field, t(bridge.lang(user_id, channel, token=token), e.key, **e.args_))
            else:
                name, text = split_command(command)
                inv = bridge.invocation(user_id=user_id, channel_id=channel, command=name, text=text,
                                        delivery_key=_submission_key(view, command), token=token)
                reply = bridge.run(inv)
                if not reply.ok:
                    answer = errors(forms.field_for_error(form_id, reply.error, present),
                                    plain(reply.summary or reply.plain()))
        except Exception:
            log.exception("form submission failed: %s by %s", form_id, user_id)
            answer, reply = (errors(present[0], generic_error()) if present else {}), None
        ack(**answer)  # no errors: the modal closes
        if answer or reply is None:
            return
        try:
            # Answered where the form was opened (the channel picked only says which team).
            bridge.tell(client, user_id, meta.get("c") or "", reply, lang_of(inv))
        except Exception:
            log.exception("could not deliver the answer to a form by %s", user_id)
        bridge.publish_home(client, user_id, token=token)

    # A modal we did not make, or one closed: acknowledged and left alone.
    @app.view(re.compile(".*"))
    def on_other_view(ack) -> None:
        ack()
