"""Creating events, with slugs that are generated once and never change."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from slugify import slugify
from sqlalchemy import select

from .database import begin_write_transaction
from .extensions import db
from .forms import column_length, strip, text_problem
from .mail.addresses import default_sender_address
from .models import Event

# Dates outside these are typing mistakes (and year 9999 would overflow when shown in a timezone).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, tzinfo=UTC)
MAX_CAPACITY = 1_000_000


class EventError(ValueError):
    """An event that cannot be created as asked."""


def event_by_slug(slug: str) -> Event | None:
    """The event at a URL, or None."""
    return db.session.scalar(select(Event).where(Event.slug == slug))


def unique_slug(title: str) -> str:
    """A URL slug from the title (transliterated to ASCII), made unique with a number when taken."""
    base = slugify(title, max_length=60, word_boundary=True) or "event"
    taken = set(db.session.scalars(select(Event.slug).where(Event.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def local_time(moment: datetime, timezone: str) -> datetime:
    """A wall-clock time in the event's timezone as an aware datetime; refuses times the clocks skip or repeat."""
    zone = _zone(timezone)
    if moment.tzinfo is not None:
        return moment
    local = moment.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise EventError(f"{moment:%Y-%m-%d %H:%M} does not exist in {timezone}: the clocks skip it")
    if local.replace(fold=1).utcoffset() != local.utcoffset():
        raise EventError(f"{moment:%Y-%m-%d %H:%M} happens twice in {timezone}: the clocks go back; choose another")
    return local


def default_end(starts_at: datetime) -> datetime:
    """Three hours after the start, in real time (across a daylight-saving change too)."""
    return starts_at.astimezone(UTC) + timedelta(hours=3)


def create_event(
    *,
    title: str,
    venue: str,
    city: str,
    timezone: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    capacity: int | None = None,
    registration_opens_at: datetime | None = None,
    registration_closes_at: datetime | None = None,
    requires_approval: bool = False,
    contact_email: str | None = None,
) -> Event:
    """Check an event's details and create it in one transaction; raises EventError saying what is wrong."""
    title, venue, city = strip(title), strip(venue), strip(city)
    for label, value, column in (
        ("title", title, Event.title),
        ("venue", venue, Event.venue),
        ("city", city, Event.city),
    ):
        if not any(ch.isalnum() for ch in value):
            raise EventError(f"the {label} is empty or has no letter or digit")
        if len(value) > column_length(column):
            raise EventError(f"the {label} is longer than {column_length(column)} characters")
        if problem := text_problem(value):
            raise EventError(f"the {label}: {problem}")
    if problem := text_problem(description, multiline=True):
        raise EventError(f"the description: {problem}")
    _zone(timezone)
    for moment in (starts_at, ends_at, registration_opens_at, registration_closes_at):
        if moment is not None and not EARLIEST <= moment <= LATEST:
            raise EventError(f"{moment:%Y-%m-%d} is not a plausible date for an event")
    if ends_at <= starts_at:
        raise EventError("the event must end after it starts")
    if registration_opens_at and registration_opens_at >= starts_at:
        raise EventError("registration must open before the event starts")
    if registration_closes_at and registration_closes_at > ends_at:
        raise EventError("registration must close by the end of the event")
    if registration_opens_at and registration_closes_at and registration_closes_at <= registration_opens_at:
        raise EventError("registration must close after it opens")
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise EventError(f"the capacity must be between 1 and {MAX_CAPACITY:,}")
    contact = _mail_address(contact_email or default_sender_address())
    # SQLite: no other writer between choosing the slug and the insert; PostgreSQL: the unique index refuses a racer.
    begin_write_transaction()
    event = Event(
        slug=unique_slug(title),
        title=title,
        description=description,
        venue=venue,
        city=city,
        timezone=timezone,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        registration_opens_at=registration_opens_at,
        registration_closes_at=registration_closes_at,
        requires_approval=requires_approval,
        contact_email=contact,
    )
    db.session.add(event)
    db.session.commit()
    return event


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise EventError(f"{timezone!r} is not an IANA timezone such as Asia/Shanghai") from None


def _mail_address(address: str) -> str:
    """The contact address, checked: every mail of the event carries it as Reply-To."""
    try:
        return validate_email(address, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as error:
        raise EventError(f"the contact address {address!r} is not valid: {error}") from None
