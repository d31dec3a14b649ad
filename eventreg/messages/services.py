"""The rules of messages to delegates: a draft saved once per compose form (its idempotency key), confirmed once,
with its recipients fixed at that moment and its mails queued by the worker through the scheduler of timed mails
(mail/schedule.py) in batches, so a send that stops halfway resumes where it stopped; a test send to the organizer,
queued once however often one form asks for it at once; and the per-event daily cap."""

import enum
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Integer, func, insert, literal, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..mail.addresses import smtp_address
from ..mail.schedule import Recipient, ScheduledKind, add_scheduled_kind
from ..models import (
    Event,
    Message,
    MessageKind,
    MessageRecipient,
    MessageState,
    Organizer,
    OutboxMessage,
    Registration,
    ScheduledMail,
    utcnow,
)
from ..registration.capacity import lock_event
from .audience import recipients_clauses
from .texts import MESSAGE_MAIL, MESSAGE_SCHEDULE, TEST_MAIL, MessageRefused, MessageTexts, check_texts

IDEMPOTENCY_KEY_LENGTH = 32
# What the daily cap counts: messages confirmed in the last day (a rolling window, whatever the time zones).
CAP_WINDOW = timedelta(days=1)
# A second "Send a test to me" of the same form, texts and delegate within this time is a double click or a retried
# POST, not a wish for another mail: nothing is queued. Long enough for a slow network's retry, short enough that a
# deliberate second test a minute later goes out.
TEST_REPEAT_WINDOW = timedelta(seconds=30)


def new_idempotency_key() -> str:
    """A fresh key for a compose form: every POST of that form names the same message."""
    return secrets.token_urlsafe(24)[:IDEMPOTENCY_KEY_LENGTH]


def valid_idempotency_key(key: str) -> bool:
    """True for a key new_idempotency_key() could have made (a form's hidden field is read as untrusted)."""
    plain = key.replace("-", "").replace("_", "")
    return 16 <= len(key) <= IDEMPOTENCY_KEY_LENGTH and key.isascii() and plain.isalnum()


def message_in(event: Event, message_id: int, kind: str = MessageKind.MESSAGE) -> Message | None:
    """The event's message (or reminder, with `kind`) with that id, or None."""
    message = db.session.get(Message, message_id)
    return message if message is not None and message.event_id == event.id and message.kind == kind else None


def save_draft(
    event: Event, texts: MessageTexts, audience: dict, idempotency_key: str, organizer: Organizer | None
) -> Message:
    """Save the message a compose form holds, in one transaction: a new draft for a new key, the same draft
    updated for a key seen before, and a message already sent left as it is (a retried POST changes nothing).
    MessageRefused for texts that cannot be sent or a malformed key."""
    if not valid_idempotency_key(idempotency_key):
        raise MessageRefused("", _("The form was not understood; please open it again."))
    check_texts(texts)
    fields = {
        "subject": texts.subject.strip(),
        "body": texts.body.strip(),
        "versions": texts.stored_versions(),
        "attach_ticket": texts.attach_ticket,
        "reply_to_contact": texts.reply_to_contact,
        "audience": audience,
    }
    for _attempt in range(2):  # a second POST racing the first one's insert finds its row on the second round
        # Under the event's lock, as confirmation: a draft being confirmed now is read once it is sent, and left.
        lock_event(event.id)
        message = db.session.scalar(
            select(Message)
            .where(Message.event_id == event.id, Message.idempotency_key == idempotency_key)
            .execution_options(populate_existing=True)
        )
        if message is not None:
            if message.kind == MessageKind.MESSAGE and message.state == MessageState.DRAFT:
                for name, value in fields.items():
                    setattr(message, name, value)
            db.session.commit()
            return message
        message = Message(
            event_id=event.id,
            kind=MessageKind.MESSAGE,
            idempotency_key=idempotency_key,
            created_by_id=organizer.id if organizer else None,
            **fields,
        )
        db.session.add(message)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        return message
    raise MessageRefused("", _("The form was not understood; please open it again."))


@dataclass(frozen=True)
class Confirmation:
    """What confirming did: the message, and whether it had been sent before (then nothing was sent now)."""

    message: Message
    already_sent: bool


def sent_today(event_id: int) -> int:
    """How many messages the event sent in the last day (scheduled reminders do not count)."""
    return db.session.scalar(
        select(func.count()).where(
            Message.event_id == event_id,
            Message.kind == MessageKind.MESSAGE,
            Message.state == MessageState.CONFIRMED,
            Message.confirmed_at > utcnow() - CAP_WINDOW,
        )
    )


def confirm_message(event_id: int, message_id: int, organizer: Organizer | None) -> Confirmation:
    """Send a draft: under the event's lock, fix its recipients (who its audience reaches now), schedule its mails
    for the worker, and record the send in the audit log, in one transaction. A message sent before is not sent
    again. MessageRefused past the event's daily cap, for a message nobody would receive, or one of another event."""
    event = lock_event(event_id)
    # Read afresh under the lock: a second POST that waited for the first must see the message it sent.
    message = db.session.get(Message, message_id, populate_existing=True)
    if message is None or message.event_id != event.id or message.kind != MessageKind.MESSAGE:
        db.session.rollback()
        raise MessageRefused("", _("There is no such message in this event."))
    if message.state == MessageState.CONFIRMED:
        db.session.rollback()
        return Confirmation(message, already_sent=True)
    cap = current_app.config["MESSAGES_PER_EVENT_PER_DAY"]
    if sent_today(event.id) >= cap:
        db.session.rollback()
        raise MessageRefused(
            "",
            ngettext(
                "This event has sent its %(num)d message for today. Please try again tomorrow.",
                "This event has sent its %(num)d messages for today. Please try again tomorrow.",
                cap,
            ),
        )
    db.session.execute(
        insert(MessageRecipient).from_select(
            ["message_id", "registration_id"],
            select(literal(message.id, Integer), Registration.id).where(
                *recipients_clauses(event, message.audience or {})
            ),
        )
    )
    # Counted, not the INSERT's rowcount: psycopg reports -1 for an INSERT … SELECT through SQLAlchemy.
    fixed = db.session.scalar(select(func.count()).where(MessageRecipient.message_id == message.id))
    if not fixed:
        db.session.rollback()
        raise MessageRefused("", _("Nobody would receive this message: no delegate matches any more."))
    now = utcnow()
    scheduled = ScheduledMail(event_id=event.id, kind=MESSAGE_SCHEDULE, due_at=now, created_by_id=message.created_by_id)
    db.session.add(scheduled)
    db.session.flush()
    message.scheduled_mail_id = scheduled.id
    message.state = MessageState.CONFIRMED
    message.recipient_count = fixed
    message.confirmed_at = now
    message.confirmed_by_id = organizer.id if organizer else None
    audit.record(
        "message.sent",
        event=event,
        after={"message": message.id, "subject": message.subject, "recipients": fixed, "audience": message.audience},
    )
    db.session.commit()
    return Confirmation(message, already_sent=False)


class MessageTestOutcome(enum.StrEnum):
    """What asking for a test send did."""

    QUEUED = "queued"
    REPEATED = "repeated"  # the same test was queued a moment ago (a double click, a retried POST): nothing now
    LIMITED = "limited"  # the organizer's send limit said no: nothing queued


def texts_digest(message: Message) -> str:
    """A digest of what a test of the message shows (its texts and options), kept in the test's details: a test of
    changed texts is a new test."""
    shown = [message.subject, message.body, message.versions or {}, message.attach_ticket, message.reply_to_contact]
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:32]


def queue_test(
    event: Event,
    message: Message,
    organizer: Organizer,
    registration: Registration | None,
    allowed: Callable[[], bool] = lambda: True,
) -> MessageTestOutcome:
    """Queue a test of the message to the organizer's own address, as `registration` would receive it (its
    language; its private link replaced by a stand-in), in one transaction with its audit entry.

    The same test (this message, as its texts are now, as this delegate reads it, to this organizer) queued less
    than TEST_REPEAT_WINDOW ago is not queued again: REPEATED. The check and the insert run under the event's lock,
    which the draft's save and its confirmation take too, so two POSTs at once queue one test. `allowed` (the
    organizer's send limit) is asked only when a test is to be queued; LIMITED when it says no."""
    message_id, address = message.id, smtp_address(organizer.email)
    registration_id = registration.id if registration else None
    event = lock_event(event.id)
    # Read afresh under the lock: the texts a racing POST of the same form saved are the ones this test shows.
    message = db.session.get(Message, message_id, populate_existing=True)
    details = {"registration_id": registration_id, "texts": texts_digest(message)}
    earlier = db.session.scalars(
        select(OutboxMessage.details).where(
            OutboxMessage.delegate_message_id == message.id,
            OutboxMessage.kind == TEST_MAIL,
            OutboxMessage.recipient == address,
            OutboxMessage.created_at > utcnow() - TEST_REPEAT_WINDOW,
        )
    )
    if any((earlier_details or {}) == details for earlier_details in earlier):
        db.session.rollback()
        return MessageTestOutcome.REPEATED
    if not allowed():
        db.session.rollback()
        return MessageTestOutcome.LIMITED
    db.session.add(OutboxMessage(kind=TEST_MAIL, recipient=address, delegate_message_id=message.id, details=details))
    audit.record("message.test_sent", event=event, after={"message": message.id, "subject": message.subject})
    db.session.commit()
    return MessageTestOutcome.QUEUED


def _message_recipients(scheduled: ScheduledMail, after: int, limit: int) -> list[Recipient]:
    """The fixed recipients of the message a scheduled mail sends, by registration id (the scheduler's paging);
    one erased since confirmation is left out."""
    message_id = db.session.scalar(select(Message.id).where(Message.scheduled_mail_id == scheduled.id))
    query = (
        select(Registration.id, Registration.email, Registration.status)
        .join(MessageRecipient, MessageRecipient.registration_id == Registration.id)
        .where(
            MessageRecipient.message_id == message_id,
            Registration.id > after,
            Registration.erased_at.is_(None),
        )
        .order_by(Registration.id)
        .limit(limit)
        # FOR SHARE on PostgreSQL (nothing on SQLite, whose writers take turns): an erasure that commits while this
        # batch is queued waits for it, then finds and scrubs the mail it queued.
        .with_for_update(read=True, of=Registration)
    )
    return [
        Recipient(
            registration_id,
            f"registration:{registration_id}",
            {
                "kind": MESSAGE_MAIL,
                "recipient": smtp_address(email),
                "details": {"status": status},
                "registration_id": registration_id,
                "delegate_message_id": message_id,
            },
        )
        for registration_id, email, status in db.session.execute(query)
    ]


add_scheduled_kind(MESSAGE_SCHEDULE, ScheduledKind(recipients=_message_recipients))
