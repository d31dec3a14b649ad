"""Reading the audit log: newest first, one page at a time, narrowed to an event or to who acted; its times in
the time zone of the entry's event (UTC for entries of no event), always named."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from babel.dates import get_timezone_name
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit import CHANGED, key_label
from ..converters import MAX_ID
from ..events.rules import utc_offset
from ..events.services import event_by_slug
from ..extensions import db
from ..locale_formats import current_locale, date_and_time
from ..models import AuditEntry, Event, Organizer

PER_PAGE = 50
_ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


@dataclass
class AuditFilter:
    """Which entries to show: of one event, by one organizer, or all; `problems` explains ignored parameters."""

    event: Event | None = None
    organizer: Organizer | None = None
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> "AuditFilter":
        """Read ?event=<slug>&organizer=<id> from a query string; unknown values are reported, not a 500."""
        result = cls()
        slug = args.get("event", "").strip()
        if slug:
            result.event = event_by_slug(slug) if len(slug) <= 80 else None
            if result.event is None:
                result.problems.append(_("There is no event %(slug)s; showing every event.", slug=slug))
        raw = args.get("organizer", "").strip()
        if raw:
            organizer_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
            known = organizer_id is not None and 1 <= organizer_id <= MAX_ID  # what the id column can hold
            result.organizer = db.session.get(Organizer, organizer_id) if known else None
            if result.organizer is None:
                result.problems.append(_("There is no organizer %(id)s; showing everyone.", id=raw))
        return result

    def query_args(self, **changes) -> dict:
        """The query string of this filter, with `changes` applied (for pagination links)."""
        values = {
            "event": self.event.slug if self.event else None,
            "organizer": self.organizer.id if self.organizer else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value is not None}


def audit_entries(audit_filter: AuditFilter, page: int, per_page: int = PER_PAGE) -> Pagination:
    """One page of the entries the filter selects, newest first (`page` as pagination.requested_page() clamps it);
    a page past the last one is empty (see pagination.last_page_if_beyond())."""
    query = (
        select(AuditEntry)
        .options(selectinload(AuditEntry.event), selectinload(AuditEntry.organizer))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    if audit_filter.event is not None:
        query = query.where(AuditEntry.event_id == audit_filter.event.id)
    if audit_filter.organizer is not None:
        query = query.where(AuditEntry.organizer_id == audit_filter.organizer.id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def entry_zone(entry: AuditEntry) -> tzinfo:
    """The time zone an entry's times are shown in: its event's, or UTC when it concerns no event."""
    return entry.event.zone if entry.event is not None else UTC


def _moment(moment: datetime, zone: tzinfo) -> tuple[str, str]:
    """A moment in `zone`, to the second, the way the reader's language writes dates, and its offset ("UTC+08:00",
    or "UTC" in UTC itself)."""
    text = date_and_time(moment, zone, "medium", seconds=True)
    return text, "UTC" if zone is UTC else utc_offset(moment.astimezone(zone))


def shown(value, zone: tzinfo = UTC) -> str:
    """A recorded value as text people read: yes/no, lists joined, times in `zone` with their offset, nothing as an
    empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(shown(item, zone) for item in value)
    if value == CHANGED:
        # The passport data and the visa travel details are recorded as changed, never with their values.
        return _("changed")
    if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
        # Times are recorded as ISO 8601 in UTC: show them to the second, as the entries' own times are.
        return " ".join(_moment(datetime.fromisoformat(value), zone))
    return str(value)


def changed_values(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """Each key the entry recorded (named for people), with its value before and after as text (times in the
    entry's zone); keys empty on both sides are left out."""
    before, after, zone = entry.before or {}, entry.after or {}, entry_zone(entry)
    keys = list(before) + [key for key in after if key not in before]
    rows = [(key_label(key), shown(before.get(key), zone), shown(after.get(key), zone)) for key in keys]
    return [row for row in rows if row[1] or row[2]]


@dataclass(frozen=True)
class EntryTime:
    """When an entry was made, as the log shows it: `text` in the zone that `zone` names ("China Time
    (UTC+08:00)", or "UTC" for an entry of no event), and `utc` in ISO 8601 for the datetime attribute."""

    text: str
    zone: str
    utc: str


def readable_time(entry: AuditEntry) -> EntryTime:
    """When the entry was made, in its event's time zone (UTC without an event), with the zone named."""
    zone = entry_zone(entry)
    text, offset = _moment(entry.created_at, zone)
    name = offset if zone is UTC else f"{get_timezone_name(zone, locale=current_locale())} ({offset})"
    return EntryTime(text, name, entry.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
