"""The mail queue: the one way to send mail is to add an outbox row in the caller's transaction; the worker
composes and sends it later (mail/compose.py, mail/worker.py)."""

from collections.abc import Callable

from sqlalchemy import select

from ..extensions import db
from ..models import Invitation, OutboxAttempt, OutboxMessage, OutboxState, Registration, utcnow
from .addresses import smtp_address

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
# The subject line of each kind that a feature package adds (add_kind), from the event's title and the status the
# mail was queued with, called in the recipient's language; the core's own kinds are in mail/compose.py.
SUBJECTS: dict[str, Callable[[str, str], str]] = {}
# Kinds whose mails are about an invitation (OutboxMessage.invitation), not a registration.
INVITATION_KINDS: set[str] = set()
# The documents a kind of mail carries, made when it is sent (a visa letter, a certificate): a function of the
# outbox message, called in the recipient's language, that returns a list of mail.messages.Attachment.
ATTACHMENTS: dict[str, Callable] = {}
# Kinds that compose their whole mail themselves (messages to delegates, written by organizers, not from a template
# pair): a function of the outbox message that returns the mail (an EncodedMessage), called outside any locale.
COMPOSERS: dict[str, Callable] = {}


def add_kind(
    kind: str,
    template: str,
    subject: Callable[[str, str], str],
    *,
    about_invitation: bool = False,
    attachments: Callable | None = None,
    composer: Callable | None = None,
) -> None:
    """Make a kind of mail known: its template pair under templates/, its subject line and the documents it
    carries, or the `composer` that writes the whole mail. Feature packages call it at import (the app imports every
    feature's views before it serves or sends)."""
    KINDS[kind] = template
    SUBJECTS[kind] = subject
    if composer is not None:
        COMPOSERS[kind] = composer
    if about_invitation:
        INVITATION_KINDS.add(kind)
    if attachments is not None:
        ATTACHMENTS[kind] = attachments


# The last mail to an erased registration's address: composed from what erasure leaves (the event, the language),
# and its row forgets the address once it is sent or given up on (see forget_addresses()).
ERASURE_NOTICE = "erased"


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


# The failed mails that can be sent again: a mail whose address was forgotten (its delegate was erased, an erasure
# notice given up on) has nowhere to go.
RESENDABLE = (OutboxMessage.state == OutboxState.FAILED, OutboxMessage.recipient != "")


def requeue(mails: list[OutboxMessage]) -> None:
    """Put failed mails back in the queue, due now. Their attempt log stays; `attempts` counts the tries from now
    on, so OUTBOX_GIVE_UP_AFTER starts afresh. The caller audits and commits."""
    now = utcnow()
    for mail in mails:
        mail.state = OutboxState.QUEUED
        mail.next_attempt_at = now
        mail.attempts = 0


def mail_row(kind: str, registration: Registration, recipient: str | None = None, details: dict | None = None) -> dict:
    """The columns of an outbox message about `registration` (see queue_mail), for an ORM object or a Core insert."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    return {
        "kind": kind,
        "recipient": smtp_address(recipient or registration.email),
        "details": {"status": registration.status, **(details or {})},
    }


def queue_invitation_mail(kind: str, invitation: Invitation, *, details: dict | None = None) -> OutboxMessage:
    """Add a mail about `invitation` (the invitation itself, a reminder) to the outbox, in the caller's
    transaction, to the invited address."""
    message = OutboxMessage(invitation=invitation, **invitation_mail_row(kind, invitation.email, details))
    db.session.add(message)
    return message


def invitation_mail_row(kind: str, email: str, details: dict | None = None) -> dict:
    """The columns of an outbox message about an invitation, for an ORM object or a Core insert (the caller adds
    invitation_id to a Core row)."""
    if kind not in INVITATION_KINDS:
        raise ValueError(f"unknown invitation mail kind {kind!r}")
    return {"kind": kind, "recipient": smtp_address(email), "details": details or {}}
