"""Organizer accounts, their roles and rights, event assignments and API tokens."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .common import KEY_EXPANSION, UTCDateTime, casefold_key, new_token, utcnow
from .events import Event


class Right(enum.StrEnum):
    """What an organizer account may do; roles are sets of rights."""

    MANAGE_ACCOUNTS = "manage_accounts"  # organizer accounts, event assignments, the audit log
    MANAGE_ALL_EVENTS = "manage_all_events"  # every event, not only the assigned ones
    MANAGE_EVENTS = "manage_events"  # create events; run the assigned ones (dashboard, attendees, exports)
    SEE_DIETARY = "see_dietary"
    SEE_ACCESS_NEEDS = "see_access_needs"
    CHECK_IN = "check_in"
    USE_API = "use_api"
    VISA_LETTERS = "visa_letters"  # see passport data, issue and refuse visa invitation letters
    MESSAGE_DELEGATES = "message_delegates"  # write to an event's delegates, set its reminders
    OWN_ACCOUNT = "own_account"  # log out, change one's own password


ROLE_RIGHTS: dict[str, frozenset[Right]] = {
    "admin": frozenset(Right),
    "organizer": frozenset(
        {
            Right.MANAGE_EVENTS,
            Right.SEE_DIETARY,
            Right.SEE_ACCESS_NEEDS,
            Right.CHECK_IN,
            Right.USE_API,
            Right.VISA_LETTERS,
            Right.MESSAGE_DELEGATES,
            Right.OWN_ACCOUNT,
        }
    ),
    "checkin": frozenset({Right.CHECK_IN, Right.SEE_ACCESS_NEEDS, Right.OWN_ACCOUNT}),
}

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "organizer": _l("Organizer"),
    "checkin": _l("Check-in staff"),
}

# Which organizers run which events (admins run every event without being listed here).
event_organizer = Table(
    "event_organizer",
    db.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("organizer_id", ForeignKey("organizer.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Organizer(UserMixin, db.Model):
    """A person who runs events and logs in to the organizer pages."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254 * KEY_EXPANSION), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="admin")
    # The session cookie names this, not the id: a new one (at logout) ends every copy of the old cookie.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The language of the organizer pages for this account (a code of LANGUAGES); "" follows the browser.
    language: Mapped[str] = mapped_column(String(10), default="", server_default="")

    events: Mapped[list[Event]] = relationship(secondary=event_organizer, back_populates="organizers")

    def can(self, right: Right) -> bool:
        """True when the organizer's role carries this right."""
        return right in ROLE_RIGHTS.get(self.role, frozenset())

    def manages(self, event: Event) -> bool:
        """True when the organizer may run this event: an admin, or an organizer assigned to it."""
        if self.can(Right.MANAGE_ALL_EVENTS):
            return True
        return self.can(Right.MANAGE_EVENTS) and any(own.id == event.id for own in self.events)

    @validates("email")
    def _keep_key(self, name: str, value: str) -> str:
        """The login is compared case-insensitively through this key."""
        self.email_key = casefold_key(value, 254 * KEY_EXPANSION)
        return value

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie."""
        return self.session_token

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive accounts."""
        return self.active

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password, never the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)


class ApiToken(db.Model):
    """A read-only API token of one organizer; only a hash of it is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so its owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organizer: Mapped[Organizer] = relationship()
