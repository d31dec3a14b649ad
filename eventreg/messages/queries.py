"""What the record of messages reads: the mails of each message counted by state, an event's messages and
reminders, the delegates a message went to with the state of each one's mail, and a message's audience in words.
(The messages a registration received are read by the attendee pages' history, attendees/queries.py.)"""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..categories.services import category_labels
from ..extensions import db
from ..geo.countries import country_name
from ..geo.regions import CONTINENT_LABELS
from ..models import (
    STATUS_LABELS,
    Delegation,
    Event,
    Message,
    MessageKind,
    MessageRecipient,
    OutboxMessage,
    OutboxState,
    Registration,
)
from .audience import audience_filter
from .texts import TEST_MAIL

PER_PAGE = 50
COUNTED_STATES = ("queued", "sent", "failed", "cancelled")


def _mails_of(message_ids) -> list:
    """WHERE clauses on OutboxMessage: the delegates' mails of these messages (a test send to the organizer is not
    one of them)."""
    return [OutboxMessage.delegate_message_id.in_(message_ids), OutboxMessage.kind != TEST_MAIL]


def message_counts(event_id: int, message_id: int | None = None) -> dict[int, dict[str, int]]:
    """{message id: {"queued", "sent", "failed", "cancelled"}}: the mails of each of the event's messages and
    reminders (or of the one given) by state, zeros for one with no mail yet."""
    ids = select(Message.id).where(Message.event_id == event_id)
    if message_id is not None:
        ids = ids.where(Message.id == message_id)
    counts = {message_id: dict.fromkeys(COUNTED_STATES, 0) for message_id in db.session.scalars(ids)}
    query = (
        select(OutboxMessage.delegate_message_id, OutboxMessage.state, func.count())
        .where(*_mails_of(ids))
        .group_by(OutboxMessage.delegate_message_id, OutboxMessage.state)
    )
    for message_id, state, number in db.session.execute(query):
        counts.setdefault(message_id, dict.fromkeys(COUNTED_STATES, 0))[state] = number
    return counts


def resendable_count(message_id: int) -> int:
    """How many of a message's mails failed and still have an address (the ones "Resend failed mails" queues)."""
    return db.session.scalar(
        select(func.count()).where(
            *_mails_of([message_id]), OutboxMessage.state == OutboxState.FAILED, OutboxMessage.recipient != ""
        )
    )


def messages_of_event(event: Event, page: int, per_page: int = PER_PAGE) -> Pagination:
    """One page of the event's messages and reminders, newest first, with their authors and scheduled mails."""
    query = (
        select(Message)
        .where(Message.event_id == event.id)
        .options(
            selectinload(Message.created_by), selectinload(Message.confirmed_by), selectinload(Message.scheduled_mail)
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def message_with_record(event: Event, message_id: int) -> Message | None:
    """The event's message or reminder with that id, with its authors and scheduled mail loaded; None if none."""
    return db.session.scalar(
        select(Message)
        .where(Message.id == message_id, Message.event_id == event.id)
        .options(
            selectinload(Message.created_by), selectinload(Message.confirmed_by), selectinload(Message.scheduled_mail)
        )
    )


@dataclass(frozen=True)
class RecipientPage:
    """One page of the delegates a message went to (by name), and each one's mail of it (None: not queued yet)."""

    registrations: Pagination
    mails: dict[int, OutboxMessage]


def message_recipients(message: Message, page: int, per_page: int = PER_PAGE) -> RecipientPage:
    """The delegates a message goes to, by name, one page of them, with the state and last error of each one's
    mail: for a message its recipients fixed at confirmation, for a reminder those it was queued to."""
    if message.kind == MessageKind.REMINDER:
        reached = select(OutboxMessage.registration_id).where(*_mails_of([message.id]))
    else:
        reached = select(MessageRecipient.registration_id).where(MessageRecipient.message_id == message.id)
    query = (
        select(Registration)
        .where(Registration.id.in_(reached), Registration.event_id == message.event_id)
        .order_by(Registration.name_key, Registration.id)
    )
    registrations = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    ids = [registration.id for registration in registrations.items]
    mails = db.session.scalars(
        select(OutboxMessage)
        .where(*_mails_of([message.id]), OutboxMessage.registration_id.in_(ids))
        .order_by(OutboxMessage.id)
    )
    # The latest mail of each delegate (a resend puts the same row back in the queue, so there is normally one).
    return RecipientPage(registrations, {mail.registration_id: mail for mail in mails})


_YES_NO_FILTERS = {
    "accompanying": (_l("With accompanying persons"), _l("Without accompanying persons")),
    "visa_letter": (_l("Visa letter requested"), _l("No visa letter requested")),
    "checked_in": (_l("Checked in"), _l("Not checked in")),
    "invited": (_l("Registered through an invitation"), _l("Registered without an invitation")),
}


def audience_in_words(event: Event, audience: dict) -> list[str]:
    """A message's audience as sentences for the organizers: the delegates ticked on the list, or each condition
    of the attendee list's filter; one sentence when nothing narrows it."""
    if "ids" in audience:
        number = len(audience["ids"])
        return [
            ngettext(
                "%(num)d delegate ticked on the attendee list.",
                "%(num)d delegates ticked on the attendee list.",
                number,
            )
        ]
    chosen = audience_filter(audience)
    words = []
    if chosen.q:
        words.append(_("Name, email or institution contains: %(words)s", words=chosen.q))
    if chosen.status:
        words.append(_("Status: %(status)s", status=STATUS_LABELS.get(chosen.status, chosen.status)))
    if chosen.country:
        words.append(_("Country or region: %(country)s", country=country_name(chosen.country)))
    if chosen.continent:
        words.append(_("Continent: %(continent)s", continent=CONTINENT_LABELS.get(chosen.continent, chosen.continent)))
    if chosen.category:
        label = category_labels(event.id).get(chosen.category, chosen.category)
        words.append(_("Category: %(category)s", category=label))
    if chosen.delegation == "none":
        words.append(_("In no delegation"))
    elif chosen.delegation:
        name = db.session.scalar(
            select(Delegation.name).where(Delegation.id == int(chosen.delegation), Delegation.event_id == event.id)
        )
        words.append(_("Delegation: %(name)s", name=name or chosen.delegation))
    for name, (yes, no) in _YES_NO_FILTERS.items():
        value = getattr(chosen, name)
        if value:
            words.append(str(yes if value == "yes" else no))
    return words or [_("Every delegate of the event who is not erased.")]
