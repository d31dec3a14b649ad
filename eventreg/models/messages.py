"""Messages to delegates: what an organizer wrote (a subject and body, a version per language, the options), to
whom (fixed when the organizer confirms), and the event reminders, which are messages the scheduler sends at a time
before the event starts. Each mail of a message is an outbox row that names its message
(OutboxMessage.delegate_message_id)."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import UTCDateTime, utcnow


class MessageKind(enum.StrEnum):
    """A message written and sent once, or an event reminder scheduled before the event starts."""

    MESSAGE = "message"
    REMINDER = "reminder"


class MessageState(enum.StrEnum):
    """A message being written (not yet sent to anyone), confirmed (its recipients fixed and its mails queued by
    the worker), or, for a reminder, removed before it went out."""

    DRAFT = "draft"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


MESSAGE_STATE_LABELS = {
    MessageState.DRAFT: _l("Draft"),
    MessageState.CONFIRMED: _l("Sent"),
    MessageState.CANCELLED: _l("Removed"),
}


class Message(db.Model):
    """A message to an event's delegates, or one of its scheduled reminders.

    The texts are organizer-written plain text with the small markup of messages/markup.py and `{placeholders}`
    (eventreg/placeholders.py); they are filled and rendered for each delegate when the mail is composed.
    """

    __table_args__ = (
        # A double-click or a retried POST of the same form finds the message the first one made.
        UniqueConstraint("event_id", "idempotency_key", name="uq_message_event_idempotency"),
        UniqueConstraint("scheduled_mail_id", name="uq_message_scheduled_mail"),
        Index("ix_message_event_kind_created", "event_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    kind: Mapped[str] = mapped_column(String(20), default=MessageKind.MESSAGE)
    state: Mapped[str] = mapped_column(String(20), default=MessageState.DRAFT)
    # The default version, for delegates whose language has no version of its own.
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # {language code: {"subject": …, "body": …}}: the versions per language, beside the default.
    versions: Mapped[dict] = mapped_column(JSON, default=dict)
    # Who it goes to: {"filter": {the attendee list's filter values}} or {"ids": [registration ids]} for a message;
    # {"filter": {…}} for a reminder, read when it is sent.
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    # The delegate's current ticket (QR code) and calendar entry go with the mail, to those who have one.
    attach_ticket: Mapped[bool] = mapped_column(Boolean, default=False)
    # Replies go to the event's contact address (else to the sender address).
    reply_to_contact: Mapped[bool] = mapped_column(Boolean, default=True)
    # The compose form's key: one message per key and event, however often the form is sent.
    idempotency_key: Mapped[str] = mapped_column(String(64))
    # How many delegates it was sent to (fixed at confirmation); a reminder's, once it has gone out.
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    # The scheduled mail that queues its mails (mail/schedule.py): due at confirmation for a message, days before
    # the event starts for a reminder.
    scheduled_mail_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_mail.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event = relationship("Event", lazy="raise_on_sql")
    scheduled_mail = relationship("ScheduledMail", lazy="raise_on_sql")
    created_by = relationship("Organizer", foreign_keys=[created_by_id], lazy="raise_on_sql")
    confirmed_by = relationship("Organizer", foreign_keys=[confirmed_by_id], lazy="raise_on_sql")

    def version_for(self, language: str | None) -> tuple[str, str]:
        """(subject, body) a delegate writing `language` gets: that language's version, else the default one."""
        version = (self.versions or {}).get(language or "")
        if version and version.get("subject", "").strip() and version.get("body", "").strip():
            return version["subject"], version["body"]
        return self.subject, self.body


class MessageRecipient(db.Model):
    """A delegate a message goes to, fixed when the organizer confirmed it: the worker queues one mail to each."""

    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), primary_key=True, index=True)
