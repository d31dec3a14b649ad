"""The outbox: mail is queued in the database with the change it reports, and sent by a worker."""

import logging
import signal
import smtplib
import time
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr

import flask_mail
from flask import current_app, render_template, url_for
from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..database import begin_write_transaction, is_postgresql
from ..extensions import db
from ..models import OutboxMessage, OutboxState, Registration, utcnow
from ..stats import waitlist_position
from .addresses import default_sender_address, smtp_address
from .transport import open_transport

log = logging.getLogger(__name__)

# Each kind of mail: the template pair under templates/email/ and the subject line.
KINDS = {
    "confirmation": "email/confirmation",
    "approved": "email/approved",
    "rejected": "email/rejected",
    "cancelled": "email/cancelled",
    "promoted": "email/promoted",
    "changed": "email/changed",
    "email_change": "email/email_change",
    "lost_link": "email/lost_link",
}


def queue_mail(
    kind: str, registration: Registration, *, recipient: str | None = None, details: dict | None = None
) -> OutboxMessage:
    """Add a mail about `registration` to the outbox, in the caller's transaction (the caller commits).

    It goes to the registration's address unless `recipient` says otherwise (a new address to confirm);
    `details` (JSON) is what the mail reports beyond the registration, as it was at the change. The registration's
    status is kept with it, so a mail sent late (the queue was long, the worker down) still tells what happened
    at its moment, not what became of the registration since.
    """
    message = OutboxMessage(registration=registration, **mail_row(kind, registration, recipient, details))
    db.session.add(message)
    return message


def mail_row(kind: str, registration: Registration, recipient: str | None = None, details: dict | None = None) -> dict:
    """The columns of an outbox message about `registration` (see queue_mail), for an ORM object or a Core insert."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    return {
        "kind": kind,
        "recipient": smtp_address(recipient or registration.email),
        "details": {"status": registration.status, **(details or {})},
    }


def _subject(kind: str, registration: Registration, status: str) -> str:
    event = registration.event
    if kind == "confirmation" and status == "pending":
        return gettext("Registration received, awaiting approval: %(title)s", title=event.title)
    if kind == "confirmation" and status == "waitlisted":
        return gettext("You are on the waiting list: %(title)s", title=event.title)
    if kind == "promoted" and status == "pending":
        return gettext("A seat is free, your registration awaits approval: %(title)s", title=event.title)
    if kind == "promoted":
        return gettext("A seat is free, your registration is confirmed: %(title)s", title=event.title)
    if kind == "changed":
        return gettext("Your registration was updated: %(title)s", title=event.title)
    if kind == "email_change":
        return gettext("Confirm your new email address for %(title)s", title=event.title)
    if kind == "lost_link":
        return gettext("Your registration link for %(title)s", title=event.title)
    if kind == "approved":
        return gettext("Your registration is approved: %(title)s", title=event.title)
    if kind == "rejected":
        return gettext("Your registration was not accepted: %(title)s", title=event.title)
    if kind == "cancelled":
        return gettext("Your registration is cancelled: %(title)s", title=event.title)
    return gettext("Your registration for %(title)s", title=event.title)


def compose(message: OutboxMessage) -> flask_mail.Message:
    """Render a queued message in the delegate's language, with absolute links and a stable Message-ID."""
    registration = message.registration
    event = registration.event
    details = message.details or {}
    # The status when the mail was queued (older messages have none: then the current one).
    status = details.get("status", registration.status)
    with force_locale(registration.language):
        context = {
            "registration": registration,
            "event": event,
            "private_url": url_for("registration.view_registration", token=registration.token, _external=True),
            "event_url": url_for("registration.show_event", slug=event.slug, _external=True),
            "details": details,
            "status": status,
            # The place now, while still waiting; None once the registration has moved on.
            "waitlist_position": waitlist_position(registration),
        }
        template = KINDS[message.kind]
        subject = _subject(message.kind, registration, status)
        body = render_template(f"{template}.txt", **context)
        html = render_template(f"{template}.html", **context)
    mail_message = EncodedMessage(
        subject=subject,
        recipients=[(registration.display_name, message.recipient)],
        body=body,
        html=html,
        reply_to=smtp_address(event.contact_email),
    )
    mail_message.msgId = message.message_id or _message_id(message)
    return mail_message


class EncodedMessage(flask_mail.Message):
    """Flask-Mail's message with Subject, From, To and Reply-To written by the standard library's email policy.

    Flask-Mail 0.10 RFC 2047-encodes names and subjects itself and then folds them again, which garbles
    long non-ASCII names ("Константин о вна") and subjects; the email package encodes them correctly.
    """

    def _message(self):
        message = super()._message()
        replacements = {
            "Subject": self.subject,
            "From": _address(self.sender),
            "To": [_address(recipient) for recipient in self.recipients],
            "Reply-To": _address(self.reply_to) if self.reply_to else None,
        }
        for name, value in replacements.items():
            if value:
                del message[name]
                message[name] = value
        return message


def _address(value: str | tuple[str, str]) -> Address:
    """An address header value from 'Name <a@b>' or (name, address)."""
    name, address = value if isinstance(value, tuple) else parseaddr(value)
    return Address(display_name=name, addr_spec=address)


def _message_id(message: OutboxMessage) -> str:
    """One Message-ID per outbox row, kept across retries, so a repeated send can be recognised."""
    domain = default_sender_address().rpartition("@")[2] or "localhost"
    return f"<outbox-{message.id}-{int(message.created_at.timestamp())}@{domain}>"


@dataclass
class DeliveryReport:
    """What one pass of the worker did."""

    sent: int = 0
    deferred: int = 0


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: doubling from 30 s, capped by OUTBOX_MAX_RETRY_DELAY."""
    seconds = min(30 * 2 ** max(attempts - 1, 0), current_app.config["OUTBOX_MAX_RETRY_DELAY"])
    return timedelta(seconds=seconds)


def _claim_next() -> OutboxMessage | None:
    """The oldest due message, in a fresh write transaction.

    On PostgreSQL the row stays locked until commit and other workers skip it. On SQLite the
    transaction holds the database's write lock, so the caller commits before it talks to SMTP.
    """
    begin_write_transaction()
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.QUEUED, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )
    if is_postgresql():
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


def _is_connection_error(error: Exception) -> bool:
    """A failure to reach the server (not an answer from it): the next messages would fail the same way."""
    answered = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)
    return isinstance(error, OSError) and not isinstance(error, answered)


def _lease() -> timedelta:
    """How long a claimed message is left to its worker: longer than any SMTP conversation can take."""
    return timedelta(seconds=4 * current_app.config["MAIL_TIMEOUT"] + 60)


def deliver_due(limit: int | None = None, transport=None, should_stop=lambda: False) -> DeliveryReport:
    """Send due messages one by one until none is due, `limit` is reached or `should_stop()` says so
    (it is asked before each message).

    A message that fails stays queued with the error recorded and a later next_attempt_at.
    """
    limit = limit or current_app.config["OUTBOX_BATCH_SIZE"]
    report = DeliveryReport()
    own_transport = transport is None
    transport = transport or open_transport()
    try:
        for _ in range(limit):
            if should_stop():
                break
            outcome = _deliver_one(transport)
            if outcome is None:
                break
            if outcome is True:
                report.sent += 1
                continue
            report.deferred += 1
            if _is_connection_error(outcome):
                break
    finally:
        db.session.rollback()
        if own_transport:
            transport.close()
    return report


def _deliver_one(transport) -> bool | Exception | None:
    """Claim, compose and send the next due message; True when sent, the error when not, None when none is due."""
    message = _claim_next()
    if message is None:
        db.session.rollback()
        return None
    if not message.message_id:
        message.message_id = _message_id(message)
    message.attempts += 1
    message_id = message.id
    outcome: bool | Exception = True
    try:
        mail_message = compose(message)
    except Exception as error:  # noqa: BLE001 - a message that cannot be rendered stays queued, never lost
        outcome = error
    if outcome is True:
        if not is_postgresql():
            # SQLite has no row locks: lease the message to this worker (another skips it until the lease ends,
            # after which a crashed worker's message is tried again), and release the write lock while
            # talking to the mail server.
            message.next_attempt_at = utcnow() + _lease()
            db.session.commit()
        try:
            transport.send(mail_message, name=f"{message_id:08d}-{message.kind}")
        except Exception as error:  # noqa: BLE001 - any failure must leave the message queued, never lost
            outcome = error
        if not is_postgresql():
            begin_write_transaction()
            message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    if outcome is True:
        message.state = OutboxState.SENT
        message.subject = mail_message.subject[:300]
        message.sent_at = utcnow()
        message.last_error = ""
    else:
        log.warning("outbox message %s not sent: %s", message_id, outcome)
        message.last_error = f"{type(outcome).__name__}: {outcome}"[:2000]
        message.next_attempt_at = utcnow() + retry_delay(message.attempts)
    db.session.commit()
    return outcome


def run_worker(once: bool = False) -> None:
    """Deliver due messages until SIGTERM or SIGINT; the message in hand is finished first.

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
    try:
        while not stopping:
            try:
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
            if report.sent or report.deferred:
                log.info("outbox: %d sent, %d deferred", report.sent, report.deferred)
            if once and report.sent + report.deferred < current_app.config["OUTBOX_BATCH_SIZE"]:
                break
            if not report.sent:
                # Nothing left to send right now: let the SMTP connection go and wait.
                transport.close()
                _sleep_unless(lambda: stopping, current_app.config["OUTBOX_POLL_SECONDS"])
    finally:
        transport.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _sleep_unless(stopped, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not stopped() and time.monotonic() < deadline:
        time.sleep(min(0.2, deadline - time.monotonic()))
