"""Creating events, with slugs that are generated once and never change."""

from datetime import datetime

from flask import current_app
from slugify import slugify
from sqlalchemy import select

from .database import begin_write_transaction
from .extensions import db
from .models import Event


class EventError(ValueError):
    """An event that cannot be created as asked."""


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
    """Create an event in one transaction and return it."""
    if not title.strip():
        raise EventError("the title is empty")
    if ends_at <= starts_at:
        raise EventError("the event must end after it starts")
    if registration_opens_at and registration_closes_at and registration_closes_at <= registration_opens_at:
        raise EventError("registration must close after it opens")
    if capacity is not None and capacity < 1:
        raise EventError("the capacity must be at least 1")
    # SQLite: no other writer between choosing the slug and the insert; PostgreSQL: the unique index refuses a racer.
    begin_write_transaction()
    event = Event(
        slug=unique_slug(title),
        title=title.strip(),
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
        contact_email=contact_email or _sender_address(),
    )
    db.session.add(event)
    db.session.commit()
    return event


def _sender_address() -> str:
    from email.utils import parseaddr

    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
