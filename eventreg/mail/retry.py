"""What a try at sending leads to: the retry policy (which failures are for good, how long to wait, when to give
up) and the attempt log, one row per try."""

import logging
import random
import smtplib
from datetime import datetime, timedelta
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select, update

from ..extensions import db
from ..models import Invitation, InvitationStatus, OutboxAttempt, OutboxMessage, OutboxState, utcnow
from .addresses import mask_address_in

# The worker's log, where operators look for a mail that did not go out (`flask outbox-worker` prints it).
log = logging.getLogger("eventreg.mail.worker")


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt in a row.

    Doubling from OUTBOX_FIRST_RETRY_DELAY, capped by OUTBOX_MAX_RETRY_DELAY, then shortened by a random part of up
    to half ("equal jitter"), so the messages that failed together in an outage do not all come back together.
    """
    config = current_app.config
    ceiling = min(config["OUTBOX_FIRST_RETRY_DELAY"] * 2 ** max(attempts - 1, 0), config["OUTBOX_MAX_RETRY_DELAY"])
    return timedelta(seconds=ceiling * random.uniform(0.5, 1.0))  # noqa: S311 - spreading, not secrecy


def is_permanent(error: Exception) -> bool:
    """True when trying again cannot help: the server refused this recipient or this message with a 5xx reply.

    A refused sender, a failed login, a 4xx reply or a broken connection concern the server or our settings,
    not the message: those are retried (until OUTBOX_GIVE_UP_AFTER), so mail flows again once they are fixed.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def describe_error(error: Exception) -> str:
    """The error as organizers see it on the outbox page: its kind and the server's words."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = "; ".join(
            f"{parseaddr(address)[1] or address}: {code} {_text(reply)}"
            for address, (code, reply) in sorted(error.recipients.items())
        )
        return f"SMTPRecipientsRefused: {replies}"[:2000]
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"[:2000]
    return f"{type(error).__name__}: {error}"[:2000]


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def is_connection_error(error: Exception) -> bool:
    """A failure to reach the server (not an answer from it): the next messages would fail the same way."""
    answered = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)
    return isinstance(error, OSError) and not isinstance(error, answered)


# What an invitation's status may be for its mail's outcome to change it: an opened link or an answer says more
# than a delivery (a reminder sent to an invitee who already opened the link stays "link opened"), and an opened
# link proves the address works, so a later reminder that bounces does not make it "mail failed".
_SENT_FROM = (InvitationStatus.NOT_SENT, InvitationStatus.SENT, InvitationStatus.FAILED)
_FAILED_FROM = (InvitationStatus.NOT_SENT, InvitationStatus.SENT)


def record_sent(message: OutboxMessage, started: datetime) -> None:
    """Add the attempt row of a try that the server took; a mail about an invitation makes it SENT."""
    db.session.add(OutboxAttempt(message_id=message.id, attempted_at=started, outcome="sent", error=""))
    if message.invitation_id is not None:
        _set_invitation_status(message.invitation_id, InvitationStatus.SENT, _SENT_FROM, sent_at=utcnow())


def _set_invitation_status(invitation_id: int, status: InvitationStatus, only_from: tuple, **values) -> None:
    """Move the invitation to `status` when it is in one of `only_from`, in the worker's transaction (a conditional
    UPDATE: an invitee who registers while the mail goes out keeps their answer)."""
    table = Invitation.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == invitation_id, table.c.status.in_(only_from))
        .values(status=status, updated_at=utcnow(), **values)
    )


def record_failure(message: OutboxMessage, started: datetime, error: Exception) -> None:
    """Schedule the next try, or mark the message failed when the error is permanent or time is up."""
    text = describe_error(error)
    now = utcnow()
    deadline = _first_try(message, started) + timedelta(seconds=current_app.config["OUTBOX_GIVE_UP_AFTER"])
    message.last_error = text
    if is_permanent(error) or now >= deadline:
        message.state = OutboxState.FAILED
        outcome = "failed"
        log.error("outbox message %s failed: %s", message.id, mask_address_in(text, message.recipient))
        if message.invitation_id is not None:
            _set_invitation_status(message.invitation_id, InvitationStatus.FAILED, _FAILED_FROM)
    else:
        # The last try falls on the deadline, not a whole backoff step after it.
        message.next_attempt_at = min(now + retry_delay(message.attempts), deadline)
        outcome = "retry"
        log.warning(
            "outbox message %s not sent, retrying at %s: %s",
            message.id,
            message.next_attempt_at,
            mask_address_in(text, message.recipient),  # a log names no recipient in full
        )
    db.session.add(OutboxAttempt(message_id=message.id, attempted_at=started, outcome=outcome, error=text))


def _first_try(message: OutboxMessage, started: datetime) -> datetime:
    """When the current run of tries began: `attempts` counts the tries since the message was queued or resent,
    and the earliest of them is that many rows back in its attempt log (the one in hand is not written yet)."""
    if message.attempts <= 1:
        return started
    earlier = db.session.scalar(
        select(OutboxAttempt.attempted_at)
        .where(OutboxAttempt.message_id == message.id)
        .order_by(OutboxAttempt.id.desc())
        .offset(message.attempts - 2)
        .limit(1)
    )
    return earlier or message.created_at
