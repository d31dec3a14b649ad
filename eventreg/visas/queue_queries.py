"""What the visa queue reads: the requests of an event by state (pending, issued, refused, missing details), the
ids "issue all" issues, the event's letters. The rules that change them are in queue.py."""

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from ..extensions import db
from ..models import ACTIVE, Event, LetterState, Registration, Status, VisaApplication, VisaLetter, VisaState

QUEUE_STATES = ("pending", "issued", "refused", "incomplete")

# A request misses details when any field a letter prints is empty (requests from before the form asked for them);
# blank means empty, as letters.is_complete says.
_INCOMPLETE = or_(
    func.trim(VisaApplication.passport_name) == "",
    VisaApplication.nationality == "",
    VisaApplication.passport_number_sealed == "",
    VisaApplication.passport_expiry.is_(None),
    VisaApplication.birth_date_sealed == "",
    func.trim(VisaApplication.consulate_city) == "",
    VisaApplication.arrival.is_(None),
    VisaApplication.departure.is_(None),
)


def _state_filter(state: str):
    if state == "incomplete":
        return and_(VisaApplication.state == VisaState.PENDING, _INCOMPLETE)
    if state == "pending":
        return and_(VisaApplication.state == VisaState.PENDING, ~_INCOMPLETE)
    return VisaApplication.state == state


def requests_of(event_id: int):
    """The event's requests that are in the queue: active registrations that still ask for a letter."""
    return (
        select(VisaApplication)
        .join(Registration, Registration.id == VisaApplication.registration_id)
        .where(
            VisaApplication.event_id == event_id,
            Registration.visa_letter.is_(True),
            Registration.status.in_(ACTIVE),
            Registration.erased_at.is_(None),
        )
    )


@dataclass(frozen=True)
class QueueRow:
    """One request as the queue shows it: the application, its registration, and its valid letter if any."""

    application: VisaApplication
    registration: Registration
    letter: VisaLetter | None


def queue_rows(event: Event, state: str) -> list[QueueRow]:
    """The requests of the event in `state` (one of QUEUE_STATES), by name, with their valid letters."""
    query = (
        requests_of(event.id)
        .where(_state_filter(state))
        .add_columns(Registration)
        .order_by(VisaApplication.passport_name, VisaApplication.id)
    )
    pairs = db.session.execute(query).all()
    letters = {
        letter.registration_id: letter
        for letter in db.session.scalars(
            select(VisaLetter).where(
                VisaLetter.registration_id.in_([registration.id for _a, registration in pairs]),
                VisaLetter.state == LetterState.VALID,
            )
        )
    }
    return [QueueRow(application, registration, letters.get(registration.id)) for application, registration in pairs]


def queue_counts(event: Event) -> dict[str, int]:
    """How many requests are in each of QUEUE_STATES, plus the registrations that asked for a letter before the
    form captured the details ("incomplete" counts them too)."""
    counts = {}
    for state in QUEUE_STATES:
        query = requests_of(event.id).where(_state_filter(state)).with_only_columns(func.count())
        counts[state] = db.session.scalar(query)
    counts["incomplete"] += len(requests_without_details(event))
    return counts


def requests_without_details(event: Event) -> list[Registration]:
    """Active registrations that ticked "I need a visa letter" and have no visa data at all."""
    has_application = select(VisaApplication.id).where(VisaApplication.registration_id == Registration.id).exists()
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.visa_letter.is_(True),
                Registration.status.in_(ACTIVE),
                Registration.erased_at.is_(None),
                ~has_application,
            )
            .order_by(Registration.id)
        )
    )


def pending_ids(event: Event) -> list[int]:
    """The ids of every complete pending request of a confirmed registration (what "issue all pending" issues)."""
    query = requests_of(event.id).where(_state_filter("pending"), Registration.status == Status.CONFIRMED)
    return list(db.session.scalars(query.with_only_columns(VisaApplication.id)))


def event_letter(event: Event, letter_id: int) -> VisaLetter | None:
    """One of the event's letters, whatever its state."""
    return db.session.scalar(select(VisaLetter).where(VisaLetter.id == letter_id, VisaLetter.event_id == event.id))


def valid_letters(event: Event) -> list[VisaLetter]:
    """The event's valid letters, by number."""
    return list(
        db.session.scalars(
            select(VisaLetter)
            .where(VisaLetter.event_id == event.id, VisaLetter.state == LetterState.VALID)
            .order_by(VisaLetter.sequence)
        )
    )
