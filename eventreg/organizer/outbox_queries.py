"""The organizer's view of an event's outbox: counts by state, a page of mails with their attempts (the test sends
of its messages among them), and failed mails queued again."""

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..database import begin_write_transaction
from ..extensions import db
from ..mail.queue import RESENDABLE, requeue
from ..messages.texts import TEST_MAIL
from ..models import Event, Invitation, Message, OutboxMessage, OutboxState, Registration


def _of_event(query: Select, event_id: int) -> Select:
    """`query` on outbox messages narrowed to the event's: about its registrations, about its invitations, or a
    test of one of its messages to delegates, sent to an organizer (three IN subqueries on indexed columns, which
    PostgreSQL combines with a bitmap OR, rather than OR over joins)."""
    registrations = select(Registration.id).where(Registration.event_id == event_id)
    invitations = select(Invitation.id).where(Invitation.event_id == event_id)
    messages = select(Message.id).where(Message.event_id == event_id)
    return query.where(
        or_(
            OutboxMessage.registration_id.in_(registrations),
            OutboxMessage.invitation_id.in_(invitations),
            and_(OutboxMessage.delegate_message_id.in_(messages), OutboxMessage.kind == TEST_MAIL),
        )
    )


def outbox_message_of(event_id: int, message_id: int) -> OutboxMessage | None:
    """The event's outbox message with that id (about one of its registrations or invitations, or a test of one of
    its messages), or None."""
    return db.session.scalar(_of_event(select(OutboxMessage), event_id).where(OutboxMessage.id == message_id))


def tested_messages(mails) -> dict[int, Message]:
    """{message id: message}: the messages to delegates that the test sends among `mails` are tests of."""
    ids = {mail.delegate_message_id for mail in mails if mail.kind == TEST_MAIL}
    if not ids:
        return {}
    return {message.id: message for message in db.session.scalars(select(Message).where(Message.id.in_(ids)))}


def outbox_counts(event_id: int) -> dict[str, int]:
    """How many of the event's mails are queued, sent and failed; and "resendable", the failed ones that still
    have an address (a failed erasure notice has forgotten its own, so "Resend" cannot send it)."""
    with_address = func.count().filter(OutboxMessage.recipient != "")
    query = _of_event(
        select(OutboxMessage.state, func.count(), with_address).select_from(OutboxMessage), event_id
    ).group_by(OutboxMessage.state)
    counts = {state.value: 0 for state in OutboxState} | {"resendable": 0}
    for state, number, addressed in db.session.execute(query):
        counts[state] = number
        if state == OutboxState.FAILED:
            counts["resendable"] = addressed
    return counts


def outbox_page(event_id: int, state: str | None, page: int, per_page: int = 50) -> Pagination:
    """One page of the event's mails (test sends of its messages among them), newest first, in one state or all,
    with their registrations or invitations and their attempts."""
    query = (
        _of_event(select(OutboxMessage), event_id)
        .options(
            selectinload(OutboxMessage.registration),
            selectinload(OutboxMessage.invitation),
            selectinload(OutboxMessage.attempt_log),
        )
        .order_by(OutboxMessage.id.desc())
    )
    if state:
        query = query.where(OutboxMessage.state == state)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def resend_failed(event_id: int, message_id: int | None = None) -> int:
    """Queue the event's failed mails that still have an address again (all, or the one given), due now; the number
    queued.

    Their attempt log stays; `attempts` counts the tries from now on, so OUTBOX_GIVE_UP_AFTER starts afresh.
    Each resend is audited on its registration (on the event for a mail about an invitation or a test send), in
    the same transaction.
    """
    begin_write_transaction()
    query = _of_event(select(OutboxMessage), event_id).where(*RESENDABLE).order_by(OutboxMessage.id)
    if message_id is not None:
        query = query.where(OutboxMessage.id == message_id)
    messages = list(db.session.scalars(query))
    event = db.session.get(Event, event_id)
    requeue(messages)
    for message in messages:
        audit.record(
            "mail.resent",
            registration=message.registration,
            event=None if message.registration_id is not None else event,
            before={"mail": message.id, "state": OutboxState.FAILED.value},
            after={"state": OutboxState.QUEUED.value},
        )
    db.session.commit()
    return len(messages)
