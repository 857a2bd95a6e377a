"""A feature that writes and then fails, to prove the dispatcher leaves nothing half-written."""
from datetime import datetime, timezone

from storage.models import UserPref


def parse(text, ctx):
    return text


def run(req, uow, ctx):
    uow.session.add(UserPref(platform="console", user_id="half-written", updated_at=datetime.now(timezone.utc)))
    uow.flush()
    raise RuntimeError("boom: secret internals")
