"""The audit log: every organizer action is recorded in the transaction that makes it, with before and after."""

from datetime import datetime

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .models import AuditEntry, Event, Organizer, Registration

# What a registration's audit entries keep: every field a person can see or change.
REGISTRATION_FIELDS = (
    "honorific",
    "given_name",
    "family_name",
    "native_name",
    "email",
    "institution",
    "position",
    "country",
    "category",
    "accompanying",
    "dietary",
    "accessibility",
    "visa_letter",
    "status",
    "checked_in_at",
)

# What each recorded key is called on the pages that show the log (the detail page's history, /admin/audit).
KEY_LABELS = {
    "honorific": _l("Title"),
    "given_name": _l("Given name"),
    "family_name": _l("Family name"),
    "native_name": _l("Name in own script"),
    "email": _l("Email"),
    "institution": _l("Institution"),
    "position": _l("Position"),
    "country": _l("Country or region"),
    "category": _l("Category"),
    "accompanying": _l("Accompanying persons"),
    "dietary": _l("Dietary requirements"),
    "accessibility": _l("Accessibility needs"),
    "visa_letter": _l("Visa letter"),
    "status": _l("Status"),
    "checked_in_at": _l("Checked in"),
    "slug": _l("Address (slug)"),
    "title": _l("Title of the event"),
    "description": _l("Description"),
    "venue": _l("Venue"),
    "city": _l("City"),
    "timezone": _l("Time zone"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "capacity": _l("Capacity"),
    "registration_opens_at": _l("Registration opens"),
    "registration_closes_at": _l("Registration closes"),
    "requires_approval": _l("Registrations need approval"),
    "contact_email": _l("Contact email"),
    "confirmation_note": _l("Note in the confirmation email"),
    "organizers": _l("Organizers"),
    "account": _l("Account"),
    "role": _l("Role"),
    "organizer": _l("Organizer"),
    "name": _l("Name"),
    "prefix": _l("First characters"),
    "id": _l("Number"),
}


def key_label(key: str) -> str:
    """What a recorded key is called for people; the key itself when it has no label."""
    return str(KEY_LABELS.get(key, key))


def _plain(value):
    """A value as JSON can hold it."""
    return value.isoformat() if isinstance(value, datetime) else value


def snapshot(obj, names) -> dict:
    """The named attributes of a row, JSON-ready, for an entry's before/after."""
    return {name: _plain(getattr(obj, name)) for name in names}


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    changed = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in changed}, {key: after[key] for key in changed}


def record(
    action: str,
    *,
    event: Event | None = None,
    registration: Registration | None = None,
    before: dict | None = None,
    after: dict | None = None,
    organizer: Organizer | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits it with the change it describes).

    `organizer` defaults to whoever is acting in this request; None outside a request means the system acted.
    """
    if organizer is None and has_request_context():
        # Imported here: auth imports this module's dependencies, and a top-level import would be circular.
        from .auth.access import current_organizer

        organizer = current_organizer()
    if registration is not None and event is None:
        event_id = registration.event_id
    else:
        event_id = event.id if event is not None else None
    entry = AuditEntry(
        organizer_id=organizer.id if organizer is not None else None,
        actor=organizer.email if organizer is not None else "",
        event_id=event_id,
        registration_id=registration.id if registration is not None else None,
        action=action,
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry


def entries_for_registration(registration_id: int) -> list[AuditEntry]:
    """A registration's audit entries, oldest first."""
    query = select(AuditEntry).where(AuditEntry.registration_id == registration_id).order_by(AuditEntry.id)
    return list(db.session.scalars(query))
