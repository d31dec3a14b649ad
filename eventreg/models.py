"""The tables: events, registrations, organizers and the mail outbox."""

import enum
import secrets
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    event,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


# str.casefold() makes text at most three times longer ("ß" → "ss", "ﬃ" → "ffi"): key columns are that wide.
KEY_EXPANSION = 3


def casefold_key(text: str, limit: int | None = None) -> str:
    """A key that compares text case-insensitively in any script (NFC, casefolded, runs of spaces collapsed).

    `limit` cuts it to its column's width, which only text far beyond any real name or address reaches.
    """
    key = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    return key[:limit] if limit else key


def new_token() -> str:
    """An unguessable URL-safe token of 256 bits for private links."""
    return secrets.token_urlsafe(32)


def _is_east_asian(text: str) -> bool:
    """True when the text is written in Chinese, Japanese or Korean characters (family name first)."""
    return bool(text) and all(
        any(script in unicodedata.name(ch, "") for script in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))
        for ch in text
        if not ch.isspace()
    )


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as naive UTC, so SQLite and PostgreSQL hold the same values."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Status(enum.StrEnum):
    """Every state a registration can be in; check-in is recorded apart, in checked_in_at."""

    CONFIRMED = "confirmed"
    PENDING = "pending"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class Category(enum.StrEnum):
    """Why a person attends."""

    DELEGATE = "delegate"
    OBSERVER = "observer"
    SPEAKER = "speaker"
    PRESS = "press"
    GUEST = "guest"


STATUS_LABELS = {
    Status.CONFIRMED: _l("Confirmed"),
    Status.PENDING: _l("Pending approval"),
    Status.WAITLISTED: _l("Waitlisted"),
    Status.CANCELLED: _l("Cancelled"),
    Status.REJECTED: _l("Rejected"),
}

CATEGORY_LABELS = {
    Category.DELEGATE: _l("Delegate"),
    Category.OBSERVER: _l("Observer"),
    Category.SPEAKER: _l("Speaker"),
    Category.PRESS: _l("Press"),
    Category.GUEST: _l("Guest"),
}

# Statuses that hold a seat, and statuses that block a second registration with the same email.
SEAT_HOLDING = (Status.CONFIRMED, Status.PENDING)
ACTIVE = (Status.CONFIRMED, Status.PENDING, Status.WAITLISTED)
ACTIVE_SQL = "status IN ({})".format(", ".join(f"'{status.value}'" for status in ACTIVE))


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registrations: Mapped[list["Registration"]] = relationship(back_populates="event", lazy="raise_on_sql")
    organizers: Mapped[list["Organizer"]] = relationship(
        secondary="event_organizer", back_populates="events", lazy="selectin"
    )

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


# Room for family + given + native name and two spaces, casefolded.
NAME_KEY_WIDTH = (100 + 100 + 200 + 2) * KEY_EXPANSION


class Registration(db.Model):
    """One person's registration for one event."""

    __table_args__ = (
        Index("ix_registration_event_status", "event_id", "status"),
        Index("ix_registration_event_country", "event_id", "country", "status"),
        Index("ix_registration_event_category", "event_id", "category", "status"),
        Index("ix_registration_event_institution", "event_id", "institution_key", "status"),
        Index("ix_registration_event_created", "event_id", "created_at"),
        Index("ix_registration_event_name", "event_id", "name_key"),
        # The database itself refuses a second active registration with the same email for one event.
        Index(
            "uq_registration_event_email_active",
            "event_id",
            "email_key",
            unique=True,
            sqlite_where=text(ACTIVE_SQL),
            postgresql_where=text(ACTIVE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    honorific: Mapped[str] = mapped_column(String(10), default="")
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    native_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254 * KEY_EXPANSION))
    # Casefolded in Python (SQLite's lower() folds ASCII only), so search and sort agree on SQLite and PostgreSQL.
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_WIDTH), default="")
    institution: Mapped[str] = mapped_column(String(200))
    institution_key: Mapped[str] = mapped_column(String(200 * KEY_EXPANSION))
    position: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(20))
    accompanying: Mapped[int] = mapped_column(Integer, default=0)
    dietary: Mapped[str] = mapped_column(String(500), default="")
    accessibility: Mapped[str] = mapped_column(String(500), default="")
    visa_letter: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(10))
    # Random per rendered form: a second submit of the same form (a double tap) finds the first registration.
    submission_key: Mapped[str | None] = mapped_column(String(64))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="registrations")

    @validates("email", "institution")
    def _keep_keys(self, name: str, value: str) -> str:
        """Every change of the email or the institution updates its comparison key."""
        width = (254 if name == "email" else 200) * KEY_EXPANSION
        setattr(self, f"{name}_key", casefold_key(value, width))
        return value

    @validates("given_name", "family_name", "native_name")
    def _keep_name_key(self, name: str, value: str) -> str:
        """Every change of a name part updates the search and sort key: family name, given name, native name."""
        parts = {part: getattr(self, part, None) or "" for part in ("family_name", "given_name", "native_name")}
        parts[name] = value or ""
        self.name_key = casefold_key(" ".join(parts.values()), NAME_KEY_WIDTH)
        return value

    @property
    def seats(self) -> int:
        """Seats this registration takes: the delegate and everyone accompanying them."""
        return 1 + self.accompanying

    @property
    def display_name(self) -> str:
        """The name as printed on a badge or in a salutation: family name first for names in CJK scripts."""
        if _is_east_asian(self.given_name) and _is_east_asian(self.family_name):
            name = f"{self.family_name}{self.given_name}"
        else:
            name = " ".join(part for part in (self.given_name, self.family_name) if part)
        return f"{self.honorific} {name}" if self.honorific else name


class Right(enum.StrEnum):
    """What an organizer account may do; roles are sets of rights."""

    MANAGE_ACCOUNTS = "manage_accounts"  # organizer accounts, event assignments, the audit log
    MANAGE_ALL_EVENTS = "manage_all_events"  # every event, not only the assigned ones
    MANAGE_EVENTS = "manage_events"  # create events; run the assigned ones (dashboard, attendees, exports)
    SEE_DIETARY = "see_dietary"
    SEE_ACCESS_NEEDS = "see_access_needs"
    CHECK_IN = "check_in"
    USE_API = "use_api"
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

    events: Mapped[list[Event]] = relationship(secondary=event_organizer, back_populates="organizers", lazy="selectin")

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


class OutboxState(enum.StrEnum):
    """Where a message is on its way out."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """A mail to send; written in the same transaction as the change it reports, rendered when sent."""

    __table_args__ = (Index("ix_outbox_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(20), default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subject: Mapped[str] = mapped_column(String(300), default="")
    message_id: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration | None] = relationship()


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


@event.listens_for(Session, "before_flush")
def _bump_stats_version(session, flush_context, instances) -> None:
    """Any change to an event's registrations moves its stats_version on, in the same transaction."""
    event_ids = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Registration) and (obj in session.new or session.is_modified(obj) or obj in session.deleted):
            event_ids.add(obj.event_id if obj.event_id is not None else obj.event.id)
    if event_ids:
        table = Event.__table__
        session.connection().execute(
            update(table).where(table.c.id.in_(sorted(event_ids))).values(stats_version=table.c.stats_version + 1)
        )
