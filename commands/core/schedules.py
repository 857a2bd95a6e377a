"""A team's scheduled posts as stored: what a schedule is (ScheduleSpec), whether one can work
(validate_spec), and the one way a team's schedule row is created or changed (upsert_schedule), used
by reminders.schedule.set_schedule and by commands that move a post (/agenda schedule)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from dateutil.rrule import rrulestr
from sqlalchemy import select
from sqlmodel import Session

from storage.models import Schedule

ON_HOLIDAY = ("move", "skip", "keep")
#: Anchor for rules with INTERVAL > 1 ("every 2 weeks"), so their phase does not depend on today.
ANCHOR = datetime(2024, 1, 1)  # a Monday


def validate_spec(rule: str, local_time: str, on_holiday: str = "move") -> None:
    """ValueError with a readable message when a schedule cannot work (for commands and config)."""
    try:
        time.fromisoformat(local_time)
        if len(local_time) != 5:
            raise ValueError
    except ValueError:
        raise ValueError(f"time '{local_time}': expected HH:MM, e.g. 09:30") from None
    upper = rule.upper()
    if "COUNT=" in upper or "UNTIL=" in upper or "DTSTART" in upper:
        raise ValueError(f"rule '{rule}': COUNT, UNTIL and DTSTART are not supported")
    try:
        rrulestr(rule, dtstart=ANCHOR)
    except (ValueError, TypeError) as e:
        raise ValueError(f"rule '{rule}': not a valid RRULE ({e}); e.g. FREQ=WEEKLY;BYDAY=MO") from None
    if on_holiday not in ON_HOLIDAY:
        raise ValueError(f"on_holiday '{on_holiday}': expected one of {', '.join(ON_HOLIDAY)}")


@dataclass(frozen=True)
class ScheduleSpec:
    #: RRULE body over local dates, e.g. "FREQ=DAILY", "FREQ=WEEKLY;BYDAY=FR", "FREQ=MONTHLY;BYMONTHDAY=1".
    rule: str
    #: Local wall-clock time, "HH:MM".
    local_time: str
    on_holiday: str = "move"
    enabled: bool = True

    def __post_init__(self) -> None:
        validate_spec(self.rule, self.local_time, self.on_holiday)

    @property
    def hm(self) -> tuple[int, int]:
        t = time.fromisoformat(self.local_time)
        return t.hour, t.minute


def upsert_schedule(session: Session, team_id: int, kind: str, default: ScheduleSpec, *, by: str, now: datetime,
                    rule: str | None = None, local_time: str | None = None, on_holiday: str | None = None,
                    enabled: bool | None = None) -> Schedule:
    """Create (from `default`) or change the team's row for `kind`; what is not given stays.
    ValueError when the result cannot work."""
    row = session.scalars(select(Schedule).where(Schedule.team_id == team_id, Schedule.kind == kind)).first()
    if row is None:
        row = Schedule(team_id=team_id, kind=kind, rule=default.rule, local_time=default.local_time,
                       on_holiday=default.on_holiday, enabled=default.enabled, created_by=by,
                       created_at=now, updated_at=now)
    new_rule = rule if rule is not None else row.rule
    new_time = local_time if local_time is not None else row.local_time
    new_hol = on_holiday if on_holiday is not None else row.on_holiday
    validate_spec(new_rule, new_time, new_hol)
    row.rule, row.local_time, row.on_holiday = new_rule, new_time, new_hol
    if enabled is not None:
        row.enabled = enabled
    row.updated_at = now
    session.add(row)
    return row
