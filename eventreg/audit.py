"""The audit log: every organizer action is recorded in the transaction that makes it, with before and after;
so are the delegate's own changes through their private link."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .models import AuditEntry, Event, Organizer, Registration, utcnow

# The actor of an entry made by the delegate through their private link. It has no "@", so no organizer's
# address can be mistaken for it.
DELEGATE = "delegate"

# The organizer acting in the current request: set by the web layer (auth/access.py) once the login is known, and
# reset when the request ends. None when nobody is logged in, and outside requests (the CLI, the outbox worker),
# where the system acts. A ContextVar, so this module needs nothing from auth (Flask-Login, `g`).
acting_organizer: ContextVar[Organizer | None] = ContextVar("audit_acting_organizer", default=None)

# Who acts in the current block, and on which registration (see `acting_as`).
_acting: ContextVar[tuple[str, int] | None] = ContextVar("audit_acting", default=None)

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

# The value recorded for keys whose values must never be recorded (the passport data, the visa travel details).
CHANGED = "changed"

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
    # Keys whose only value is "changed": the passport data and the visa travel details are never recorded.
    "passport_data": _l("Passport data"),
    "visa_travel": _l("Visa travel details"),
    "status": _l("Status"),
    "checked_in_at": _l("Checked in"),
    "language": _l("Language"),
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
    "delegates_told": _l("Delegates told by mail"),
    "contact_email": _l("Contact email"),
    "confirmation_note": _l("Note in the confirmation email"),
    "show_seats_left": _l("Seats left shown to the public"),
    "public_min_country_count": _l("Fewest participants to name a country or region on the public counter"),
    "organizers": _l("Organizers"),
    "account": _l("Account"),
    "role": _l("Role"),
    "organizer": _l("Organizer"),
    "name": _l("Name"),
    "prefix": _l("First characters"),
    "id": _l("Number"),
    "admission": _l("Who may register"),
    "invitation_note": _l("Paragraph of the invitation email"),
    "invitation": _l("Invitation"),
    "invitations": _l("Invitations"),
    "file": _l("File"),
    "add": _l("Rows added"),
    "update": _l("Rows updated"),
    "refused": _l("Rows refused"),
    "reason": _l("Reason"),
    "count": _l("Number of recipients"),
    "audience": _l("Recipients"),
    "days_before": _l("Days before registration closes"),
    "days_before_start": _l("Days before the event starts"),
    "due_at": _l("Due"),
    "delegation": _l("Delegation"),
    "delegation_id": _l("Delegation"),
    "is_focal_point": _l("Focal point"),
    "skip_approval": _l("Confirmed without approval"),
    "quota": _l("Quota"),
    "number": _l("Letter number"),
    "host_organisation": _l("Host organisation"),
    "address": _l("Address"),
    "signatory_name": _l("Signatory's name"),
    "signatory_title": _l("Signatory's title"),
    "logo_id": _l("Logo"),
    "signature_id": _l("Signature"),
    "letter_prefix": _l("Letter number prefix"),
    "letter_template": _l("Visa letter (English)"),
    "second_language": _l("Second language on the letter"),
    "second_template": _l("Visa letter in the second language"),
    "label_sheet": _l("Custom label sheet"),
    "message": _l("Message number"),
    "subject": _l("Subject"),
    "recipients": _l("Recipients reached"),
    "resent": _l("Mails queued again"),
    "reminder": _l("Reminder number"),
    "languages": _l("Versions in other languages"),
    "attach_ticket": _l("Ticket attached"),
}


# What each action is called on the pages that show the log. Every code the code base records has one
# (tests/test_audit_labels.py walks the code for them).
ACTION_LABELS = {
    "account.created": _l("Account created"),
    "account.role_changed": _l("Role changed"),
    "account.deactivated": _l("Account deactivated"),
    "account.reactivated": _l("Account reactivated"),
    "account.password_changed": _l("Own password changed"),
    "account.password_reset": _l("Password reset by an administrator"),
    "token.created": _l("API token created"),
    "token.revoked": _l("API token revoked"),
    "event.created": _l("Event created"),
    "event.updated": _l("Event changed"),
    "event.organizer_added": _l("Organizer assigned to the event"),
    "event.organizer_removed": _l("Organizer removed from the event"),
    "registration.created": _l("Registered"),
    "registration.edited": _l("Registration edited"),
    "registration.cancelled": _l("Registration cancelled"),
    "registration.approved": _l("Registration approved"),
    "registration.rejected": _l("Registration rejected"),
    "registration.promoted": _l("Promoted from the waiting list"),
    "registration.checked_in": _l("Checked in"),
    "registration.check_in_undone": _l("Check-in undone"),
    "registration.erased": _l("Personal data erased"),
    "mail.resent": _l("Failed mail queued again"),
    "registration.confirmation_resent": _l("Confirmation sent again"),
    "event.categories_changed": _l("Categories changed"),
    "event.documents_changed": _l("Document settings changed"),
    "visa.issued": _l("Visa letter issued"),
    "visa.refused": _l("Visa request refused"),
    "visa.withdrawn": _l("Visa letter withdrawn"),
    "invitation.created": _l("Invitation created"),
    "invitation.updated": _l("Invitation changed"),
    "invitation.sent": _l("Invitation mails queued"),
    "invitation.imported": _l("Invitations imported"),
    "invitation.declined": _l("Invitation declined"),
    "invitation.reminded": _l("Invitation reminder sent"),
    "invitation.reminder_scheduled": _l("Invitation reminder scheduled"),
    "invitation.reminder_removed": _l("Scheduled invitation reminder removed"),
    "delegation.created": _l("Delegation created"),
    "delegation.updated": _l("Delegation changed"),
    "delegation.deleted": _l("Delegation deleted"),
    "delegation.member_added": _l("Added to a delegation"),
    "delegation.member_removed": _l("Removed from a delegation"),
    "delegation.invitation_changed": _l("Invitation's delegation changed"),
    "delegation.joined": _l("Joined a delegation"),
    "delegation.left": _l("Left a delegation"),
    "message.sent": _l("Message sent to delegates"),
    "message.test_sent": _l("Test of a message sent to its author"),
    "message.failed_resent": _l("Failed mails of a message queued again"),
    "reminder.added": _l("Event reminder scheduled"),
    "reminder.changed": _l("Event reminder changed"),
    "reminder.removed": _l("Event reminder removed"),
    "reminder.sent": _l("Event reminder sent to delegates"),
    "reminder.not_sent": _l("Event reminder not sent"),
}


def action_label(action: str) -> str:
    """What an audit action is called for people, in the reader's language; the code itself when it has none."""
    return str(ACTION_LABELS.get(action, action))


def actor_label(actor: str) -> str:
    """Who acted, for people: an organizer's address, "the delegate", or "the system" when nobody is named."""
    if actor == DELEGATE:
        return str(_l("the delegate"))
    return actor or str(_l("the system"))


@contextmanager
def acting_as(actor: str, registration: Registration) -> Iterator[None]:
    """Inside the block, entries about `registration` name `actor` (e.g. the delegate, through code that records
    for organizers too) and entries about other registrations (the waiting list promoted into freed seats) name
    the system, never the organizer who may be logged in to the same browser."""
    reset = _acting.set((actor, registration.id))
    try:
        yield
    finally:
        _acting.reset(reset)


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
    actor: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits it with the change it describes).

    `organizer` defaults to whoever acts in this request (`acting_organizer`); None outside a request means the
    system acted.
    `actor` (or an enclosing `acting_as()`) names someone who is not an organizer, e.g. `DELEGATE`: the entry
    then names no organizer, even if one is logged in to the browser the delegate uses ("" names the system).
    """
    acting = _acting.get()
    if actor is None and acting is not None:
        actor = acting[0] if registration is not None and registration.id == acting[1] else ""
    if actor is not None:
        organizer = None
    elif organizer is None:
        organizer = acting_organizer.get()
    if registration is not None and event is None:
        event_id = registration.event_id
    else:
        event_id = event.id if event is not None else None
    entry = AuditEntry(
        organizer_id=organizer.id if organizer is not None else None,
        actor=organizer.email if organizer is not None else actor or "",
        event_id=event_id,
        registration_id=registration.id if registration is not None else None,
        action=action,
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry


def same_moment(entry: AuditEntry, *messages) -> None:
    """Give a change and the mails it causes one time, so a history lists the change first (defaults would be
    taken at flush, table by table, in an order of SQLAlchemy's choosing)."""
    entry.created_at = utcnow()
    for message in messages:
        message.created_at = message.next_attempt_at = entry.created_at


def entries_for_registration(registration_id: int) -> list[AuditEntry]:
    """A registration's audit entries, oldest first."""
    query = select(AuditEntry).where(AuditEntry.registration_id == registration_id).order_by(AuditEntry.id)
    return list(db.session.scalars(query))
