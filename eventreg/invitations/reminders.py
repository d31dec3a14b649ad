"""Invitation reminders: a mail to the invitees who have not answered, sent now to a selection or scheduled some
days before registration closes. Both are ScheduledMails of one kind, so the scheduler (mail/schedule.py) sends
each to each invitee once, whatever the number of workers, and finds who has not answered when it goes out."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..database import begin_write_transaction
from ..extensions import db
from ..mail.queue import invitation_mail_row
from ..mail.schedule import (
    CANCELLED,
    PENDING,
    Recipient,
    ScheduledKind,
    add_scheduled_kind,
    due_time,
)
from ..models import Event, Invitation, Organizer, ScheduledMail, utcnow
from ..models.guests import UNANSWERED
from .queries import filter_clauses, invitation_filters

# The kind of scheduled mail and the kind of outbox mail it queues (the template is the invitee side's,
# invitations/mails.py).
REMINDER = "invitation_reminder"
ANCHOR = "registration_closes"
MIN_DAYS_BEFORE, MAX_DAYS_BEFORE = 1, 90


class ReminderRefused(Exception):
    """A reminder the rules refuse, with the message for the organizer."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def audience(ids: list[int] | None = None, status: str = "", q: str = "", delegation: str = "") -> dict:
    """The audience of a reminder as stored: chosen invitations (`ids`), or the invitation list's filter read as
    the list reads it (an unknown status or delegation is no filter), so "remind all" reaches what the list shows."""
    if ids:
        return {"ids": sorted(set(ids))}
    return invitation_filters({"status": status, "q": q, "delegation": delegation})


def _unanswered(event_id: int, chosen: dict) -> list:
    """WHERE clauses: the event's invitations still waiting for an answer, narrowed by the audience as the
    invitation list filters (invitations/queries.py)."""
    clauses = [Invitation.status.in_(list(UNANSWERED)), *filter_clauses(event_id, chosen)]
    if "ids" in chosen:
        clauses.append(Invitation.id.in_(chosen["ids"]))
    return clauses


def _recipients(scheduled: ScheduledMail, after: int, limit: int) -> list[Recipient]:
    """The invitations a reminder goes to now: unanswered ones of its audience, by id (the scheduler's paging)."""
    query = (
        select(Invitation.id, Invitation.email)
        .where(*_unanswered(scheduled.event_id, scheduled.audience or {}), Invitation.id > after)
        .order_by(Invitation.id)
        .limit(limit)
        .with_for_update(read=True)  # an erasure waits for the batch (messages/services.py says why)
    )
    details = {"scheduled_mail_id": scheduled.id}
    return [
        Recipient(
            invitation_id,
            f"invitation:{invitation_id}",
            {**invitation_mail_row(REMINDER, email, details), "invitation_id": invitation_id},
        )
        for invitation_id, email in db.session.execute(query)
    ]


def _too_late(scheduled: ScheduledMail) -> str | None:
    """A reminder found due once registration has closed is not sent: the invitees can no longer answer."""
    event = db.session.get(Event, scheduled.event_id)
    return "registration_closed" if event.registration_state() == "closed" else None


add_scheduled_kind(REMINDER, ScheduledKind(recipients=_recipients, too_late=_too_late))


def unanswered_count(event: Event, chosen: dict) -> int:
    """How many invitations of `event` a reminder to `chosen` would reach now."""
    return db.session.scalar(select(func.count()).select_from(Invitation).where(*_unanswered(event.id, chosen)))


def remind_now(event: Event, chosen: dict, organizer: Organizer | None = None) -> int:
    """Remind the unanswered invitations of the audience `chosen` at once (a scheduled mail due now), in one
    transaction with its audit entry; how many it reaches. Refused once registration has closed."""
    begin_write_transaction()
    if event.registration_state() == "closed":
        db.session.rollback()
        raise ReminderRefused(_("Registration has closed: the invitees can no longer answer, so no reminder is sent."))
    count = unanswered_count(event, chosen)
    if count:
        db.session.add(
            ScheduledMail(
                event_id=event.id,
                kind=REMINDER,
                due_at=utcnow(),
                audience=chosen,
                created_by_id=organizer.id if organizer else None,
            )
        )
        audit.record("invitation.reminded", event=event, after={"audience": chosen, "count": count})
        db.session.commit()
    else:
        db.session.rollback()
    return count


def scheduled_reminders(event: Event) -> list[ScheduledMail]:
    """The event's invitation reminders, scheduled and sent, the latest due first."""
    query = select(ScheduledMail).where(ScheduledMail.event_id == event.id, ScheduledMail.kind == REMINDER)
    return list(db.session.scalars(query.order_by(ScheduledMail.due_at.desc(), ScheduledMail.id.desc())))


def add_reminder(event: Event, days_before: int, organizer: Organizer | None = None) -> ScheduledMail:
    """Schedule a reminder `days_before` days before registration closes, with its audit entry; refused outside
    1..90 days, for a time already past, or when the same one is already scheduled."""
    if not MIN_DAYS_BEFORE <= days_before <= MAX_DAYS_BEFORE:
        raise ReminderRefused(_("Choose from %(low)d to %(high)d days.", low=MIN_DAYS_BEFORE, high=MAX_DAYS_BEFORE))
    begin_write_transaction()
    due_at = due_time(event, ANCHOR, days_before)
    if due_at <= utcnow():
        db.session.rollback()
        raise ReminderRefused(_("That time has already passed: choose fewer days before registration closes."))
    same = select(ScheduledMail.id).where(
        ScheduledMail.event_id == event.id,
        ScheduledMail.kind == REMINDER,
        ScheduledMail.state == PENDING,
        ScheduledMail.anchor == ANCHOR,
        ScheduledMail.days_before == days_before,
    )
    if db.session.scalar(same) is not None:
        db.session.rollback()
        raise ReminderRefused(_("A reminder %(num)d days before registration closes is already scheduled.",
                                num=days_before))  # fmt: skip
    reminder = ScheduledMail(
        event_id=event.id,
        kind=REMINDER,
        anchor=ANCHOR,
        days_before=days_before,
        due_at=due_at,
        created_by_id=organizer.id if organizer else None,
    )
    db.session.add(reminder)
    audit.record(
        "invitation.reminder_scheduled", event=event, after={"days_before": days_before, "due_at": due_at.isoformat()}
    )
    db.session.commit()
    return reminder


def remove_reminder(event: Event, reminder_id: int) -> None:
    """Cancel a scheduled reminder that has not gone out, with its audit entry; refused for one of another event
    or one already sent or being sent."""
    begin_write_transaction()
    reminder = db.session.get(ScheduledMail, reminder_id)
    if reminder is None or reminder.event_id != event.id or reminder.kind != REMINDER:
        db.session.rollback()
        raise ReminderRefused(_("There is no such reminder in this event."))
    if reminder.state != PENDING:
        db.session.rollback()
        raise ReminderRefused(_("This reminder has already gone out or is going out now; it cannot be removed."))
    reminder.state = CANCELLED
    reminder.finished_at = utcnow()
    reminder.details = {**(reminder.details or {}), "cancelled_reason": "removed"}
    audit.record("invitation.reminder_removed", event=event, before={"days_before": reminder.days_before})
    db.session.commit()
