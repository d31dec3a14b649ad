"""What the attendee pages read: one filtered, sorted page of an event's registrations, and one registration
with its history."""

from dataclasses import dataclass, field, replace
from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from ..audit import action_label, entries_for_registration, key_label
from ..categories.services import category_labels
from ..extensions import db
from ..geo.countries import countries
from ..models import AuditEntry, Delegation, Event, Message, Organizer, OutboxMessage, Registration
from ..pagination import last_page_if_beyond, requested_page
from ..registration.needs import may_see
from .filters import AttendeeFilter

MAIL_LABELS = {
    "confirmation": _l("Confirmation"),
    "approved": _l("Approval"),
    "rejected": _l("Rejection"),
    "cancelled": _l("Cancellation"),
    "promoted": _l("A seat from the waiting list"),
    "changed": _l("Changes"),
    "event_changed": _l("New date, time or place"),
    "email_change": _l("New address to confirm"),
    "lost_link": _l("Link sent again"),
    "erased": _l("Erasure notice"),
    "address_changed": _l("Notice to the former address"),
    "message": _l("Message from the organizers"),
    "event_reminder": _l("Event reminder"),
}


@dataclass(frozen=True)
class AttendeeList:
    """One page of an event's registrations as the organizer filtered and sorted them."""

    event: Event
    filter: AttendeeFilter
    problems: list[str]
    registrations: Pagination
    countries: list[tuple[str, str]]  # (code, name) of the countries present in the event, by name
    categories: dict[str, str] = field(default_factory=dict)  # the event's {code: label}, in order
    delegations: list[tuple[int, str]] = field(default_factory=list)  # the event's (id, name), by name


def countries_present(event_id: int) -> list[tuple[str, str]]:
    """The countries and regions that the event's registrations come from (any status), as (code, name), in the
    reader's language and order."""
    codes = db.session.scalars(select(Registration.country).where(Registration.event_id == event_id).distinct())
    names = countries()
    return [(code, names.name(code)) for code in names.sorted(codes)]


def delegations_of(event_id: int) -> list[tuple[int, str]]:
    """The event's delegations as (id, name), by name."""
    query = select(Delegation.id, Delegation.name).where(Delegation.event_id == event_id).order_by(Delegation.name_key)
    return [(row.id, row.name) for row in db.session.execute(query)]


def attendee_list(event: Event, args: MultiDict, per_page: int) -> AttendeeList:
    """The event's registrations matching the query string's filters, one page of them.

    Raises PageBeyondEnd past the last page. Filter values that are not understood are ignored and explained in
    `problems`.
    """
    attendee_filter, problems = AttendeeFilter.from_args(args)
    categories = category_labels(event.id)
    if attendee_filter.category and attendee_filter.category not in categories:
        # Well formed, but not one of this event's categories: said so, as any value that is not understood.
        problems.append(
            gettext("The filter %(name)s=%(value)s is not understood.", name="category", value=attendee_filter.category)
        )
        attendee_filter = replace(attendee_filter, category="")
    registrations = db.paginate(
        attendee_filter.select(event), page=requested_page(args), per_page=per_page, error_out=False, count=True
    )
    last = last_page_if_beyond(registrations)
    if last is not None:
        raise PageBeyondEnd(attendee_filter, last)
    present = countries_present(event.id)
    if attendee_filter.country and attendee_filter.country not in dict(present):
        present.append((attendee_filter.country, countries().name(attendee_filter.country)))
    return AttendeeList(
        event,
        attendee_filter,
        problems,
        registrations,
        present,
        categories=categories,
        delegations=delegations_of(event.id),
    )


class PageBeyondEnd(Exception):
    """The asked page is past the filtered list's end (a bookmark from when the list was longer)."""

    def __init__(self, attendee_filter: AttendeeFilter, last: int):
        super().__init__(last)
        self.filter, self.last = attendee_filter, last


def last_page(event: Event, attendee_filter: AttendeeFilter, per_page: int) -> int:
    """The number of the filtered list's last page (1 when it is empty)."""
    query = select(func.count()).select_from(attendee_filter.select(event).order_by(None).subquery())
    return max(-(-db.session.scalar(query) // per_page), 1)


def registrations_by_ids(event: Event, registration_ids: list[int]) -> list[Registration]:
    """The event's registrations among these ids, by name (for a confirmation step)."""
    query = (
        select(Registration)
        .where(Registration.event_id == event.id, Registration.id.in_(set(registration_ids)))
        .order_by(Registration.name_key, Registration.id)
    )
    return list(db.session.scalars(query))


class NoSuchRegistration(LookupError):
    """The event has no registration with this id (the views answer 404)."""


def registration_in(event: Event, registration_id: int) -> Registration:
    """The event's registration with this id; raises NoSuchRegistration when there is none."""
    registration = db.session.scalar(
        select(Registration).where(Registration.id == registration_id, Registration.event_id == event.id)
    )
    if registration is None:
        raise NoSuchRegistration(registration_id)
    return registration


@dataclass(frozen=True)
class HistoryItem:
    """One moment in a registration's life: its creation, an audit entry, or a mail."""

    at: datetime
    kind: str  # "created", "audit" or "mail"
    entry: AuditEntry | None = None
    mail: OutboxMessage | None = None
    # (field, label, before, after) for an audit entry, without the fields the reader may not see.
    changes: list[tuple[str, str, object, object]] = field(default_factory=list)
    hidden_changes: int = 0
    language: str | None = None  # of a creation: the language the delegate registered in
    message: Message | None = None  # of a mail: the organizers' message or event reminder it is one of

    @property
    def title(self) -> str:
        """What happened, in words."""
        if self.entry is not None:
            return action_label(self.entry.action)
        if self.mail is not None:
            return str(MAIL_LABELS.get(self.mail.kind, self.mail.kind))
        return str(_l("Registered"))


def history(registration: Registration, reader: Organizer) -> list[HistoryItem]:
    """Everything that happened to a registration, oldest first: created, every audit entry, every mail; changes
    to needs that `reader` may not see are counted, not shown."""
    entries = entries_for_registration(registration.id)
    # The language registered in: the registration's, unless an organizer changed it since (the first change's before).
    made_in = next((e.before["language"] for e in entries if "language" in (e.before or {})), registration.language)
    items = [HistoryItem(registration.created_at, "created", language=made_in)]
    for entry in entries:
        if entry.action == "registration.created":
            continue  # the "created" item says it, with the language (and older registrations have no such entry)
        before, after = entry.before or {}, entry.after or {}
        keys = list(dict.fromkeys([*before, *after]))
        shown = [(key, key_label(key), before.get(key), after.get(key)) for key in keys if may_see(reader, key)]
        items.append(
            HistoryItem(entry.created_at, "audit", entry=entry, changes=shown, hidden_changes=len(keys) - len(shown))
        )
    mails = list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.registration_id == registration.id).order_by(OutboxMessage.id)
        )
    )
    messages = _messages_of(mails)
    items.extend(
        HistoryItem(mail.created_at, "mail", mail=mail, message=messages.get(mail.delegate_message_id))
        for mail in mails
    )
    # At equal times (one transaction writes the change and its mail) the creation comes first, then the change.
    rank = {"created": 0, "audit": 1, "mail": 2}
    return sorted(items, key=lambda item: (item.at, rank[item.kind]))


def _messages_of(mails: list[OutboxMessage]) -> dict[int, Message]:
    """{message id: message}: the organizers' messages and event reminders these mails of a registration are one of
    (read here, not from messages/: a message's audience builds on the attendee list, so messages depend on
    attendees and never the reverse). A test send is never among a registration's mails: it has no registration."""
    ids = {mail.delegate_message_id for mail in mails if mail.delegate_message_id is not None}
    if not ids:
        return {}
    return {message.id: message for message in db.session.scalars(select(Message).where(Message.id.in_(ids)))}
