"""The outbox worker: claims due messages, sends them over one kept connection, records each try (mail/retry.py
decides what a failure leads to)."""

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload, with_expression

from ..database import begin_write_transaction, is_postgresql
from ..extensions import db
from ..models import Invitation, OutboxMessage, OutboxState, Registration, utcnow
from ..ops.instruments import count_mail_results, mark_worker_stopped, worker_polled
from ..ops.logs import log_mail_attempt
from ..tickets.codes import mails_so_far
from .compose import compose, outbox_message_id
from .queue import ERASURE_NOTICE, forget_addresses
from .retry import is_connection_error, record_failure, record_sent
from .schedule import run_due
from .transport import open_transport

log = logging.getLogger(__name__)

# Work the worker does beside delivering mail, each in a thread of its own so that a long task (rendering a run of
# badges: documents/jobs.py) never holds up a mail: a function that does what is pending now, in an app context,
# and returns how many items it did (0: nothing was pending). Feature packages add theirs at import.
SIDE_TASKS: list[Callable[[], int]] = []
SIDE_TASK_STOP_SECONDS = 10  # how long a stopping worker waits for each side task to finish what it does


def add_side_task(task: Callable[[], int]) -> None:
    """Have every outbox worker run `task` beside delivery (once per registration of the task)."""
    if task not in SIDE_TASKS:
        SIDE_TASKS.append(task)


@dataclass
class DeliveryReport:
    """What one pass of the worker did."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0


def _claim(count: int) -> list[OutboxMessage]:
    """Up to `count` of the oldest due messages, in a fresh write transaction, oldest first.

    On PostgreSQL their rows stay locked until commit and other workers skip them. On SQLite the
    transaction holds the database's write lock, so the caller commits before it talks to SMTP.
    """
    begin_write_transaction()
    claim = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == OutboxState.QUEUED, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(count)
    )
    if is_postgresql():
        claim = claim.with_for_update(skip_locked=True)  # only the message rows: never a registration or event
    # The rows with what compose() needs, in one round trip; the join comes after the claim's LIMIT, not before
    # it (joined in one query, PostgreSQL joined every queued row before sorting them).
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(claim.scalar_subquery()))
        .options(
            joinedload(OutboxMessage.registration).joinedload(Registration.event),
            joinedload(OutboxMessage.invitation).joinedload(Invitation.event),
            with_expression(OutboxMessage.mails_so_far, mails_so_far()),  # the calendar entry's SEQUENCE
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    )
    return list(db.session.scalars(query))


def _claim_size() -> int:
    """How many messages one transaction claims: OUTBOX_CLAIM_SIZE on PostgreSQL, one on SQLite, where the claim
    holds the whole database's write lock while the mails are rendered."""
    return current_app.config["OUTBOX_CLAIM_SIZE"] if is_postgresql() else 1


def _lease() -> timedelta:
    """How long a claimed message is left to its worker: longer than any SMTP conversation can take."""
    return timedelta(seconds=4 * current_app.config["MAIL_TIMEOUT"] + 60)


def deliver_due(limit: int | None = None, transport=None, should_stop=lambda: False) -> DeliveryReport:
    """Send due messages until none is due, `limit` is reached or `should_stop()` says so (it is asked before
    each message).

    A message that fails for a passing reason stays queued with a later next_attempt_at; one the server refuses
    for good, or that has been failing for OUTBOX_GIVE_UP_AFTER, is marked failed. Every try is recorded.
    """
    limit = limit or current_app.config["OUTBOX_BATCH_SIZE"]
    report = DeliveryReport()
    own_transport = transport is None
    transport = transport or open_transport()
    try:
        while report.sent + report.deferred + report.failed < limit and not should_stop():
            done = report.sent + report.deferred + report.failed
            outcomes = _deliver_batch(min(_claim_size(), limit - done), transport, should_stop)
            for state, _error in outcomes:
                report.sent += state == OutboxState.SENT
                report.deferred += state == OutboxState.QUEUED
                report.failed += state == OutboxState.FAILED
            count_mail_results([state for state, _error in outcomes])  # /metrics: committed by now
            if not outcomes or any(error is not None and is_connection_error(error) for _state, error in outcomes):
                break
    finally:
        db.session.rollback()
        if own_transport:
            transport.close()
    return report


@dataclass
class _Try:
    """One message's attempt within a batch: when it began, the mail composed, what went wrong."""

    message_id: int
    started: datetime
    mail: object = None
    error: Exception | None = None
    seconds: float = 0.0  # how long composing and sending took (the attempt's log line)


def _deliver_batch(count: int, transport, should_stop) -> list[tuple[OutboxState, Exception | None]]:
    """Claim up to `count` due messages, compose and send them one by one over `transport`, then record every
    result in one transaction; (state, error) of each message tried, none when none was due.

    It stops early when `should_stop()` says so or the server cannot be reached; the claimed messages not tried
    are left as they were. A crash after the server took a mail and before the commit sends that mail again
    (with the same Message-ID); the batch is kept small so that is a few mails at most.
    """
    messages = _claim(count)
    if not messages:
        db.session.rollback()
        return []
    for message in messages:
        if not message.message_id:
            message.message_id = outbox_message_id(message)
    if not is_postgresql():
        # SQLite has no row locks: lease the messages to this worker (another skips them until the lease ends,
        # after which a crashed worker's messages are tried again), and release the write lock while
        # rendering and talking to the mail server.
        for message in messages:
            message.next_attempt_at = utcnow() + _lease()
        db.session.commit()
    tries = []
    for message in messages:
        if tries and should_stop():
            break  # the rest stay as they are
        attempt = _Try(message.id, utcnow())
        tries.append(attempt)
        began = time.monotonic()
        try:
            with db.session.no_autoflush:  # composing only reads: the attempt is written with its result
                attempt.mail = compose(message)
            transport.send(attempt.mail, name=f"{message.id:08d}-{message.kind}")
        except Exception as failure:  # noqa: BLE001 - a message that fails stays queued (or fails), never lost
            attempt.error = failure
            if is_connection_error(failure):
                break  # the next would fail the same way: the rest stay as they are
        finally:
            attempt.seconds = time.monotonic() - began
    return _record(messages, tries)


def _record(messages: list[OutboxMessage], tries: list[_Try]) -> list[tuple[OutboxState, Exception | None]]:
    """Write each try's result and attempt row, and commit; the claimed messages not tried become due again.
    An erasure notice sent or failed for good keeps no address (queue.forget_addresses())."""
    if not is_postgresql():
        begin_write_transaction()
        ids = [message.id for message in messages]
        query = select(OutboxMessage).where(OutboxMessage.id.in_(ids)).execution_options(populate_existing=True)
        by_id = {message.id: message for message in db.session.scalars(query)}
        tried = {attempt.message_id for attempt in tries}
        for message_id in ids:
            if message_id not in tried:
                by_id[message_id].next_attempt_at = utcnow()  # end the lease taken for it
    else:
        by_id = {message.id: message for message in messages}
    outcomes = []
    for attempt in tries:
        message = by_id[attempt.message_id]
        message.attempts += 1
        if attempt.error is None:
            message.state = OutboxState.SENT
            message.subject = attempt.mail.subject[:300]
            message.sent_at = utcnow()
            message.last_error = ""
            record_sent(message, attempt.started)
        else:
            record_failure(message, attempt.started, attempt.error)
        log_mail_attempt(message, attempt.error, attempt.seconds)  # before an erasure notice forgets the address
        if message.kind == ERASURE_NOTICE and message.state != OutboxState.QUEUED:
            forget_addresses([message])  # the registration was erased: its address goes once the notice is done
        outcomes.append((OutboxState(message.state), attempt.error))  # read before the commit expires the row
    db.session.commit()
    return outcomes


def run_worker(once: bool = False) -> None:
    """Queue the scheduled mails that fall due and deliver due messages until SIGTERM or SIGINT; the message in
    hand is finished first.

    `once` sends what is due now (in batches of OUTBOX_BATCH_SIZE) and returns.
    """
    if not current_app.config.get("SERVER_NAME"):
        raise RuntimeError("Set FLASK_SERVER_NAME: links in mails are built outside any request.")
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    transport = open_transport()
    threads = [] if once else [_start_side_task(task, lambda: stopping) for task in SIDE_TASKS]
    try:
        while not stopping:
            worker_polled()  # /metrics: the heartbeat an operator alerts on when it grows old
            try:
                run_due()  # the scheduled mails now due join the queue first (one indexed query when none is)
                report = deliver_due(transport=transport, should_stop=lambda: stopping)
            except SQLAlchemyError as error:
                if once:
                    raise
                # The database restarted or stayed locked too long: nothing is lost (the message stays
                # queued); wait and carry on rather than leave the web server without a worker.
                log.error(
                    "outbox: database error, retrying in %s s: %s", current_app.config["OUTBOX_POLL_SECONDS"], error
                )
                db.session.rollback()
                transport.close()
                _sleep_unless(lambda: stopping, current_app.config["OUTBOX_POLL_SECONDS"])
                continue
            done = report.sent + report.deferred + report.failed
            if done:
                log.info("outbox: %d sent, %d deferred, %d failed", report.sent, report.deferred, report.failed)
            if once and done < current_app.config["OUTBOX_BATCH_SIZE"]:
                break
            if not report.sent:
                # Nothing left to send right now: let the SMTP connection go and wait.
                transport.close()
                _sleep_unless(lambda: stopping, current_app.config["OUTBOX_POLL_SECONDS"])
        if once:
            for task in SIDE_TASKS:
                while task():
                    pass
    finally:
        stopping = True
        for thread in threads:
            # A long render is not waited for: its job's lease ends, and another worker takes it over.
            thread.join(timeout=SIDE_TASK_STOP_SECONDS)
        transport.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        mark_worker_stopped()


def _start_side_task(task: Callable[[], int], stopped: Callable[[], bool]) -> threading.Thread:
    """Run `task` in a thread of its own, with its own app context (and so its own database session), until
    `stopped()`; it waits OUTBOX_POLL_SECONDS whenever nothing was pending, or after a database error."""
    app = current_app._get_current_object()

    def loop():
        while not stopped():
            with app.app_context():
                try:
                    done = task()
                except SQLAlchemyError as error:
                    log.error("worker: %s failed, retrying: %s", task.__name__, error)
                    db.session.rollback()
                    done = 0
                except Exception:  # any other bug: logged, and the thread goes on (it would die silently)
                    log.exception("worker: %s failed, retrying", task.__name__)
                    db.session.rollback()
                    done = 0
            if not done:
                _sleep_unless(stopped, app.config["OUTBOX_POLL_SECONDS"])

    thread = threading.Thread(target=loop, name=f"side-task-{task.__name__}", daemon=True)
    thread.start()
    return thread


def _sleep_unless(stopped, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not stopped() and time.monotonic() < deadline:
        time.sleep(min(0.2, deadline - time.monotonic()))
