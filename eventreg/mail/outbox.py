"""The outbox: mail is queued in the database with the change it reports, and sent by a worker."""

import re
import time
from email.utils import parseaddr

import flask_mail
from flask import render_template, url_for
from flask_babel import force_locale, gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..database import begin_write_transaction
from ..extensions import db
from ..models import OutboxAttempt, OutboxMessage, OutboxState, Registration, utcnow
from ..stats import waitlist_position
from . import mime
from .addresses import default_sender_address, smtp_address

# Each kind of mail: the template pair under templates/email/ and the subject line.
KINDS = {
    "confirmation": "email/confirmation",
    "approved": "email/approved",
    "rejected": "email/rejected",
    "cancelled": "email/cancelled",
    "promoted": "email/promoted",
    "changed": "email/changed",
    "event_changed": "email/event_changed",
    "email_change": "email/email_change",
    "lost_link": "email/lost_link",
    "address_changed": "email/address_changed",
    "erased": "email/erased",
}
# The last mail to an erased registration's address: composed from what erasure leaves (the event, the language),
# and its row forgets the address once it is sent or given up on (see forget_addresses()).
ERASURE_NOTICE = "erased"
# Mails to an address that no longer stands for the person: the erasure notice, and the notice to a former address
# that the registration moved to another one. They carry no name, no private link, no ticket.
NOTICES_WITHOUT_PERSON = (ERASURE_NOTICE, "address_changed")


def queue_mail(
    kind: str, registration: Registration, *, recipient: str | None = None, details: dict | None = None
) -> OutboxMessage:
    """Add a mail about `registration` to the outbox, in the caller's transaction (the caller commits).

    It goes to the registration's address unless `recipient` says otherwise (a new address to confirm);
    `details` (JSON) is what the mail reports beyond the registration, as it was at the change. The registration's
    status is kept with it, so a mail sent late (the queue was long, the worker down) still tells what happened
    at its moment, not what became of the registration since.
    A registration whose personal data was erased has no address: its message is recorded as cancelled, unsent.
    """
    row = mail_row(kind, registration, recipient, details)
    if registration.erased_at is not None:
        row.update(recipient="", state=OutboxState.CANCELLED, details={"status": registration.status})
    message = OutboxMessage(registration=registration, **row)
    db.session.add(message)
    return message


def forget_addresses(messages: list[OutboxMessage]) -> None:
    """Blank what these mails hold of their recipient, in the caller's transaction: the address, what the mail
    reported beyond the status, and the errors of the message and of its attempts (a server's reply may quote the
    address)."""
    for message in messages:
        message.recipient = ""
        message.details = {"status": (message.details or {}).get("status")}
        message.last_error = ""
    if messages:
        attempts = select(OutboxAttempt).where(OutboxAttempt.message_id.in_([message.id for message in messages]))
        for attempt in db.session.scalars(attempts):
            attempt.error = ""


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
    if kind == "event_changed":
        return gettext("New date, time or place: %(title)s", title=event.title)
    if kind == "address_changed":
        return gettext("The email address of a registration was changed: %(title)s", title=event.title)
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
    if kind == ERASURE_NOTICE:
        return gettext("Your personal data was erased: %(title)s", title=event.title)
    return gettext("Your registration for %(title)s", title=event.title)


def compose(message: OutboxMessage) -> flask_mail.Message:
    """Render a queued message in the delegate's language, with absolute links and a stable Message-ID; a ticket
    (QR code and calendar entry) goes with it when the registration has one (see mail/ticket_mail.py)."""
    # Imported here: ticket_mail builds on EncodedMessage, defined below.
    from ..tickets.mail import TicketMessage, ticket_context, ticket_parts

    registration = message.registration
    event = registration.event
    details = message.details or {}
    # The status when the mail was queued (older messages have none: then the current one).
    status = details.get("status", registration.status)
    context = {
        "registration": registration,
        "event": event,
        "event_url": url_for("registration.show_event", slug=event.slug, _external=True),
        "details": details,
        "status": status,
    }
    if message.kind in NOTICES_WITHOUT_PERSON:
        # Nothing of the person goes to this address but the event: no name, no private link, no ticket.
        ticket = None
        recipient = message.recipient
    else:
        private_url = url_for("self_service.view_registration", token=registration.token, _external=True)
        ticket = ticket_parts(message, status)
        recipient = (registration.display_name, message.recipient)
        context["private_url"] = private_url
        # The place now, while still waiting; None once the registration has moved on.
        context["waitlist_position"] = waitlist_position(registration)
        context.update(ticket_context(message, ticket, status))
    with force_locale(registration.language):
        template = KINDS[message.kind]
        subject = _subject(message.kind, registration, status)
        body = render_template(f"{template}.txt", **context)
        html = render_template(f"{template}.html", **context)
    fields = {
        "subject": subject,
        "recipients": [recipient],
        "body": body,
        "html": html,
        "reply_to": smtp_address(event.contact_email),
    }
    mail_message = TicketMessage(**fields, ticket=ticket) if ticket else EncodedMessage(**fields)
    mail_message.msgId = message.message_id or _message_id(message)
    return mail_message


class EncodedMessage(flask_mail.Message):
    """Flask-Mail's message, written to bytes by mail/mime.py: text and HTML as alternatives, ticket parts (see
    ticket_mail.py) beside them.

    Flask-Mail 0.10 RFC 2047-encodes names and subjects itself and then folds them again, which garbles
    long non-ASCII names ("Константин о вна") and subjects; the standard library's SMTP policy encodes them.
    Control characters (CR, LF, …) in names and the subject become spaces here, whatever a row holds, so no
    value can end a header and start another (forms refuse them already; this holds for rows written otherwise).
    The outbox sets no Cc, Bcc, extra headers or Flask-Mail attachments; a message with any of them is refused
    rather than sent without them.
    """

    def __init__(self, subject: str = "", recipients=None, sender=None, reply_to=None, **kwargs):
        super().__init__(
            subject=_one_line(subject),
            recipients=[_clean_address(recipient) for recipient in recipients or []],
            sender=_clean_address(sender) if sender else sender,
            reply_to=_clean_address(reply_to) if reply_to else reply_to,
            **kwargs,
        )

    def as_bytes(self) -> bytes:
        """The mail as it goes to the SMTP server (and into an .eml file)."""
        if self.cc or self.bcc or self.extra_headers or self.attachments or set(self.alts) - {"html"}:
            raise ValueError("the outbox writes no Cc, Bcc, extra headers or attachments")
        if self.date is None:
            self.date = time.time()  # Flask-Mail sets it only when it sends; the .eml files need one too
        headers = [
            mime.address_header("From", [_address(self.sender)]),
            mime.address_header("To", [_address(recipient) for recipient in self.recipients]),
            mime.address_header("Reply-To", [_address(self.reply_to)]) if self.reply_to else b"",
            mime.header("Subject", self.subject) if self.subject else b"",
            mime.date_header(self.date),
            mime.plain_header("Message-ID", self.msgId),
        ]
        return mime.write([line for line in headers if line], self.mime_tree())

    def as_string(self) -> str:
        """The mail as text (8bit parts are UTF-8)."""
        return self.as_bytes().decode("utf-8")

    def mime_tree(self) -> mime.Part | mime.Multipart:
        """The text alone, or the text and HTML as alternatives inside multipart/mixed (as Flask-Mail builds it)."""
        charset = self.charset or "utf-8"
        text = mime.Part(f'text/plain; charset="{charset}"', (self.body or "").encode(charset))
        if self.html is None:
            return text
        html = mime.Part(f'text/html; charset="{charset}"', self.html.encode(charset))
        return mime.Multipart("mixed", [mime.Multipart("alternative", [text, html])])


# C0 and C1 control characters and the Unicode line and paragraph separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _one_line(text: str | None) -> str:
    """`text` with every run of control characters replaced by one space."""
    return CONTROL_CHARACTERS.sub(" ", text or "").strip()


def _clean_address(value: str | tuple[str, str]) -> str | tuple[str, str]:
    """An address with its display name on one line (the address itself comes from a validated column)."""
    if isinstance(value, tuple):
        return _one_line(value[0]), _one_line(value[1])
    name, address = parseaddr(_one_line(value))
    return (name, address) if name else address


def _address(value: str | tuple[str, str]) -> tuple[str, str]:
    """(display name, address) from 'Name <a@b>' or (name, address)."""
    return value if isinstance(value, tuple) else parseaddr(value)


def _message_id(message: OutboxMessage) -> str:
    """One Message-ID per outbox row, kept across retries, so a repeated send can be recognised."""
    domain = default_sender_address().rpartition("@")[2] or "localhost"
    return f"<outbox-{message.id}-{int(message.created_at.timestamp())}@{domain}>"


# ---- the organizer's view of an event's outbox


def outbox_counts(event_id: int) -> dict[str, int]:
    """How many of the event's mails are queued, sent and failed; and "resendable", the failed ones that still
    have an address (a failed erasure notice has forgotten its own, so "Resend" cannot send it)."""
    with_address = func.count().filter(OutboxMessage.recipient != "")
    query = (
        select(OutboxMessage.state, func.count(), with_address)
        .join(Registration, OutboxMessage.registration_id == Registration.id)
        .where(Registration.event_id == event_id)
        .group_by(OutboxMessage.state)
    )
    counts = {state.value: 0 for state in OutboxState} | {"resendable": 0}
    for state, number, addressed in db.session.execute(query):
        counts[state] = number
        if state == OutboxState.FAILED:
            counts["resendable"] = addressed
    return counts


def outbox_page(event_id: int, state: str | None, page: int, per_page: int = 50) -> Pagination:
    """One page of the event's mails, newest first, in one state or all, with their registrations and attempts."""
    query = (
        select(OutboxMessage)
        .join(Registration, OutboxMessage.registration_id == Registration.id)
        .where(Registration.event_id == event_id)
        .options(selectinload(OutboxMessage.registration), selectinload(OutboxMessage.attempt_log))
        .order_by(OutboxMessage.id.desc())
    )
    if state:
        query = query.where(OutboxMessage.state == state)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def resend_failed(event_id: int, message_id: int | None = None) -> int:
    """Queue the event's failed mails that still have an address again (all, or the one given), due now; the number
    queued.

    Their attempt log stays; `attempts` counts the tries from now on, so OUTBOX_GIVE_UP_AFTER starts afresh.
    Each resend is audited on its registration, in the same transaction.
    """
    begin_write_transaction()
    query = (
        select(OutboxMessage)
        .join(Registration, OutboxMessage.registration_id == Registration.id)
        .where(Registration.event_id == event_id, OutboxMessage.state == OutboxState.FAILED)
        # A mail whose address was forgotten (an erasure notice given up on) has nowhere to go.
        .where(OutboxMessage.recipient != "")
        .order_by(OutboxMessage.id)
    )
    if message_id is not None:
        query = query.where(OutboxMessage.id == message_id)
    messages = list(db.session.scalars(query))
    now = utcnow()
    for message in messages:
        message.state = OutboxState.QUEUED
        message.next_attempt_at = now
        message.attempts = 0
        audit.record(
            "mail.resent",
            registration=message.registration,
            before={"mail": message.id, "state": OutboxState.FAILED.value},
            after={"state": OutboxState.QUEUED.value},
        )
    db.session.commit()
    return len(messages)
