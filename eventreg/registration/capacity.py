"""Capacity: the one place that locks an event, decides who gets a seat and who waits, and promotes the waiting list.

An event's `seats_taken` counter (kept by the flush hook in eventreg/models/registration.py) holds the seats of its
confirmed and pending registrations, and `waitlisted` the length of its waiting list. Every decision reads them
from the event row locked for the transaction, so two registrations can never take the same last seat, and nothing
is counted under the lock.
"""

import time

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import Update, func, select, update

from .. import audit
from ..database import begin_write_transaction, is_postgresql
from ..extensions import db
from ..mail.queue import queue_mail
from ..models import SEAT_HOLDING, Event, Registration, Status
from ..stats import waitlist_position

__all__ = [
    "admitted_status",
    "decide_status",
    "lock_event",
    "promote_waitlisted",
    "promotion_message",
    "recount_seats",
    "waitlist_position",
]

PROMOTION_BATCH = 50


def lock_event(event_id: int) -> Event:
    """Load the event inside a write transaction, locked until commit (fresh values, not the session's).

    On PostgreSQL the row is locked with SELECT … FOR UPDATE; on SQLite the transaction takes the database's write
    lock before it reads (BEGIN IMMEDIATE). The test-only setting CAPACITY_LOCK=False leaves both out, to show that
    the race tests can see an overbooking.
    """
    locking = current_app.config["CAPACITY_LOCK"]
    if locking:
        begin_write_transaction()
    elif db.session().in_transaction():
        db.session.rollback()
    query = select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
    if locking and is_postgresql():
        query = query.with_for_update()
    event = db.session.scalar(query)
    if event is None:
        raise LookupError(f"no event {event_id}")
    return event


def admitted_status(event: Event) -> Status:
    """The status of a registration that gets a seat: confirmed, or pending when the event needs approval."""
    return Status.PENDING if event.requires_approval else Status.CONFIRMED


def decide_status(event: Event, seats: int) -> Status:
    """Where a new registration asking for `seats` goes, for an event locked by lock_event(): a seat when they are
    free, else the waiting list. Pending registrations hold their seats until they are rejected."""
    delay = current_app.config["CAPACITY_RACE_DELAY"]
    if delay:
        time.sleep(delay)  # test-only: widens the gap between reading the seats and writing, for the negative control
    if event.capacity is None or event.seats_taken + seats <= event.capacity:
        return admitted_status(event)
    return Status.WAITLISTED


def promote_waitlisted(event: Event) -> list[Registration]:
    """Give free seats to the waiting list, in order of registration, in the caller's transaction (event locked).

    A registration that needs more seats than are free keeps its place and is passed over until enough free up;
    the next ones that fit are promoted. Each promoted delegate gets the "promoted" mail and an audit entry.
    An erased registration (privacy.py) is passed over for good: nobody could be told of the seat, nor check in.
    """
    db.session.flush()  # the flush hook brings event.seats_taken up to date with this transaction's changes
    promoted: list[Registration] = []
    free = None if event.capacity is None else event.capacity - event.seats_taken
    last_id = 0
    while free is None or free > 0:
        query = (
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == Status.WAITLISTED,
                Registration.erased_at.is_(None),
                Registration.id > last_id,
            )
            .order_by(Registration.id)
            .limit(PROMOTION_BATCH)
            .execution_options(populate_existing=True)
        )
        if free is not None:
            query = query.where(Registration.accompanying < free)
        batch = list(db.session.scalars(query))
        if not batch:
            break
        for registration in batch:
            last_id = registration.id
            if free is not None:
                if registration.seats > free:
                    continue
                free -= registration.seats
            _promote(event, registration)
            promoted.append(registration)
            if free == 0:
                break
    if promoted:
        db.session.flush()
    return promoted


def promotion_message(count: int) -> str:
    """What an organizer is told after a change moved people up from the waiting list."""
    return ngettext(
        "%(num)d delegate moved up from the waiting list into the freed seats and was emailed.",
        "%(num)d delegates moved up from the waiting list into the freed seats and were emailed.",
        count,
    )


def _promote(event: Event, registration: Registration) -> None:
    registration.status = admitted_status(event)
    entry = audit.record(
        "registration.promoted",
        event=event,
        registration=registration,
        before={"status": Status.WAITLISTED.value},
        after={"status": registration.status},
    )
    audit.same_moment(entry, queue_mail("promoted", registration))


def recount_seats(event_ids=None) -> Update:
    """The statement that sets events' counters (seats taken, waitlisted) from their registrations (all events when
    `event_ids` is None) and moves their stats_version on: for writes that bypass the ORM's flush hook (bulk loads,
    hand-written SQL)."""
    table = Event.__table__
    held = (
        select(func.coalesce(func.sum(1 + Registration.accompanying), 0))
        .where(Registration.event_id == table.c.id, Registration.status.in_(SEAT_HOLDING))
        .scalar_subquery()
    )
    waiting = (
        select(func.count())
        .where(Registration.event_id == table.c.id, Registration.status == Status.WAITLISTED)
        .scalar_subquery()
    )
    statement = update(table).values(seats_taken=held, waitlisted=waiting, stats_version=table.c.stats_version + 1)
    if event_ids is not None:
        statement = statement.where(table.c.id.in_(list(event_ids)))
    return statement
