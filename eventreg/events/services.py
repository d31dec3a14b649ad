"""Creating and editing events, with slugs that are generated once and never change, and finding them."""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from slugify import slugify
from sqlalchemy import func, select

from .. import audit
from ..database import begin_write_transaction
from ..extensions import db
from ..mail.schedule import reschedule_event
from ..models import Admission, Event, Organizer, Registration, Right, Status
from ..registration.capacity import NoSuchEvent, locked_event, promote_waitlisted
from . import notices
from .rules import EVENT_FIELDS, EventError, check_event_details

# The guest-list settings of an event (issue 17), kept apart from EVENT_FIELDS: check_event_details() does not know
# them, so they are checked here.
GUEST_LIST_FIELDS = ("admission", "invitation_note")


def events_run_by(organizer: Organizer) -> list[Event]:
    """The events the organizer runs (every event, for an admin), latest start first."""
    query = select(Event).order_by(Event.starts_at.desc(), Event.id.desc())
    if not organizer.can(Right.MANAGE_ALL_EVENTS):
        query = query.where(Event.organizers.any(Organizer.id == organizer.id))
    return list(db.session.scalars(query))


def event_by_slug(slug: str) -> Event | None:
    """The event at a URL, or None."""
    return db.session.scalar(select(Event).where(Event.slug == slug))


def unique_slug(title: str) -> str:
    """A URL slug from the title (transliterated to ASCII), made unique with a number when taken."""
    base = slugify(title, max_length=60, word_boundary=True) or "event"
    taken = set(db.session.scalars(select(Event.slug).where(Event.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _guest_list(values: dict) -> dict:
    """The guest-list settings among `values`, checked; raises EventError for an admission that does not exist."""
    settings = {name: values.pop(name) for name in GUEST_LIST_FIELDS if name in values}
    if "admission" in settings and settings["admission"] not in {admission.value for admission in Admission}:
        raise EventError(_("Please choose who may register."), "admission")
    if "invitation_note" in settings:
        settings["invitation_note"] = settings["invitation_note"] or ""
    return settings


def create_event(*, organizer: Organizer | None = None, **details) -> Event:
    """Check an event's details (see check_event_details) and create it in one transaction, with an audit entry.

    `organizer` is who creates it: an organizer who runs only assigned events is assigned to this one.
    Raises EventError saying what is wrong.
    """
    guest_list = _guest_list(details)
    values = check_event_details(**details) | guest_list
    # SQLite: no other writer between choosing the slug and the insert; PostgreSQL: the unique index refuses a racer.
    begin_write_transaction()
    event = Event(slug=unique_slug(values["title"]), **values)
    creator = db.session.get(Organizer, organizer.id) if organizer is not None else None
    if creator is not None and creator.can(Right.MANAGE_EVENTS) and not creator.can(Right.MANAGE_ALL_EVENTS):
        event.organizers.append(creator)
    db.session.add(event)
    db.session.flush()
    after = {"slug": event.slug, **audit.snapshot(event, (*EVENT_FIELDS, *guest_list))}
    if event.organizers:
        after["organizers"] = [member.email for member in event.organizers]
    audit.record("event.created", event=event, after=after, organizer=creator)
    db.session.commit()
    return event


@dataclass(frozen=True)
class EventUpdate:
    """What update_event() did."""

    event: Event
    changed: dict  # the changed fields' new values, as the audit entry has them; empty when nothing changed
    promoted: tuple[Registration, ...] = ()  # moved up from the waiting list by a new capacity
    told: int | None = None  # delegates mailed the new date, time or place; None when no such mail was queued


def update_event(
    event: Event, *, organizer: Organizer | None = None, tell_delegates: bool = False, **changes
) -> EventUpdate:
    """Change some of an event's details, checked by the same rules as a new event, in one transaction.

    The slug never changes. Records `event.updated` with the changed fields before and after. Raises EventError
    saying what is wrong. A new capacity promotes the waiting list in the same transaction.
    With `tell_delegates`, a change to what a ticket shows (date, time, place, title) queues an "event_changed"
    mail to every active delegate in the same transaction; their number is recorded in the audit entry as
    `delegates_told`.
    """
    unknown = set(changes) - set(EVENT_FIELDS) - set(GUEST_LIST_FIELDS)
    if unknown:
        raise TypeError(f"update_event() got unknown fields: {', '.join(sorted(unknown))}")
    # The row is locked before it is read, so fields this call does not change keep a concurrent edit's values.
    try:
        with locked_event(event.id) as locked:
            return _apply_update(locked, changes, organizer, tell_delegates)
    except NoSuchEvent:
        raise EventError(_("This event no longer exists.")) from None


def _apply_update(event: Event, changes: dict, organizer: Organizer | None, tell_delegates: bool) -> "EventUpdate":
    """update_event()'s work on the locked event; the caller's block commits it, or rolls it back on a refusal."""
    changes = dict(changes)
    guest_list = _guest_list(changes)
    values = check_event_details(**({name: getattr(event, name) for name in EVENT_FIELDS} | changes)) | guest_list
    if event.requires_approval and not values["requires_approval"]:
        _refuse_while_pending(event)
    audited = (*EVENT_FIELDS, *GUEST_LIST_FIELDS)
    before = audit.snapshot(event, audited)
    for name, value in values.items():
        setattr(event, name, value)
    full_before, full_after = before, audit.snapshot(event, audited)
    before, after = audit.changes(full_before, full_after)
    promoted, told = (), None
    if after:
        actor = db.session.get(Organizer, organizer.id) if organizer is not None else None
        entry = audit.record("event.updated", event=event, before=before, after=after, organizer=actor)
        if {"starts_at", "registration_closes_at"} & after.keys():
            # Reminders set "N days before registration closes" (or the start) follow the new dates.
            reschedule_event(event)
        if "capacity" in after:
            # More seats (or none counted any more): the waiting list moves up now.
            promoted = tuple(promote_waitlisted(event))
        if tell_delegates and notices.moved(after):
            # After the promotions: a delegate who just moved up is told too, with the ticket now theirs.
            told = notices.tell_delegates(
                event,
                {name: full_before[name] for name in notices.CALENDAR_FIELDS},
                {name: full_after[name] for name in notices.CALENDAR_FIELDS},
            )
            entry.after = {**after, "delegates_told": told}
    return EventUpdate(event, after, promoted, told)


def _refuse_while_pending(event: Event) -> None:
    """Approval cannot be switched off while registrations wait for it: nobody could approve them any more."""
    query = select(func.count()).where(Registration.event_id == event.id, Registration.status == Status.PENDING)
    pending = db.session.scalar(query)
    if pending:
        raise EventError(
            ngettext(
                "%(num)d registration is still pending approval. Approve or reject it before switching approval off.",
                "%(num)d registrations are still pending approval. Approve or reject them before switching approval "
                "off.",
                pending,
            ),
            "requires_approval",
        )
