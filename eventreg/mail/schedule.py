"""The scheduler of timed mails: a ScheduledMail is due at a time and goes, once, to each recipient its kind finds
then (invitation reminders now, event reminders later). The outbox worker runs run_due() before each delivery pass.

Once per recipient, whatever the number of workers: a recipient is queued only in the transaction that inserts its
ScheduledMailRecipient row, whose unique (scheduled_mail_id, recipient_key) makes a second insert do nothing
(ON CONFLICT DO NOTHING). A worker that dies halfway leaves the mail "sending"; after LEASE another worker takes it
up and queues only the recipients not yet recorded.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, bindparam, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from ..database import begin_write_transaction, insert_or_skip, is_postgresql
from ..extensions import db
from ..models import Event, OutboxMessage, ScheduledMail, ScheduledMailRecipient, UTCDateTime, utcnow

log = logging.getLogger(__name__)

PENDING, SENDING, DONE, CANCELLED = "pending", "sending", "done", "cancelled"
# How long a claimed scheduled mail stays with its worker after its last batch before another may take it up.
LEASE = timedelta(minutes=5)
# Recipients queued per transaction.
BATCH = 500

# The moments of an event that a scheduled mail can be set relative to ("14 days before registration closes").
ANCHORS: dict[str, Callable[[Event], datetime]] = {
    # Without a closing date, registration closes when the event starts (Event.registration_state).
    "registration_closes": lambda event: event.registration_closes_at or event.starts_at,
    "starts": lambda event: event.starts_at,
}


@dataclass(frozen=True)
class Recipient:
    """One recipient a kind found: its order (to page through them), its key (once per key) and its outbox row
    (the columns of a Core insert, with registration_id or invitation_id)."""

    order: int
    key: str
    row: dict


@dataclass(frozen=True)
class ScheduledKind:
    """What the scheduler needs of a kind of scheduled mail.

    `recipients(scheduled, after, limit)`: the recipients matching its audience now, in `order`, after `after`.
    `too_late(scheduled)`: a reason (a short code) when it must not go out any more (it is then cancelled).
    `finished(scheduled)`: called in the transaction that marks it done or cancelled (an audit entry of the send).
    """

    recipients: Callable[[ScheduledMail, int, int], Sequence[Recipient]]
    too_late: Callable[[ScheduledMail], str | None] = field(default=lambda scheduled: None)
    finished: Callable[[ScheduledMail], None] = field(default=lambda scheduled: None)


KINDS: dict[str, ScheduledKind] = {}


def add_scheduled_kind(kind: str, scheduled_kind: ScheduledKind) -> None:
    """Make a kind of scheduled mail known; feature packages call it at import, as mail.queue.add_kind."""
    KINDS[kind] = scheduled_kind


def due_time(event: Event, anchor: str, days_before: int) -> datetime:
    """When a mail set `days_before` days before the event's `anchor` is due."""
    return ANCHORS[anchor](event) - timedelta(days=days_before)


def reschedule_event(event: Event) -> int:
    """Move the pending scheduled mails of `event` that are set relative to one of its moments, after that moment
    changed, in the caller's transaction; how many moved. One whose new time has passed goes on the next pass."""
    query = select(ScheduledMail).where(
        ScheduledMail.event_id == event.id, ScheduledMail.state == PENDING, ScheduledMail.anchor.in_(list(ANCHORS))
    )
    moved = 0
    for scheduled in db.session.scalars(query):
        due_at = due_time(event, scheduled.anchor, scheduled.days_before or 0)
        if due_at != scheduled.due_at:
            scheduled.due_at = due_at
            moved += 1
    return moved


@dataclass
class ScheduleReport:
    """What one run_due() did."""

    done: int = 0
    cancelled: int = 0
    queued: int = 0


def run_due(now: datetime | None = None, batch: int = BATCH) -> ScheduleReport:
    """Send every scheduled mail due at `now` (default: now) to its recipients, one claimed mail at a time; cheap
    when nothing is due (one query on the (state, due_at) index). The session is left without a transaction."""
    report = ScheduleReport()
    now = now or utcnow()
    while (scheduled_id := _claim(now)) is not None:
        try:
            outcome, queued = _send(scheduled_id, batch)
        except Exception:
            # A kind's bug must not stop the delivery of mail: the mail stays claimed until LEASE ends, then is
            # tried again (the recipients already queued are not queued twice).
            db.session.rollback()
            log.exception("scheduled mail %s: failed, tried again after %s", scheduled_id, LEASE)
            continue
        log.info("scheduled mail %s: %s, %d mails queued", scheduled_id, outcome, queued)
        report.queued += queued
        report.done += outcome == DONE
        report.cancelled += outcome == CANCELLED
    return report


def _claimable(now: datetime):
    """The scheduled mails a worker may take now: due ones, and those whose worker has not been heard of for LEASE."""
    return (
        select(ScheduledMail.id)
        .where(
            ScheduledMail.kind.in_(list(KINDS)),
            or_(
                (ScheduledMail.state == PENDING) & (ScheduledMail.due_at <= now),
                (ScheduledMail.state == SENDING) & (ScheduledMail.claimed_at < utcnow() - LEASE),
            ),
        )
        .order_by(ScheduledMail.due_at, ScheduledMail.id)
        .limit(1)
    )


def _claim(now: datetime) -> int | None:
    """Mark the first claimable scheduled mail as this worker's ("sending") and commit; its id, or None."""
    if is_postgresql():
        begin_write_transaction()
        scheduled_id = db.session.scalar(_claimable(now).with_for_update(skip_locked=True))
    else:
        # A plain read first: the worker asks every pass, and most passes find nothing, without the write lock.
        if db.session.scalar(_claimable(now)) is None:
            db.session.rollback()
            return None
        begin_write_transaction()
        scheduled_id = db.session.scalar(_claimable(now))
    if scheduled_id is None:
        db.session.rollback()
        return None
    db.session.execute(
        update(ScheduledMail).where(ScheduledMail.id == scheduled_id).values(state=SENDING, claimed_at=utcnow())
    )
    db.session.commit()
    return scheduled_id


def _send(scheduled_id: int, batch: int) -> tuple[str, int]:
    """Queue the claimed mail to every recipient its kind finds, a batch per transaction, then mark it done (or
    cancelled when its kind says it is too late); its final state and the mails this run queued."""
    scheduled = db.session.get(ScheduledMail, scheduled_id)
    kind = KINDS[scheduled.kind]
    reason = kind.too_late(scheduled)
    if reason:
        db.session.rollback()
        _finish(scheduled_id, CANCELLED, reason)
        return CANCELLED, 0
    db.session.rollback()
    queued, after = 0, 0
    while True:
        begin_write_transaction()
        scheduled = db.session.get(ScheduledMail, scheduled_id)
        recipients = kind.recipients(scheduled, after, batch)
        count = _queue_once(scheduled_id, recipients)
        db.session.execute(
            update(ScheduledMail)
            .where(ScheduledMail.id == scheduled_id)
            .values(queued=ScheduledMail.queued + count, claimed_at=utcnow())  # the lease runs from the last batch
        )
        db.session.commit()
        queued += count
        if len(recipients) < batch:
            break
        after = recipients[-1].order
    _finish(scheduled_id, DONE)
    return DONE, queued


def _queue_once(scheduled_id: int, recipients: Sequence[Recipient]) -> int:
    """Record each recipient of the scheduled mail and queue its outbox row, only for those not recorded before
    (by this worker or another), in the caller's transaction; how many were queued."""
    if not recipients:
        return 0
    now = utcnow()
    recorded = _record_recipients(scheduled_id, [r.key for r in recipients], now)
    if not recorded:
        return 0
    row_of = {r.key: r.row for r in recipients}
    rows = [{"next_attempt_at": now, "created_at": now, **row_of[key]} for _id, key in recorded]
    outbox_ids = db.session.scalars(
        insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id, sort_by_parameter_order=True), rows
    ).all()
    _link_outbox_rows([recipient_id for recipient_id, _key in recorded], outbox_ids)
    return len(recorded)


RECIPIENTS = ScheduledMailRecipient.__table__


def _record_recipients(scheduled_id: int, keys: list[str], now) -> list[tuple[int, str]]:
    """Insert a ScheduledMailRecipient row per key, skipping the keys already recorded; (id, key) of the new ones.

    On PostgreSQL the keys go as one array parameter (unnest): the statement's text is the same for every batch,
    so neither SQLAlchemy nor psycopg compiles or parses a new VALUES list of hundreds of rows each time (the
    benchmark bench/messages.py spent most of its time there).
    """
    statement = insert_or_skip(RECIPIENTS, "scheduled_mail_id", "recipient_key")
    if is_postgresql():
        keys_now = select(
            literal(scheduled_id, Integer), func.unnest(literal(keys, ARRAY(String))), literal(now, UTCDateTime)
        )
        statement = statement.from_select(["scheduled_mail_id", "recipient_key", "created_at"], keys_now)
        return db.session.execute(statement.returning(RECIPIENTS.c.id, RECIPIENTS.c.recipient_key)).all()
    rows = [{"scheduled_mail_id": scheduled_id, "recipient_key": key, "created_at": now} for key in keys]
    return db.session.execute(statement.values(rows).returning(RECIPIENTS.c.id, RECIPIENTS.c.recipient_key)).all()


def _link_outbox_rows(recipient_ids: list[int], outbox_ids: list[int]) -> None:
    """Set each recorded recipient's outbox row: one UPDATE from two arrays on PostgreSQL (its text the same every
    batch), an executemany on SQLite (in-process, no round trips)."""
    if is_postgresql():
        links = select(
            func.unnest(literal(recipient_ids, ARRAY(Integer))).label("recipient_id"),
            func.unnest(literal(outbox_ids, ARRAY(Integer))).label("message_id"),
        ).subquery("links")
        db.session.execute(
            update(RECIPIENTS)
            .where(RECIPIENTS.c.id == links.c.recipient_id)
            .values(outbox_message_id=links.c.message_id)
        )
        return
    db.session.execute(
        update(RECIPIENTS)
        .where(RECIPIENTS.c.id == bindparam("recipient_id"))
        .values(outbox_message_id=bindparam("message_id")),
        [{"recipient_id": r, "message_id": m} for r, m in zip(recipient_ids, outbox_ids, strict=True)],
    )


def _finish(scheduled_id: int, state: str, reason: str = "") -> None:
    """End a claimed scheduled mail as done or cancelled (with why, in its details), in its own transaction."""
    begin_write_transaction()
    scheduled = db.session.get(ScheduledMail, scheduled_id)
    scheduled.state = state
    scheduled.finished_at = utcnow()
    if reason:
        scheduled.details = {**(scheduled.details or {}), "cancelled_reason": reason}
    KINDS[scheduled.kind].finished(scheduled)
    db.session.commit()
