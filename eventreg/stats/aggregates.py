"""The SQL aggregates behind every number: one GROUP BY each, over indexed columns, never a loop over rows.

Breakdowns (countries, categories, institutions) count registrations that hold a seat:
confirmed ones and those pending approval. Totals by status count everything.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, cast, func, select

from ..extensions import db
from ..geo.countries import countries
from ..geo.flags import flag_url
from ..models import SEAT_HOLDING, Registration, Status
from ..registration.capacity import seats_held_query

# Arrival times are grouped in quarter hours: every timezone in use today is a whole number of them from UTC
# (India +5:30, Nepal +5:45), so each slot falls on exactly one local day.


@dataclass(frozen=True)
class CountryCount:
    """Delegates from one country or region."""

    code: str
    name: str
    flag: str | None  # the address of its flag picture, None when none is shown
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
    """Seats held, counted from the registrations: each seat-holding delegate plus their accompanying persons.

    Capacity is decided from the event row's `seats_taken` counter instead (no count under the lock); this
    recount, capacity's own definition of the seats held, is what that counter must always equal.
    """
    return int(db.session.scalar(seats_held_query(Registration.event_id == event_id)))


def waitlist_position(registration: Registration) -> int | None:
    """A waitlisted registration's place on its event's waiting list (1 is next), or None when not waitlisted.

    The list is in order of registration: the place is how many waitlisted registrations are as old or older, so
    the newest one's place is the event's `waitlisted` counter. An erased registration keeps its place, as it keeps
    counting in every total (it is passed over when seats free up, like a group too large for them:
    capacity.promote_waitlisted), so the places behind it are the ones that counter gives.
    """
    if registration.status != Status.WAITLISTED:
        return None
    query = select(func.count()).where(
        Registration.event_id == registration.event_id,
        Registration.status == Status.WAITLISTED,
        Registration.id <= registration.id,
    )
    return int(db.session.scalar(query))


def waitlist_positions(event_id: int, registration_ids) -> dict[int, int]:
    """The waiting-list places of those of `registration_ids` that are waitlisted (one query for a page of them),
    counted as waitlist_position() counts them."""
    ids = list(registration_ids)
    if not ids:
        return {}
    ranked = (
        select(Registration.id, func.row_number().over(order_by=Registration.id).label("place"))
        .where(Registration.event_id == event_id, Registration.status == Status.WAITLISTED)
        .subquery()
    )
    return dict(db.session.execute(select(ranked.c.id, ranked.c.place).where(ranked.c.id.in_(ids))).all())


def countries_represented(event_id: int) -> int:
    """How many countries and regions the seat-holding delegates come from."""
    query = select(func.count(func.distinct(Registration.country))).where(*_holding(event_id))
    return int(db.session.scalar(query))


def delegates_per_country(event_id: int) -> list[CountryCount]:
    """Seat-holding delegates per country, most first (ties by name in the reader's order), with each one's share."""
    query = select(Registration.country, func.count()).where(*_holding(event_id)).group_by(Registration.country)
    rows = db.session.execute(query).all()
    total = sum(count for _, count in rows)
    names = countries()
    last = len(names.rank)
    result = [
        CountryCount(code, names.name(code), flag_url(code), count, count / total if total else 0.0)
        for code, count in rows
    ]
    result.sort(key=lambda row: (-row.count, names.rank.get(row.code, last), row.code))
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
    # Counting by key alone is answered from the index; only the winners' rows are read for a name to show.
    counted = (
        select(Registration.institution_key, func.count())
        .where(*_holding(event_id), Registration.institution_key != "")  # "": erased, no institution to name
        .group_by(Registration.institution_key)
        .order_by(func.count().desc(), Registration.institution_key)
        .limit(limit)
    )
    top = db.session.execute(counted).all()
    if not top:
        return []
    named = (
        select(Registration.institution_key, func.min(Registration.institution))
        .where(*_holding(event_id), Registration.institution_key.in_([key for key, _ in top]))
        .group_by(Registration.institution_key)
    )
    names = dict(db.session.execute(named).all())
    return [(names[key], count) for key, count in top]


@dataclass(frozen=True)
class CountryStatusCount:
    """Registrations of one country in one status, with the sums the dashboard shows beside the counts."""

    country: str
    status: str
    count: int
    accompanying: int
    visa_letters: int
    checked_in: int


def counts_by_country_and_status(event_id: int) -> list[CountryStatusCount]:
    """Every (country, status) pair present, with counts and sums: totals by status, per country and the extras
    in one pass over the covering index ix_registration_event_country (no table rows are read)."""
    query = (
        select(
            Registration.country,
            Registration.status,
            func.count(),
            func.coalesce(func.sum(Registration.accompanying), 0),
            func.coalesce(func.sum(case((Registration.visa_letter, 1), else_=0)), 0),
            func.count(Registration.checked_in_at),
        )
        .where(Registration.event_id == event_id)
        .group_by(Registration.country, Registration.status)
    )
    return [
        CountryStatusCount(country, status, count, int(accompanying), int(visas), int(checked_in))
        for country, status, count, accompanying, visas, checked_in in db.session.execute(query).all()
    ]


@dataclass(frozen=True)
class Extras:
    """Sums over the seat-holding registrations."""

    accompanying: int
    visa_letters: int
    checked_in: int


def whole_hour_zone(zone: ZoneInfo, around: datetime) -> bool:
    """True when the zone's UTC offset is a whole number of hours all year around `around` (most zones are;
    India, Nepal, parts of Australia and others are not)."""
    moments = (around + timedelta(days=30 * month) for month in range(-12, 2))
    return all(moment.astimezone(zone).utcoffset().total_seconds() % 3600 == 0 for moment in moments)


def arrivals_per_slot(event_id: int, slot_seconds: int) -> list[tuple[int, int]]:
    """(slot, registrations received in it) for every status, oldest first; a slot is an hour (3600) or a quarter
    hour (900) counted from the Unix epoch in UTC. SQLite cannot convert timezones, so the event's local days are
    made from these slots in Python; every UTC offset in use is a multiple of a quarter hour."""
    if db.session.get_bind().dialect.name == "postgresql":
        slot = cast(func.floor(func.extract("epoch", Registration.created_at) / slot_seconds), BigInteger)
    elif slot_seconds == 3600:
        # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff': the first 13 characters name the hour, read from the index
        # ix_registration_event_created alone, far faster than strftime() on every row.
        slot = func.substr(Registration.created_at, 1, 13)
    else:
        # `//`: integer division in SQL (`/` would divide as floats and leave one group per registration).
        slot = cast(func.strftime("%s", Registration.created_at), Integer) // slot_seconds
    labelled = slot.label("slot")
    query = select(labelled, func.count()).where(Registration.event_id == event_id).group_by(labelled)
    rows = db.session.execute(query).all()
    if rows and isinstance(rows[0][0], str):
        rows = [(_hour_number(hour), count) for hour, count in rows]
    return sorted((int(number), count) for number, count in rows)


def _hour_number(hour: str) -> int:
    """'2027-03-01 08' (UTC) → hours since the Unix epoch."""
    return int(datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC).timestamp()) // 3600
