"""The audit log: who did what to which event or registration, with the values before and after."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Organizer
from .common import UTCDateTime, utcnow
from .events import Event
from .registration import Registration


class AuditEntry(db.Model):
    """One recorded action: who did what to which event or registration, with the values before and after."""

    __table_args__ = (
        Index("ix_audit_event_created", "event_id", "created_at"),
        Index("ix_audit_registration_created", "registration_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Null when the delegate or the system acted; `actor` keeps the address as it was at the time.
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id"), index=True)
    actor: Mapped[str] = mapped_column(String(254), default="")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    organizer: Mapped[Organizer | None] = relationship()
    event: Mapped[Event | None] = relationship()
    registration: Mapped[Registration | None] = relationship()
