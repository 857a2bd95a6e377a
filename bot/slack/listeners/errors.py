"""The last resort: an exception that escaped a listener is logged and answered with 200, the
generic notice for a slash command, an empty body for the rest."""
from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse

from bot.kit.notices import generic_error

log = logging.getLogger("teambot.slack")


def register(app: App) -> None:
    @app.error
    def on_error(error: Exception, body: dict) -> BoltResponse:
        log.error("unhandled error in the Slack app: %s", type(error).__name__, exc_info=error)
        if isinstance(body, dict) and body.get("command"):
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": generic_error()})
        return BoltResponse(status=200, body="")
