"""Capacity: the one place that locks an event, decides who gets a seat and who waits, and promotes the waiting list.

An event's `seats_taken` counter (kept by the flush hook in eventreg/models/registration.py) holds the seats of its
confirmed and pending registrations, and `waitlisted` the length of its waiting list. Every decision reads them
from the event row locked for the transaction, so two registrations can never take the same last seat, and nothing
is counted under the lock. The arithmetic of seats is here and nowhere else: the seats a registration holds
(`seats_held_query`, which stats recounts with), the seats left (`seats_left`, `free_seats`), and whether a group fits
(`outgrows_event`, `growth_shortfall`).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import Select, Update, func, select, update

from .. import audit
from ..database import begin_write_transaction, is_postgresql
from ..extensions import db
from ..mail.queue import queue_mail
from ..models import ACTIVE, SEAT_HOLDING, Event, Invitation, Registration, Status

__all__ = [
    "SeatShortfall",
    "admitted_status",
    "decide_status",
    "free_seats",
    "growth_shortfall",
    "lock_event",
    "locked_event",
    "outgrows_event",
    "promote_waitlisted",
    "promotion_message",
    "recount_seats",
    "seats_held_query",
    "seats_left",
]

PROMOTION_BATCH = 50


class NoSuchEvent(LookupError):
    """The event to lock does not exist (any more)."""


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
        raise NoSuchEvent(f"no event {event_id}")
    return event


def admitted_status(event: Event) -> Status:
    """The status of a registration that gets a seat: confirmed, or pending when the event needs approval."""
    return Status.PENDING if event.requires_approval else Status.CONFIRMED


def seats_held_query(*where) -> Select:
    """The seats held by the registrations matching `where` (0 when none): each confirmed or pending delegate and
    their accompanying persons. The one definition of what counts against capacity: `Event.seats_taken` must always
    equal it (the flush hook moves it by models.held_seats(), the same rule for one row)."""
    held = func.coalesce(func.sum(1 + Registration.accompanying), 0)
    return select(held).where(*where, Registration.status.in_(SEAT_HOLDING))


def seats_left(capacity: int | None, taken: int) -> int | None:
    """The free seats of a `capacity` of which `taken` are held, never below zero (a capacity lowered below the seats
    taken takes no seat away); None when there is no capacity."""
    return None if capacity is None else max(capacity - taken, 0)


def free_seats(event: Event) -> int | None:
    """The event's free seats by its `seats_taken` counter (None: no capacity); decide from the row lock_event()
    locked."""
    return seats_left(event.capacity, event.seats_taken)


def outgrows_event(event: Event, seats: int) -> bool:
    """True when a group of `seats` is larger than the whole event: it could never be seated, and would wait
    forever."""
    return event.capacity is not None and seats > event.capacity


def decide_status(event: Event, seats: int) -> Status:
    """Where a new registration asking for `seats` goes, for an event locked by lock_event(): a seat when they are
    free, else the waiting list. Pending registrations hold their seats until they are rejected."""
    delay = current_app.config["CAPACITY_RACE_DELAY"]
    if delay:
        time.sleep(delay)  # test-only: widens the gap between reading the seats and writing, for the negative control
    free = free_seats(event)
    if free is None or seats <= free:
        return admitted_status(event)
    return Status.WAITLISTED


@dataclass(frozen=True)
class SeatShortfall:
    """Why a registration cannot grow to `seats` (the delegate and the accompanying persons) by `more`: the group
    would be larger than the event's `capacity` (`outgrows_event`: never seated, whatever frees up), or only `free`
    seats are left."""

    seats: int
    capacity: int
    more: int
    free: int
    outgrows_event: bool


def growth_shortfall(event: Event, registration: Registration, accompanying: int) -> SeatShortfall | None:
    """Whether a registration of an event locked by lock_event() can grow to `accompanying` persons: None when it
    can, else why not. More accompanying persons need as many free seats, but only for a registration that holds
    seats (one on the waiting list holds none, and waits for all of them); and no active group may outgrow the whole
    event, or it would wait forever. Fewer persons, or a cancelled or rejected registration, always fit."""
    more = accompanying - registration.accompanying
    if event.capacity is None or more <= 0 or registration.status not in ACTIVE:
        return None
    seats, free = 1 + accompanying, free_seats(event)
    outgrows = outgrows_event(event, seats)
    if outgrows or (registration.status in SEAT_HOLDING and more > free):
        return SeatShortfall(seats, event.capacity, more, free, outgrows)
    return None


def promote_waitlisted(event: Event) -> list[Registration]:
    """Give free seats to the waiting list, in order of registration, in the caller's transaction (event locked).

    A registration that needs more seats than are free keeps its place and is passed over until enough free up;
    the next ones that fit are promoted. Each promoted delegate gets the "promoted" mail and an audit entry.
    An erased registration (privacy.py) keeps its place, as such a group does, but is passed over for good: nobody
    could be told of the seat, nor check in.
    """
    db.session.flush()  # the flush hook brings event.seats_taken up to date with this transaction's changes
    promoted: list[Registration] = []
    free = free_seats(event)
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
        confirmed_at_once = _skipping_approval(event, batch)
        for registration in batch:
            last_id = registration.id
            if free is not None:
                if registration.seats > free:
                    continue
                free -= registration.seats
            _promote(event, registration, confirm=registration.id in confirmed_at_once)
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


def _skipping_approval(event: Event, registrations: list[Registration]) -> set[int]:
    """Which of these registrations came through an invitation that lets them skip the event's approval step (none
    to look for when the event has no such step)."""
    if not event.requires_approval:
        return set()
    query = select(Invitation.registration_id).where(
        Invitation.registration_id.in_([registration.id for registration in registrations]),
        Invitation.skip_approval.is_(True),
    )
    return set(db.session.scalars(query))


def _promote(event: Event, registration: Registration, *, confirm: bool = False) -> None:
    registration.status = Status.CONFIRMED if confirm else admitted_status(event)
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
    held = seats_held_query(Registration.event_id == table.c.id).scalar_subquery()
    waiting = (
        select(func.count())
        .where(Registration.event_id == table.c.id, Registration.status == Status.WAITLISTED)
        .scalar_subquery()
    )
    statement = update(table).values(seats_taken=held, waitlisted=waiting, stats_version=table.c.stats_version + 1)
    if event_ids is not None:
        statement = statement.where(table.c.id.in_(list(event_ids)))
    return statement


@contextmanager
def locked_event(event_id: int) -> Iterator[Event]:
    """One write use case under the event's lock (lock_event()): commits when the block ends, rolls back and
    re-raises when it raises, so everything the block wrote is saved together or not at all."""
    try:
        yield lock_event(event_id)
        db.session.commit()
    except BaseException:  # a refusal, a failed write or commit, an interrupt: nothing of the block stays
        db.session.rollback()
        raise
