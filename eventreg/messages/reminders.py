"""Event reminders: messages the scheduler of timed mails (mail/schedule.py) sends some days before the event
starts, each once to each delegate who matches the reminder's filter when it goes out and had registered before its
due time. A reminder is a Message (kind "reminder": its texts, versions, filter and options) linked to a
ScheduledMail (kind "event_reminder", anchor "starts"), so it follows the start when the settings move it.

How many delegates a reminder went to is ScheduledMail.queued (the scheduler counts it per batch); the reminder's
Message.recipient_count stays 0, so there is one source of truth."""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .. import audit
from ..extensions import db
from ..mail.addresses import smtp_address
from ..mail.schedule import CANCELLED, DONE, PENDING, SENDING, Recipient, ScheduledKind, add_scheduled_kind, due_time
from ..models import Event, Message, MessageKind, MessageState, Organizer, Registration, ScheduledMail, utcnow
from ..registration.capacity import lock_event
from .audience import audience_from_filter, recipients_clauses
from .services import new_idempotency_key
from .texts import REMINDER_MAIL, MessageRefused, MessageTexts, check_texts

# The kind of scheduled mail an event reminder is, and the moment it is set against.
EVENT_REMINDER = "event_reminder"
ANCHOR = "starts"
MIN_DAYS_BEFORE, MAX_DAYS_BEFORE = 1, 90
DEFAULT_FILTER = {"status": "confirmed"}
# Why a reminder did not go out (ScheduledMail.details["cancelled_reason"]).
REMOVED, EVENT_STARTED = "removed", "event_started"
# What the pages call each state of a reminder and each reason it was not sent.
REMINDER_STATE_LABELS = {
    PENDING: _l("Scheduled"),
    SENDING: _l("Being sent"),
    DONE: _l("Sent"),
    CANCELLED: _l("Not sent"),
}
NOT_SENT_LABELS = {REMOVED: _l("removed by an organizer"), EVENT_STARTED: _l("the event had started when it fell due")}


@dataclass(frozen=True)
class ReminderState:
    """Where a reminder stands: `name` is "pending" (waiting for its time), "sending", "done" (queued to its
    delegates) or "cancelled" (not sent), with `not_sent_reason` "removed" or "event_started" for a cancelled one."""

    name: str
    not_sent_reason: str = ""

    @property
    def label(self) -> str:
        """The state in the reader's language."""
        return REMINDER_STATE_LABELS.get(self.name, self.name)

    @property
    def not_sent_label(self) -> str:
        """Why it was not sent, in the reader's language ("" unless it was cancelled)."""
        return NOT_SENT_LABELS.get(self.not_sent_reason, self.not_sent_reason)


def reminder_state(message: Message, scheduled: ScheduledMail) -> ReminderState:
    """Where a reminder stands, the one reading of it that the reminders page, the Messages page, the reminder's page
    and the API give: its scheduled mail's state and, once cancelled, why (a removed reminder is cancelled)."""
    if message.state == MessageState.CANCELLED or scheduled.state == CANCELLED:
        removed = REMOVED if message.state == MessageState.CANCELLED else ""
        return ReminderState(CANCELLED, (scheduled.details or {}).get("cancelled_reason") or removed)
    return ReminderState(scheduled.state)


@dataclass(frozen=True)
class EventReminder:
    """A reminder as its pages show it: its texts (the Message) and its schedule (the ScheduledMail)."""

    message: Message
    scheduled: ScheduledMail

    @property
    def state(self) -> ReminderState:
        """Where it stands (reminder_state())."""
        return reminder_state(self.message, self.scheduled)

    @property
    def sent_to(self) -> int:
        """How many delegates it was sent to (so far, while it is being sent)."""
        return self.scheduled.queued

    @property
    def changeable(self) -> bool:
        """Whether it may still be changed or removed: only before it goes out."""
        return self.scheduled.state == PENDING and self.message.state == MessageState.CONFIRMED


def event_reminders(event: Event) -> list[EventReminder]:
    """The event's reminders, removed and sent ones too, the first due first."""
    query = (
        select(Message, ScheduledMail)
        .join(ScheduledMail, Message.scheduled_mail_id == ScheduledMail.id)
        .where(Message.event_id == event.id, Message.kind == MessageKind.REMINDER)
        .order_by(ScheduledMail.due_at, ScheduledMail.id)
    )
    return [EventReminder(message, scheduled) for message, scheduled in db.session.execute(query)]


def reminder_in(event: Event, message_id: int) -> EventReminder | None:
    """The event's reminder with that Message id, or None."""
    message = db.session.get(Message, message_id)
    if message is None or message.event_id != event.id or message.kind != MessageKind.REMINDER:
        return None
    return EventReminder(message, db.session.get(ScheduledMail, message.scheduled_mail_id))


def reminder_audience(event: Event, audience_filter: dict) -> dict:
    """The stored audience of a reminder's filter ({"filter": {…}}, read as the attendee list reads it);
    MessageRefused (field "filter") for a value that is not understood."""
    try:
        return audience_from_filter(MultiDict(audience_filter), event)
    except MessageRefused as refusal:
        raise MessageRefused("filter", refusal.message) from None


def add_reminder(
    event: Event,
    days_before: int,
    texts: MessageTexts,
    audience_filter: dict | None = None,
    organizer: Organizer | None = None,
) -> Message:
    """Schedule a reminder `days_before` days before the event starts, to the delegates matching `audience_filter`
    (default: the confirmed ones) when it goes out, in one transaction with its audit entry. MessageRefused for
    days outside 1..90, a time already past, the same days already scheduled, or texts that cannot be sent."""
    audience = _checked(event, days_before, texts, DEFAULT_FILTER if audience_filter is None else audience_filter)
    event = lock_event(event.id)
    due_at = _due_at(event, days_before, keep=None)
    scheduled = ScheduledMail(
        event_id=event.id,
        kind=EVENT_REMINDER,
        anchor=ANCHOR,
        days_before=days_before,
        due_at=due_at,
        created_by_id=organizer.id if organizer else None,
    )
    db.session.add(scheduled)
    db.session.flush()
    message = Message(
        event_id=event.id,
        kind=MessageKind.REMINDER,
        state=MessageState.CONFIRMED,
        idempotency_key=new_idempotency_key(),
        audience=audience,
        scheduled_mail_id=scheduled.id,
        created_by_id=organizer.id if organizer else None,
        confirmed_by_id=organizer.id if organizer else None,
        confirmed_at=utcnow(),
        **_text_fields(texts),
    )
    db.session.add(message)
    db.session.flush()
    audit.record("reminder.added", event=event, after=_audited(message, scheduled))
    db.session.commit()
    return message


def change_reminder(
    event: Event,
    message_id: int,
    days_before: int,
    texts: MessageTexts,
    audience_filter: dict,
) -> Message:
    """Change a reminder that has not gone out (its days, texts, filter, options), in one transaction with its audit
    entry; refused as add_reminder() refuses, and for one that is going out, went out or was removed."""
    audience = _checked(event, days_before, texts, audience_filter)
    event = lock_event(event.id)
    message, scheduled = _pending(event, message_id)
    before = _audited(message, scheduled)
    scheduled.due_at = _due_at(event, days_before, keep=scheduled.id)
    scheduled.days_before = days_before
    message.audience = audience
    for name, value in _text_fields(texts).items():
        setattr(message, name, value)
    after = _audited(message, scheduled)
    before, after = audit.changes(before, after)
    if after:
        audit.record("reminder.changed", event=event, before=before, after={"reminder": message.id, **after})
    db.session.commit()
    return message


def remove_reminder(event: Event, message_id: int) -> None:
    """Cancel a reminder that has not gone out, in one transaction with its audit entry; refused for one of another
    event, or one that is going out or went out."""
    event = lock_event(event.id)
    message, scheduled = _pending(event, message_id)
    message.state = MessageState.CANCELLED
    scheduled.state = CANCELLED
    scheduled.finished_at = utcnow()
    scheduled.details = {**(scheduled.details or {}), "cancelled_reason": REMOVED}
    audit.record("reminder.removed", event=event, before=_audited(message, scheduled))
    db.session.commit()


def _checked(event: Event, days_before: int, texts: MessageTexts, audience_filter: dict) -> dict:
    """The checks that need no lock: the range of days, the texts, the filter; the stored audience."""
    if not MIN_DAYS_BEFORE <= days_before <= MAX_DAYS_BEFORE:
        raise MessageRefused(
            "days_before",
            _("Please give a number of days from %(low)d to %(high)d.", low=MIN_DAYS_BEFORE, high=MAX_DAYS_BEFORE),
        )
    check_texts(texts)
    return reminder_audience(event, audience_filter)


def _due_at(event: Event, days_before: int, keep: int | None):
    """The due time of a reminder `days_before` days before the (locked) event starts; MessageRefused when it has
    passed or another pending reminder of the event (not `keep`) has the same days. The caller's transaction is
    rolled back on a refusal."""
    due_at = due_time(event, ANCHOR, days_before)
    if due_at <= utcnow():
        db.session.rollback()
        raise MessageRefused(
            "days_before", _("That time has already passed: choose fewer days before the event starts.")
        )
    same = select(ScheduledMail.id).where(
        ScheduledMail.event_id == event.id,
        ScheduledMail.kind == EVENT_REMINDER,
        ScheduledMail.state == PENDING,
        ScheduledMail.days_before == days_before,
    )
    if keep is not None:
        same = same.where(ScheduledMail.id != keep)
    if db.session.scalar(same) is not None:
        db.session.rollback()
        raise MessageRefused(
            "days_before",
            ngettext(
                "A reminder %(num)d day before the event starts is already scheduled.",
                "A reminder %(num)d days before the event starts is already scheduled.",
                days_before,
            ),
        )
    return due_at


def _pending(event: Event, message_id: int) -> tuple[Message, ScheduledMail]:
    """The event's reminder and its scheduled mail, locked (a worker that claims it waits, or is waited for) and
    still pending; MessageRefused otherwise, the transaction rolled back."""
    message = db.session.get(Message, message_id, populate_existing=True)
    if message is None or message.event_id != event.id or message.kind != MessageKind.REMINDER:
        db.session.rollback()
        raise MessageRefused("", _("There is no such reminder in this event."))
    query = select(ScheduledMail).where(ScheduledMail.id == message.scheduled_mail_id)
    scheduled = db.session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if message.state == MessageState.CANCELLED or scheduled.state == CANCELLED:
        db.session.rollback()
        raise MessageRefused("", _("This reminder was removed or cancelled; it can no longer be changed."))
    if scheduled.state in (SENDING, DONE):
        db.session.rollback()
        raise MessageRefused("", _("This reminder has already gone out or is going out now; it cannot be changed."))
    return message, scheduled


def _text_fields(texts: MessageTexts) -> dict:
    """The Message columns of a reminder's texts and options."""
    return {
        "subject": texts.subject.strip(),
        "body": texts.body.strip(),
        "versions": texts.stored_versions(),
        "attach_ticket": texts.attach_ticket,
        "reply_to_contact": texts.reply_to_contact,
    }


def _audited(message: Message, scheduled: ScheduledMail) -> dict:
    """What the audit log keeps of a reminder."""
    return {
        "reminder": message.id,
        "days_before_start": scheduled.days_before,
        "due_at": scheduled.due_at.isoformat(),
        "subject": message.subject,
        "languages": sorted(message.versions or {}),
        "audience": message.audience,
        "attach_ticket": message.attach_ticket,
    }


# ---- the scheduled kind: who a reminder goes to when it is due, and when it is too late


def _recipients(scheduled: ScheduledMail, after: int, limit: int) -> list[Recipient]:
    """The delegates a reminder goes to now: matching its filter, not erased, and registered before its due time
    (a late registrant does not get a past reminder), by registration id (the scheduler's paging)."""
    message = db.session.scalar(select(Message).where(Message.scheduled_mail_id == scheduled.id))
    if message is None or message.state != MessageState.CONFIRMED:
        return []
    event = db.session.get(Event, scheduled.event_id)
    query = (
        select(Registration.id, Registration.email, Registration.status)
        .where(
            *recipients_clauses(event, message.audience or {}),
            Registration.created_at < scheduled.due_at,
            Registration.id > after,
        )
        .order_by(Registration.id)
        .limit(limit)
        .with_for_update(read=True, of=Registration)  # an erasure waits for the batch (see services.py)
    )
    return [
        Recipient(
            registration_id,
            f"registration:{registration_id}",
            {
                "kind": REMINDER_MAIL,
                "recipient": smtp_address(email),
                "details": {"status": status},
                "registration_id": registration_id,
                "delegate_message_id": message.id,
            },
        )
        for registration_id, email, status in db.session.execute(query)
    ]


def _too_late(scheduled: ScheduledMail) -> str | None:
    """A reminder found due once the event has started is not sent (the workers were down until then)."""
    event = db.session.get(Event, scheduled.event_id)
    return EVENT_STARTED if event.starts_at <= utcnow() else None


def _finished(scheduled: ScheduledMail) -> None:
    """The audit entry of a reminder that went out (to how many) or was not sent (why), by the system."""
    message_id = db.session.scalar(select(Message.id).where(Message.scheduled_mail_id == scheduled.id))
    event = db.session.get(Event, scheduled.event_id)
    facts = {"reminder": message_id, "days_before_start": scheduled.days_before}
    if scheduled.state == CANCELLED:
        reason = (scheduled.details or {}).get("cancelled_reason", "")
        audit.record("reminder.not_sent", event=event, after={**facts, "reason": reason}, actor="")
    else:
        audit.record("reminder.sent", event=event, after={**facts, "recipients": scheduled.queued}, actor="")


add_scheduled_kind(EVENT_REMINDER, ScheduledKind(recipients=_recipients, too_late=_too_late, finished=_finished))
