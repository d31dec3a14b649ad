"""Every total and breakdown of an event, as SQL aggregates.

Breakdowns (countries, categories, institutions) count registrations that hold a seat:
confirmed ones and those pending approval. Totals by status count everything.
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from .countries import country_name, flag
from .extensions import db
from .models import SEAT_HOLDING, Registration, Status


@dataclass(frozen=True)
class CountryCount:
    """Delegates from one country or region."""

    code: str
    name: str
    flag: str
    count: int
    share: float


def _holding(event_id: int):
    """The WHERE clause for seat-holding registrations of one event."""
    return (Registration.event_id == event_id, Registration.status.in_(SEAT_HOLDING))


def totals_by_status(event_id: int) -> dict[str, int]:
    """Registrations per status, every status present (zero when none)."""
    query = (
        select(Registration.status, func.count()).where(Registration.event_id == event_id).group_by(Registration.status)
    )
    totals = {status.value: 0 for status in Status}
    totals.update(dict(db.session.execute(query).all()))
    return totals


def seats_taken(event_id: int) -> int:
    """Seats held: each seat-holding delegate plus their accompanying persons."""
    query = select(func.coalesce(func.sum(1 + Registration.accompanying), 0)).where(*_holding(event_id))
    return int(db.session.scalar(query))


def countries_represented(event_id: int) -> int:
    """How many countries and regions the seat-holding delegates come from."""
    query = select(func.count(func.distinct(Registration.country))).where(*_holding(event_id))
    return int(db.session.scalar(query))


def delegates_per_country(event_id: int) -> list[CountryCount]:
    """Seat-holding delegates per country, most first (ties by name), with each one's share."""
    query = select(Registration.country, func.count()).where(*_holding(event_id)).group_by(Registration.country)
    rows = db.session.execute(query).all()
    total = sum(count for _, count in rows)
    result = [
        CountryCount(code, country_name(code), flag(code), count, count / total if total else 0.0)
        for code, count in rows
    ]
    result.sort(key=lambda row: (-row.count, row.name.casefold()))
    return result


def delegates_per_category(event_id: int) -> dict[str, int]:
    """Seat-holding delegates per category, largest first."""
    query = (
        select(Registration.category, func.count().label("n"))
        .where(*_holding(event_id))
        .group_by(Registration.category)
        .order_by(func.count().desc(), Registration.category)
    )
    return dict(db.session.execute(query).all())


def top_institutions(event_id: int, limit: int = 10) -> list[tuple[str, int]]:
    """The institutions sending the most seat-holding delegates, spelling variants in case merged."""
    query = (
        select(func.min(Registration.institution), func.count())
        .where(*_holding(event_id))
        .group_by(Registration.institution_key)
        .order_by(func.count().desc(), Registration.institution_key)
        .limit(limit)
    )
    return [(name, count) for name, count in db.session.execute(query).all()]


@dataclass(frozen=True)
class EventSummary:
    """The headline numbers of the dashboard."""

    by_status: dict[str, int]
    total: int
    seats_taken: int
    capacity: int | None
    countries: int

    @property
    def seats_left(self) -> int | None:
        """Free seats, or None when the event has no capacity."""
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)


def event_summary(event) -> EventSummary:
    """Totals by status, seats and countries of one event."""
    by_status = totals_by_status(event.id)
    return EventSummary(
        by_status=by_status,
        total=sum(by_status.values()),
        seats_taken=seats_taken(event.id),
        capacity=event.capacity,
        countries=countries_represented(event.id),
    )
