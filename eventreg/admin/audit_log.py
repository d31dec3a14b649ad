"""Reading the audit log: newest first, one page at a time, narrowed to an event or to who acted."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from babel.dates import format_datetime
from flask import abort
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit import key_label
from ..events import event_by_slug
from ..extensions import db
from ..models import AuditEntry, Event, Organizer

PER_PAGE = 50
_ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")
MAX_PAGE = 1_000_000  # keeps OFFSET within a 64-bit integer


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
            result.organizer = db.session.get(Organizer, organizer_id) if organizer_id else None
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
    """One page of the entries the filter selects, newest first; 404 past the last page."""
    if page > MAX_PAGE:
        abort(404)
    query = (
        select(AuditEntry)
        .options(selectinload(AuditEntry.event), selectinload(AuditEntry.organizer))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    if audit_filter.event is not None:
        query = query.where(AuditEntry.event_id == audit_filter.event.id)
    if audit_filter.organizer is not None:
        query = query.where(AuditEntry.organizer_id == audit_filter.organizer.id)
    entries = db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)
    if entries.page > max(entries.pages, 1):
        abort(404)
    return entries


def shown(value) -> str:
    """A recorded value as text people read: yes/no, lists joined, nothing as an empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value)
    if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
        # Times are recorded as ISO 8601 in UTC: show them to the second, as the entries' own times are.
        moment = datetime.fromisoformat(value)
        return format_datetime(moment, "d MMM y, HH:mm:ss 'UTC'", tzinfo=UTC, locale=get_locale())
    return str(value)


def changed_values(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """Each key the entry recorded (named for people), with its value before and after as text; keys empty on both
    sides are left out."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(before) + [key for key in after if key not in before]
    rows = [(key_label(key), shown(before.get(key)), shown(after.get(key))) for key in keys]
    return [row for row in rows if row[1] or row[2]]


def readable_time(entry: AuditEntry) -> str:
    """When the entry was made, in UTC, written the way the reader's language writes dates."""
    return format_datetime(entry.created_at, "d MMM y, HH:mm:ss", tzinfo=UTC, locale=get_locale())
