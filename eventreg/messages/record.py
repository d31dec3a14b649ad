"""The rule of the record of messages: a message's failed mails queued again, at once, with one audit entry."""

from sqlalchemy import select

from .. import audit
from ..database import begin_write_transaction
from ..extensions import db
from ..mail.queue import RESENDABLE, requeue
from ..models import Event, Message, Organizer, OutboxMessage
from .texts import TEST_MAIL


def resend_failed_mails(event: Event, message: Message, organizer: Organizer | None) -> int:
    """Queue the failed mails of one message (or reminder) that still have an address again, due now, in one
    transaction with one audit entry on the event; the number queued (0 records nothing).

    As the outbox's own resend does (mail.queue.requeue), each mail's attempt log stays and `attempts` starts
    afresh, so OUTBOX_GIVE_UP_AFTER counts from now. The audit entry names `organizer` (else whoever acts in this
    request).
    """
    begin_write_transaction()
    mails = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.delegate_message_id == message.id,
                OutboxMessage.kind != TEST_MAIL,  # a test send went to the organizer, not to a delegate
                *RESENDABLE,
            )
            .order_by(OutboxMessage.id)
            # A second request at the same moment finds them taken and records nothing (SQLite: writers take turns).
            .with_for_update(skip_locked=True)
        )
    )
    if not mails:
        db.session.rollback()
        return 0
    requeue(mails)
    audit.record(
        "message.failed_resent",
        event=event,
        after={"message": message.id, "subject": message.subject, "resent": len(mails)},
        organizer=organizer,
    )
    db.session.commit()
    return len(mails)
