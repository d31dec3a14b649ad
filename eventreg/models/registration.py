"""Registrations, their statuses and categories; and the flush hook that keeps an event's counters and versions its
numbers."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, event, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates
from sqlalchemy.orm.attributes import get_history, set_committed_value

from ..data_keys import seal, unseal
from ..extensions import db
from .common import (
    CHECKIN_CODE_LENGTH,
    KEY_EXPANSION,
    UTCDateTime,
    _is_east_asian,
    casefold_key,
    new_checkin_code,
    new_token,
    person_search_key,
    search_key,
    token_digest,
    utcnow,
)
from .events import Event

if TYPE_CHECKING:
    from .accounts import Organizer


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

# The honorifics the form offers, stored as these codes and shown in the reader's language.
HONORIFIC_LABELS = {
    "Prof.": _l("Prof."),
    "Dr.": _l("Dr."),
    "Mr.": _l("Mr."),
    "Ms.": _l("Ms."),
    "Mx.": _l("Mx."),
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


# A Fernet token of a 43-character private token is 140 characters; room for a longer one.
SEALED_TOKEN_LENGTH = 200

# Room for family + given + native name and two spaces, casefolded.
NAME_KEY_WIDTH = (100 + 100 + 200 + 2) * KEY_EXPANSION


def _sealed_new_token() -> str:
    """A new private-link token, sealed under the data keyring (the default of a row inserted without one)."""
    return seal(new_token())


def _digest_of_inserted_token(context) -> str:
    """The token_digest of a row inserted with its sealed token but no digest (a Core insert, or the default)."""
    return token_digest(unseal(context.get_current_parameters()["token_sealed"]))


class PrivateLink:
    """A row reached by a private link (a registration, an invitation): its token kept sealed under the data
    keyring in token_sealed, and found by token_digest."""

    @property
    def token(self) -> str:
        """The private link's token, unsealed; "" once the personal data is erased."""
        return unseal(self.token_sealed) if self.token_sealed else ""

    @token.setter
    def token(self, value: str) -> None:
        """A new private token: sealed, with the digest it is found by."""
        self.token_sealed = seal(value)
        self.token_digest = token_digest(value)


def keep_name_key(person, name: str, value: str) -> str:
    """`value` for the name part `name` of a registration or an invitation, whose search and sort key (family name,
    given name, native name) is updated with it."""
    parts = {part: getattr(person, part, None) or "" for part in ("family_name", "given_name", "native_name")}
    parts[name] = value or ""
    person.name_key = person_search_key(parts["family_name"], parts["given_name"], parts["native_name"], NAME_KEY_WIDTH)
    return value


class Registration(PrivateLink, db.Model):
    """One person's registration for one event."""

    __table_args__ = (
        Index("ix_registration_event_status", "event_id", "status"),
        # Covers the dashboard's one pass over countries, statuses and their sums: no table rows are read.
        Index(
            "ix_registration_event_country",
            "event_id",
            "country",
            "status",
            "accompanying",
            "visa_letter",
            "checked_in_at",
        ),
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
    # The private link's token, encrypted under the data keyring (eventreg/data_keys.py), so a database or a backup
    # alone yields no working link; read and set through `token`. Empty once the personal data is erased.
    token_sealed: Mapped[str] = mapped_column(String(SEALED_TOKEN_LENGTH), default=_sealed_new_token)
    # What a private link is looked up by (models.common.token_digest); kept with every change of the token.
    token_digest: Mapped[str] = mapped_column(String(43), unique=True, default=_digest_of_inserted_token)
    honorific: Mapped[str] = mapped_column(String(10), default="")
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    native_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254 * KEY_EXPANSION))
    # Casefolded, without accents, in Python (SQLite's lower() folds ASCII only): search and sort by name agree
    # on SQLite and PostgreSQL.
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
    # What the ticket's QR code holds: separate from the private-link token, so a photographed ticket only admits.
    checkin_code: Mapped[str] = mapped_column(String(CHECKIN_CODE_LENGTH), unique=True, default=new_checkin_code)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The staff account that checked the delegate in (None when not checked in).
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id"))
    # The delegation the registration belongs to (models.guests.Delegation), and whether it leads it.
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegation.id"), index=True)
    is_focal_point: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # When the personal data was erased (eventreg/privacy.py); the row still counts in every total.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="registrations")
    checked_in_by: Mapped["Organizer | None"] = relationship()

    @validates("email", "institution")
    def _keep_keys(self, name: str, value: str) -> str:
        """Every change of the email or the institution updates its comparison key."""
        if name == "email":
            self.email_key = casefold_key(value, 254 * KEY_EXPANSION)
        else:  # institutions are searched and grouped ignoring accents: "Universitat Wien" is "Universität Wien"
            self.institution_key = search_key(value, 200 * KEY_EXPANSION)
        return value

    @validates("given_name", "family_name", "native_name")
    def _keep_name_key(self, name: str, value: str) -> str:
        """Every change of a name part updates the search and sort key: family name, given name, native name."""
        return keep_name_key(self, name, value)

    @property
    def seats(self) -> int:
        """Seats this registration takes: the delegate and everyone accompanying them."""
        return 1 + self.accompanying

    @property
    def display_name(self) -> str:
        """The name as printed on a badge or in a salutation: family name first for names in CJK scripts;
        "Erased" once the personal data is erased."""
        if self.erased_at is not None:
            return str(_l("Erased"))
        if _is_east_asian(self.given_name) and _is_east_asian(self.family_name):
            name = f"{self.family_name}{self.given_name}"
        else:
            name = " ".join(part for part in (self.given_name, self.family_name) if part)
        return f"{HONORIFIC_LABELS.get(self.honorific, self.honorific)} {name}" if self.honorific else name


def held_seats(status, accompanying) -> int:
    """Seats that a registration in `status` holds."""
    return 1 + (accompanying or 0) if status in SEAT_HOLDING else 0


def counted(status, accompanying) -> tuple[int, int]:
    """What a registration in `status` adds to its event's counters: (seats held, places on the waiting list)."""
    return held_seats(status, accompanying), 1 if status == Status.WAITLISTED else 0


def _counted_before(registration: Registration) -> tuple[int, int]:
    """What the registration added to the counters as last flushed (nothing for a new one)."""

    def flushed(name):
        history = get_history(registration, name)
        if history.deleted:
            return history.deleted[0]
        return (history.unchanged or history.added or [None])[0]

    return counted(flushed("status"), flushed("accompanying"))


def move_event_counters(connection, changes: dict[int, tuple[int, int]]) -> dict:
    """Move each event's seats_taken and waitlisted by their changes (seats, waitlisted) and its stats_version
    on, one UPDATE … RETURNING per event, in the caller's transaction: the flush hook below, and writes that bypass
    the ORM (the registration hot path). Returns each event's new (stats_version, seats_taken, waitlisted)."""
    table = Event.__table__
    fresh = {}
    for event_id, (seats, waiting) in sorted(changes.items()):  # id order: writers never wait on each other in a cycle
        statement = (
            update(table)
            .where(table.c.id == event_id)
            .values(
                stats_version=table.c.stats_version + 1,
                seats_taken=table.c.seats_taken + seats,
                waitlisted=table.c.waitlisted + waiting,
            )
            .returning(table.c.stats_version, table.c.seats_taken, table.c.waitlisted)
        )
        fresh[event_id] = connection.execute(statement).one()
    return fresh


@event.listens_for(Session, "before_flush")
def _keep_event_counters(session, flush_context, instances) -> None:
    """Any change to an event's registrations moves its stats_version on, its seats_taken by the seats gained or
    freed and its waitlisted by the places, in ONE statement of the same transaction; the session's event objects
    get the new values."""
    changes: dict[int, tuple[int, int]] = {}
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, Registration):
            continue
        now = counted(obj.status, obj.accompanying)
        if obj in session.new:
            before = (0, 0)
        elif obj in session.deleted:
            now, before = (0, 0), _counted_before(obj)
        elif session.is_modified(obj):
            before = _counted_before(obj)
        else:
            continue
        event_id = obj.event_id if obj.event_id is not None else obj.event.id
        seats, waiting = changes.get(event_id, (0, 0))
        changes[event_id] = (seats + now[0] - before[0], waiting + now[1] - before[1])
    if not changes:
        return
    fresh = move_event_counters(session.connection(), changes)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Event) and obj.id in fresh:
            for name in ("stats_version", "seats_taken", "waitlisted"):
                set_committed_value(obj, name, getattr(fresh[obj.id], name))
