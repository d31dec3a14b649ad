"""The rules of registering: the window, duplicates, a seat or the waiting list, and the confirmation mail."""

import hmac
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..categories.services import category_setter
from ..extensions import db
from ..forms import column_length
from ..mail.queue import mail_row
from ..models import (
    ACTIVE,
    Admission,
    AuditEntry,
    CategorySetter,
    Event,
    Invitation,
    InvitationStatus,
    OutboxMessage,
    Registration,
    Status,
    VisaApplication,
    casefold_key,
    counted,
    move_event_counters,
    new_checkin_code,
    new_token,
    token_digest,
    utcnow,
)
from ..ops.instruments import count_refusal, count_registration
from ..visas.application import VisaDetails, new_application_row
from .capacity import decide_status, locked_event, outgrows_event


class RegistrationRefused(Exception):
    """A registration that the rules do not allow; `message` is shown to the delegate."""

    field: str | None = None

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class RegistrationClosed(RegistrationRefused):
    """The event's registration window is not open."""


class EventFull(RegistrationRefused):
    """The seats asked for are not free (a change to a registration that already holds seats)."""


class InvitationRequired(RegistrationRefused):
    """The event admits only invited people, and the registration carries no valid invitation."""


class QuotaReached(RegistrationRefused):
    """The delegation already holds as many active registrations as its quota allows."""


class CategoryNotOffered(RegistrationRefused):
    """The category is not one the delegate may choose: the event has no such category, or the organizers set it."""

    field = "category"


class DuplicateRegistration(RegistrationRefused):
    """The email already holds an active registration for this event."""

    field = "email"


@dataclass(frozen=True)
class DelegateDetails:
    """What a delegate tells us about themselves, already validated by the form."""

    honorific: str
    given_name: str
    family_name: str
    native_name: str
    email: str
    institution: str
    position: str
    country: str
    category: str
    accompanying: int
    dietary: str
    accessibility: str
    visa_letter: bool
    # What a consulate needs (visas.forms), kept only when visa_letter is ticked; None: not asked (an organizer's
    # edit, an import), so an edit leaves the application as it is.
    visa: VisaDetails | None = None


@dataclass(frozen=True)
class Membership:
    """How a registration comes beyond the public form: through an invitation (models.guests.Invitation), as a
    member of a delegation (registered by its focal point, checked against `quota` under the event lock)."""

    invitation_id: int | None = None
    skip_approval: bool = False
    delegation_id: int | None = None
    is_focal_point: bool = False
    quota: int | None = None
    # What the confirmation mail says beyond the registration (e.g. the focal point who registered a member).
    mail_details: dict | None = None
    # A category the organizers assigned (an invitation's, a focal point's choice for a member): the registration
    # may then carry it although delegates cannot choose it.
    assigned_category: str = ""

    @property
    def admits(self) -> bool:
        """Whether it opens an event that admits only invited people."""
        return self.invitation_id is not None or self.delegation_id is not None


def register_delegate(
    event_id: int,
    details: DelegateDetails,
    language: str,
    submission_key: str | None = None,
    membership: Membership | None = None,
) -> Registration:
    """Register one delegate and queue their confirmation mail, in one transaction.

    The registration gets a seat (confirmed, or pending approval) when the seats it asks for are free, else it
    joins the waiting list. Raises a RegistrationRefused subclass (and writes nothing) when the window is closed
    or the email is already registered, the event admits only invited people and `membership` admits none, or the
    delegation's quota is reached. With a visa letter asked for and `details.visa` given, the delegate's
    visa application is written in the same transaction. A repeated submission
    of the same form (the same `submission_key`, e.g. a double tap) returns the first registration.

    The hot path of a registration rush, so the event stays locked for five statements only (lock, insert the
    registration, move the event's counters, insert the mail and the audit entry) and they are plain SQL, not an
    ORM flush: the row and its keys are built before the lock, and duplicates are refused by the partial unique
    index (no query first).
    The registration returned is not attached to a session: its columns are loaded, its relationships are not.
    """
    email_key = casefold_key(details.email, column_length(Registration.email_key))
    seats = 1 + details.accompanying
    now = utcnow()
    # Built as an object so the model's validators compute the search and comparison keys, then written by Core.
    registration = Registration(
        event_id=event_id,
        token=new_token(),
        checkin_code=new_checkin_code(),
        consent_at=now,
        created_at=now,
        updated_at=now,
        language=language,
        submission_key=submission_key or None,
        delegation_id=membership.delegation_id if membership else None,
        is_focal_point=bool(membership and membership.is_focal_point),
        **{name: value for name, value in details.__dict__.items() if name != "visa"},
    )
    table = Registration.__table__
    # Sealed before the lock: encrypting takes longer than the insert.
    visa = details.visa if details.visa_letter else None
    visa_row = new_application_row(event_id, visa) if visa is not None else None
    try:
        check_category(event_id, details.category, membership.assigned_category if membership else "")
        with locked_event(event_id) as event:
            if event.registration_state() != "open":
                raise RegistrationClosed(_l("Registration for this event is not open."))
            if event.admission == Admission.INVITATION and not (membership and membership.admits):
                raise InvitationRequired(_l("Registration for this event is by invitation only."))
            if outgrows_event(event, seats):
                raise group_too_big(event.capacity, seats)
            if membership and membership.quota is not None:
                check_quota(membership.delegation_id, membership.quota)
            registration.status = decide_status(event, seats)
            if membership and membership.skip_approval and registration.status == Status.PENDING:
                registration.status = Status.CONFIRMED
            # Registered now, under the lock, as its id and its seat or place are given: "oldest first" is then the
            # order the event took them in (a time read before the lock could be older than the one before it).
            now = registration.created_at = registration.updated_at = utcnow()
            row = {
                column.key: registration.__dict__[column.key]
                for column in table.columns
                if column.key in registration.__dict__
            }
            connection = db.session.connection()
            # Values passed apart from the statement: SQLAlchemy caches the compiled INSERT instead of building it anew.
            registration.id = connection.execute(insert(table).returning(table.c.id), row).scalar_one()
            if visa_row is not None:
                connection.execute(insert(VisaApplication.__table__), {**visa_row, "registration_id": registration.id})
            move_event_counters(connection, {event.id: counted(registration.status, details.accompanying)})
            mail = mail_row("confirmation", registration, details=membership.mail_details if membership else None)
            connection.execute(insert(OutboxMessage.__table__), {"registration_id": registration.id, **mail})
            connection.execute(insert(AuditEntry.__table__), _created_entry(registration, now))
            if membership and membership.invitation_id is not None:
                _mark_invitation_registered(connection, membership.invitation_id, registration.id, now)
    except RegistrationRefused as refusal:
        count_refusal(refusal)  # /metrics: registrations by outcome
        raise
    except IntegrityError:
        # The address already holds an active registration for the event: the partial unique index said so.
        existing = active_registration(event_id, email_key)
        if existing is not None and submission_key and existing.submission_key == submission_key:
            return existing
        if existing is not None:
            refusal = _duplicate()
            count_refusal(refusal)
            raise refusal from None
        raise
    count_registration(registration.status)
    return registration


def check_category(event_id: int, code: str, assigned: str = "") -> None:
    """Refuse a category the event does not have, or one the organizers set when it is not the `assigned` one
    (checked before the event lock: categories change rarely, and a deleted one is never carried)."""
    setter = category_setter(event_id, code)
    if setter is None:
        raise CategoryNotOffered(_l("Please choose one of the categories offered."))
    if (setter != CategorySetter.DELEGATES or assigned) and code != assigned:
        raise CategoryNotOffered(
            _l("This category is assigned by the organizers; please choose one of the categories offered.")
        )


def check_quota(delegation_id: int | None, quota: int) -> None:
    """Refuse one more member when the delegation's active member registrations already fill its quota (called
    with the event locked, so two focal points cannot both take the last place). Focal points lead the delegation
    and take no place of its quota: a quota of three is three members besides them."""
    members = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.delegation_id == delegation_id,
            Registration.status.in_(ACTIVE),
            Registration.is_focal_point.is_(False),
        )
    )
    if members >= quota:
        raise QuotaReached(
            ngettext(
                "Your delegation may register %(num)d person, and that place is taken.",
                "Your delegation may register %(num)d people, and every place is taken.",
                quota,
            )
        )


def _mark_invitation_registered(connection, invitation_id: int, registration_id: int, now) -> None:
    """The invitation answered by this registration, in its transaction."""
    table = Invitation.__table__
    connection.execute(
        update(table)
        .where(table.c.id == invitation_id)
        .values(status=InvitationStatus.REGISTERED, registration_id=registration_id, answered_at=now, updated_at=now)
    )


def _created_entry(registration: Registration, now) -> dict:
    """The audit entry of a new registration, made by the delegate, as a row for a Core insert."""
    return {
        "created_at": now,
        "actor": audit.DELEGATE,
        "event_id": registration.event_id,
        "registration_id": registration.id,
        "action": "registration.created",
        "after": {"status": registration.status},
    }


def group_too_big(capacity: int, seats: int) -> EventFull:
    """The refusal of a group that could never be seated: more seats than the event has in all."""
    refusal = EventFull(
        ngettext(
            "This event has %(num)d seat in all, so a group of %(seats)d cannot be seated. "
            "Please register fewer accompanying persons.",
            "This event has %(num)d seats in all, so a group of %(seats)d cannot be seated. "
            "Please register fewer accompanying persons.",
            capacity,
            seats=seats,
        )
    )
    refusal.field = "accompanying"
    return refusal


def active_registration(event_id: int, email_key: str) -> Registration | None:
    """The address's registration for the event that is not cancelled or rejected, if any."""
    query = select(Registration).where(
        Registration.event_id == event_id,
        Registration.email_key == email_key,
        Registration.status.in_(ACTIVE),
    )
    return db.session.scalar(query)


def _duplicate() -> DuplicateRegistration:
    return DuplicateRegistration(
        _l(
            "This email address is already registered for this event. "
            "The confirmation email we sent to it has the private link to your registration."
        )
    )


def find_registration(token: str) -> Registration | None:
    """The registration behind a private link, or None."""
    if not token or len(token) > 64:
        return None
    # Found by the token's digest, then the tokens compared in constant time: no step takes longer the more of a
    # real token a guess gets right (models.common.token_digest).
    registration = db.session.scalar(select(Registration).where(Registration.token_digest == token_digest(token)))
    if registration is None or not hmac.compare_digest(registration.token.encode(), token.encode()):
        return None
    return registration


def upcoming_events() -> list[Event]:
    """Events that have not ended yet, soonest first."""
    query = select(Event).where(Event.ends_at >= utcnow()).order_by(Event.starts_at)
    return list(db.session.scalars(query))
