"""Telling delegates that their event moved: one "event_changed" mail each, queued with the change itself.

The mail carries the updated ticket (QR code and calendar entry with the same UID and a higher SEQUENCE, see
tickets/codes.py), so a calendar replaces the stale entry the confirmation brought.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import insert, select

from ..extensions import db
from ..mail.queue import mail_row
from ..models import ACTIVE, Event, OutboxMessage, Registration
from ..templating import event_time

# What a delegate's ticket and calendar entry show of the event (see tickets.codes.calendar_entry): a change to any of
# them is worth a mail. The description is in the calendar entry too, but a reworded text sends nobody elsewhere.
CALENDAR_FIELDS = ("title", "venue", "city", "timezone", "starts_at", "ends_at")

# Rows written per INSERT: an event of tens of thousands of delegates stays a handful of statements.
BATCH = 1000


def moved(changed: dict) -> bool:
    """Whether the changed fields (EventUpdate.changed) touch what a delegate's ticket shows."""
    return any(name in changed for name in CALENDAR_FIELDS)


def tell_delegates(event: Event, before: dict, after: dict) -> int:
    """Queue one "event_changed" mail to every active registration of the event whose data is not erased, in the
    caller's transaction (the event row locked, so no registration slips in between); returns how many.

    `before` and `after` are the event's CALENDAR_FIELDS as audit.snapshot() gives them (JSON-ready strings): the
    mail is rendered later by the worker and tells the change as it was made.
    """
    details = {"before": before, "after": after}
    query = (
        select(Registration.id, Registration.email, Registration.status)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(ACTIVE),
            Registration.erased_at.is_(None),
        )
        .order_by(Registration.id)
    )
    connection = db.session.connection()
    told = 0
    for batch in db.session.execute(query).partitions(BATCH):
        rows = [{"registration_id": row.id, **mail_row("event_changed", row, details=details)} for row in batch]
        connection.execute(insert(OutboxMessage.__table__), rows)
        told += len(rows)
    return told


def event_change_rows(details: dict) -> list[tuple[str, str, str]]:
    """(label, before, now) for each detail an "event_changed" mail reports, as the delegate reads them: times in
    the event's timezone (before: the old zone, now: the new one), the place as "venue, city"."""
    before, after = details.get("before", {}), details.get("after", {})
    shown = [
        (_("Event"), before.get("title", ""), after.get("title", "")),
        (_("Starts"), _time(before, "starts_at"), _time(after, "starts_at")),
        (_("Ends"), _time(before, "ends_at"), _time(after, "ends_at")),
        (_("Venue"), _place(before), _place(after)),
    ]
    return [(label, old, new) for label, old, new in shown if old != new]


class _Zone:
    """What templating.event_time needs of an event: its zone, to show a time in it."""

    def __init__(self, timezone: str):
        self.zone = ZoneInfo(timezone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


def _time(values: dict, name: str) -> str:
    if not values.get(name):
        return ""
    return event_time(datetime.fromisoformat(values[name]), _Zone(values["timezone"]))


def _place(values: dict) -> str:
    return f"{values.get('venue', '')}, {values.get('city', '')}"
