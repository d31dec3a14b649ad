"""The mail outbox: every message is stored before it is sent."""

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..extensions import db
from .common import UTCDateTime, utcnow
from .registration import Registration


class OutboxState(enum.StrEnum):
    """Where a message is on its way out."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    # Never to be sent: the registration's personal data was erased before the message went out.
    CANCELLED = "cancelled"


class OutboxMessage(db.Model):
    """A mail to send; written in the same transaction as the change it reports, rendered when sent."""

    __table_args__ = (Index("ix_outbox_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    # A mail that is not about a registration is about an invitation (models.guests.Invitation).
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"), index=True)
    # The message to delegates (or event reminder, or test send) this mail is one of (models.messages.Message);
    # not message_id, which is the mail's Message-ID header.
    delegate_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(20), default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subject: Mapped[str] = mapped_column(String(300), default="")
    message_id: Mapped[str] = mapped_column(String(300), default="")
    # What the mail reports beyond the registration itself (the fields an edit changed…), as written at the change.
    details: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The number of the registration's mails up to this one (SEQUENCE of its calendar entry), when the query that
    # loaded the message asked for it (the worker's claim does: see tickets.mails_so_far()); otherwise None.
    mails_so_far: Mapped[int | None] = query_expression()

    registration: Mapped[Registration | None] = relationship()
    invitation = relationship("Invitation")
    attempt_log: Mapped[list["OutboxAttempt"]] = relationship(
        back_populates="message", order_by="OutboxAttempt.id", cascade="all, delete-orphan"
    )


class OutboxAttempt(db.Model):
    """One try at sending an outbox message: when, how it ended, and the error (empty when it was sent)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "sent", "retry" (a transient failure: tried again later) or "failed" (permanent, or the last try).
    outcome: Mapped[str] = mapped_column(String(20))
    error: Mapped[str] = mapped_column(Text, default="")

    message: Mapped[OutboxMessage] = relationship(back_populates="attempt_log")
