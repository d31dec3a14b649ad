"""Events: the ceremonies that delegates register for, with the counters their registrations keep (the flush hook
in registration.py)."""

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import Organizer
    from .registration import Registration


class Event(db.Model):
    """A ceremony that delegates register for."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_email: Mapped[str] = mapped_column(String(254))
    # An extra paragraph for the confirmation email (travel hints, dress code…), plain text.
    confirmation_note: Mapped[str] = mapped_column(Text, default="")
    # Bumped in the same transaction as every change to the event's registrations: cached totals are keyed by it.
    stats_version: Mapped[int] = mapped_column(Integer, default=0)
    # Seats held by confirmed and pending registrations (with their accompanying persons), kept by the same hook
    # in the same statement: capacity is decided from this row, locked, without counting registrations.
    seats_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Registrations on the waiting list, erased ones too, kept the same way: a new one's place is this number, known
    # without a count (stats.waitlist_position counts places the same way).
    waitlisted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Whether the public event page and the registration form show how many seats are left.
    show_seats_left: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # The public counter names a country only from this many participants on: a lone delegate can be identified.
    public_min_country_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Who may register: "open" (anyone with the link) or "invitation" (models.guests.Admission).
    admission: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    # The organizers' own paragraph in the invitation mails, plain text.
    invitation_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registrations: Mapped[list["Registration"]] = relationship(back_populates="event", lazy="raise_on_sql")
    organizers: Mapped[list["Organizer"]] = relationship(secondary="event_organizer", back_populates="events")

    @property
    def zone(self) -> ZoneInfo:
        """The event's timezone."""
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """A UTC moment shown in the event's own timezone."""
        return moment.astimezone(self.zone)

    def registration_state(self, now: datetime | None = None) -> str:
        """'open', 'not_yet_open' or 'closed' for the registration window at `now`."""
        now = now or utcnow()
        if self.registration_opens_at and now < self.registration_opens_at:
            return "not_yet_open"
        closes = self.registration_closes_at or self.starts_at
        if now >= closes:
            return "closed"
        return "open"
