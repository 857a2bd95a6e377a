"""Optional multi-workspace mode: Slack OAuth ("Add to Slack"), installations kept in our database.

Off by default. On when both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set (settings.slack.client_id
/ client_secret); then
  * GET /slack/install shows the "Add to Slack" page (with a state cookie),
  * GET /slack/oauth_redirect finishes the install (oauth.v2.access) and stores it,
  * every request is authorized with its workspace's bot token from the store (Bolt's
    InstallationStoreAuthorize), so SLACK_BOT_TOKEN is not needed.
Installations and OAuth states live in slack_sdk's own tables (slack_installations, slack_bots,
slack_oauth_states), created with the stores' create_tables() on start (CREATE TABLE IF NOT EXISTS):
they belong to slack_sdk's schema, not to our models, so they are not part of our migrations (a
migration would make the models-vs-migrations check see tables no model has). The stores need the
`greenlet` package (slack_sdk imports sqlalchemy.ext.asyncio).
SLACK_REDIRECT_URI (settings.slack.redirect_uri) is optional: without it Slack uses the app's
configured redirect URL.
"""
from __future__ import annotations

import logging

from slack_bolt.oauth.oauth_settings import OAuthSettings

from bot.config import Settings
from bot.slack.manifest import BOT_SCOPES

log = logging.getLogger("teambot.slack.oauth")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
#: How long an "Add to Slack" click stays valid.
STATE_SECONDS = 600


def oauth_enabled(settings: Settings) -> bool:
    s = settings.slack
    return bool(getattr(s, "client_id", None) and getattr(s, "client_secret", None))


def oauth_settings(settings: Settings, *, engine=None) -> OAuthSettings | None:
    """Bolt's OAuth settings backed by our database (`engine`, from bot.wiring), or None when
    multi-workspace mode is off."""
    if not oauth_enabled(settings):
        return None
    # Imported here: slack_sdk's SQLAlchemy stores import sqlalchemy.ext.asyncio, which needs the
    # `greenlet` package; a single-workspace bot never loads them.
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    if engine is None:
        raise ValueError("multi-workspace mode keeps its installations in the bot's database: pass its engine")
    s = settings.slack
    installations = SQLAlchemyInstallationStore(client_id=s.client_id, engine=engine, logger=log)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine, logger=log)
    installations.create_tables()
    states.create_tables()
    return OAuthSettings(
        client_id=s.client_id,
        client_secret=s.client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installations,
        state_store=states,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        redirect_uri=getattr(s, "redirect_uri", None) or None,
    )
