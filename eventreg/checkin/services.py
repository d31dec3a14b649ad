"""The check-in desk's rules: which events an account may staff, finding a ticket by its code or a delegate by
name, checking in (once, under the event lock) and undoing it, each with its audit entry."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from .. import audit
from ..attendees.filters import MAX_QUERY_LENGTH, MAX_SEARCH_TERMS, SORTS
from ..documents.certificates import cancel_certificate_mails
from ..events.services import event_by_slug, events_run_by
from ..extensions import db
from ..locale_formats import day, time_of_day
from ..models import (
    CHECKIN_ALPHABET,
    CHECKIN_CODE_LENGTH,
    Event,
    Organizer,
    Registration,
    Right,
    Status,
    search_key,
    utcnow,
)
from ..registration.capacity import locked_event
from ..registration.credentials import code_was_replaced

SEARCH_LIMIT = 20  # names shown for one search at the desk; a longer list means the staff should type more
# Crockford's base 32 reads O as 0 and I, L as 1, so a code read aloud or typed from a smudged ticket still matches.
_CROCKFORD_READS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = str.maketrans("", "", " -\t\u00a0")


class NotAtThisDesk(Exception):
    """The desk has no such event, or the event no such registration (the views answer 404)."""


class NotYourDesk(Exception):
    """The account may not staff this event's desk (the views answer 403)."""


class CheckInRefused(Exception):
    """The desk cannot admit: no such ticket, another event's ticket, or a registration without a seat."""

    def __init__(self, message: str, registration: Registration | None = None):
        super().__init__(message)
        self.message, self.registration = message, registration


@dataclass(frozen=True)
class CheckInResult:
    """What a tap on "Check in" did: `newly` is False when the delegate had already been checked in."""

    registration: Registration
    newly: bool


def may_staff(organizer: Organizer, event: Event) -> bool:
    """True when the account may work at the event's desk: an admin anywhere, anyone with the check-in right at the
    events assigned to them (check-in staff are assigned to events like organizers)."""
    if organizer.can(Right.MANAGE_ALL_EVENTS):
        return True
    return organizer.can(Right.CHECK_IN) and any(own.id == event.id for own in organizer.events)


def desk_event(slug: str, organizer: Organizer | None) -> Event:
    """The event at `slug` if the account may staff its desk; NotAtThisDesk when there is none, NotYourDesk when it
    is not theirs."""
    event = event_by_slug(slug)
    if event is None:
        raise NotAtThisDesk(slug)
    if organizer is None or not may_staff(organizer, event):
        raise NotYourDesk(slug)
    return event


def desk_events(organizer: Organizer) -> list[Event]:
    """The events whose desk the account may staff (every event, for an admin), latest start first."""
    return events_run_by(organizer)


def normalise_code(typed: str) -> str:
    """A typed code as stored: spaces and hyphens dropped, upper case, O read as 0 and I, L as 1 (Crockford)."""
    return typed.translate(_IGNORED).upper().translate(_CROCKFORD_READS)[: CHECKIN_CODE_LENGTH * 2]


def _code_is_well_formed(code: str) -> bool:
    return len(code) == CHECKIN_CODE_LENGTH and all(ch in CHECKIN_ALPHABET for ch in code)


def find_by_code(event: Event, typed: str) -> Registration:
    """The registration whose ticket carries this code, for this event; CheckInRefused otherwise."""
    code = normalise_code(typed)
    if not _code_is_well_formed(code):
        raise CheckInRefused(
            _(
                "A ticket code has %(length)d letters and digits; %(code)r is not one.",
                length=CHECKIN_CODE_LENGTH,
                code=typed.strip()[:40],
            )
        )
    registration = db.session.scalar(select(Registration).where(Registration.checkin_code == code))
    if registration is None and code_was_replaced(code):
        # The registration's address changed and it has a new ticket: this one may be in the wrong hands.
        raise CheckInRefused(
            _("This ticket was replaced: not admitted. The delegate has a new ticket, sent to their new address.")
        )
    if registration is None:
        raise CheckInRefused(_("No ticket has the code %(code)s. Check it, or search by name.", code=code))
    if registration.event_id != event.id:
        raise CheckInRefused(_("This ticket is for another event: not admitted here."))
    return registration


def search_by_name(event: Event, query: str) -> list[Registration]:
    """The event's registrations (any status) whose name (any script) or institution has every typed word, or
    whose check-in code was typed, by name. Never by email: desk staff could otherwise rebuild a delegate's
    address letter by letter from which searches find them."""
    words = query[:MAX_QUERY_LENGTH].split()[:MAX_SEARCH_TERMS]
    if not words:
        return []
    every_word = and_(
        *(
            or_(
                Registration.name_key.contains(search_key(word), autoescape=True),
                Registration.institution_key.contains(search_key(word), autoescape=True),
            )
            for word in words
        )
    )
    code = normalise_code(query)
    matches = or_(every_word, Registration.checkin_code == code) if _code_is_well_formed(code) else every_word
    select_ = (
        select(Registration)
        .where(Registration.event_id == event.id, matches)
        .order_by(*SORTS["name"])
        .limit(SEARCH_LIMIT + 1)
    )
    return list(db.session.scalars(select_))


def registration_at_desk(event: Event, registration_id: int) -> Registration:
    """One registration of the event; NotAtThisDesk when it has no such one."""
    registration = db.session.scalar(
        select(Registration).where(Registration.id == registration_id, Registration.event_id == event.id)
    )
    if registration is None:
        raise NotAtThisDesk(registration_id)
    return registration


def refusal(registration: Registration) -> str | None:
    """Why the desk must not admit this registration, or None when it holds a confirmed seat."""
    if registration.erased_at is not None:  # nobody can show who it was: its ticket no longer admits
        return _("Not admitted: the personal data of this registration was erased.")
    messages = {
        Status.CANCELLED: lambda: _("Not admitted: this registration was cancelled."),
        Status.REJECTED: lambda: _("Not admitted: this registration was declined by the organizers."),
        Status.WAITLISTED: lambda: _("Not admitted: this delegate is on the waiting list and has no seat."),
        Status.PENDING: lambda: _("Not admitted: this registration still awaits approval by the organizers."),
    }
    message = messages.get(registration.status)
    return message() if message else None


def already_message(event: Event, registration: Registration) -> str:
    """'Already checked in at 09:14 by desk@…', the time in the event's timezone (with the date on another day)."""
    moment = event.local(registration.checked_in_at)
    staff = registration.checked_in_by.email if registration.checked_in_by is not None else _("an unknown account")
    if moment.date() != event.local(utcnow()).date():
        return _(
            "Already checked in on %(date)s at %(time)s by %(staff)s.",
            date=day(moment.date()),
            time=time_of_day(moment),
            staff=staff,
        )
    return _("Already checked in at %(time)s by %(staff)s.", time=time_of_day(moment), staff=staff)


@contextmanager
def _locked_registration(event: Event, registration_id: int) -> Iterator[Registration]:
    """One change at the desk, in locked_event(): lock the event (as every change to its registrations does, so
    desks and status changes queue in one order and never deadlock), then read the registration afresh; commit when
    the block ends, roll back when it raises. NotAtThisDesk when the event has no such registration."""
    with locked_event(event.id):
        registration = db.session.scalar(
            select(Registration)
            .where(Registration.id == registration_id, Registration.event_id == event.id)
            .execution_options(populate_existing=True)
        )
        if registration is None:
            raise NotAtThisDesk(registration_id)
        yield registration


def check_in(event: Event, registration_id: int, staff: Organizer) -> CheckInResult:
    """Check the delegate in, once: a second tap (another desk, a double scan) changes nothing and says when and by
    whom it was done. Refuses registrations without a confirmed seat (CheckInRefused)."""
    with _locked_registration(event, registration_id) as registration:
        problem = refusal(registration)
        if problem is not None:
            raise CheckInRefused(problem, registration)
        if registration.checked_in_at is not None:  # nothing written, so committing this transaction saves nothing
            return CheckInResult(registration, newly=False)
        registration.checked_in_at = utcnow()
        registration.checked_in_by_id = staff.id
        audit.record(
            "registration.checked_in",
            registration=registration,
            before={"checked_in_at": None},
            after={"checked_in_at": registration.checked_in_at.isoformat()},
            organizer=staff,
        )
    # Committed: the flush hook moved event.stats_version on, so the dashboard's numbers follow at once.
    return CheckInResult(registration, newly=True)


def undo_check_in(event: Event, registration_id: int, organizer: Organizer) -> Registration:
    """Take a check-in back (a wrong person admitted, a tap on the wrong card); nothing happens when there is none."""
    with _locked_registration(event, registration_id) as registration:
        if registration.checked_in_at is None:
            raise CheckInRefused(_("This delegate is not checked in."), registration)
        before = {"checked_in_at": registration.checked_in_at.isoformat()}
        if registration.checked_in_by is not None:
            before["organizer"] = registration.checked_in_by.email
        registration.checked_in_at = None
        registration.checked_in_by_id = None
        cancel_certificate_mails(registration.id)  # queued while checked in: it must not go out now
        audit.record(
            "registration.check_in_undone",
            registration=registration,
            before=before,
            after={"checked_in_at": None},
            organizer=organizer,
        )
    return registration
