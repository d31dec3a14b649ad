"""Checked in against expected, in all and per country: what the desk and the dashboard show, live.

The numbers count registrations (delegates), not people: one check-in admits a delegate together with their
accompanying persons, and the desk shows how many those are on the delegate's card. Expected are the confirmed
registrations; pending, waitlisted, cancelled and rejected ones are refused at the desk, so they are not expected.

The counts come from the dashboard's own running tallies (stats/tallies.py) and are kept in the stats
cache under the event's stats_version, which every check-in and undo moves on (the flush hook), through the one
stats.cache.cached_numbers() and so with its guards.
"""

from dataclasses import dataclass

from ..geo.countries import countries
from ..geo.flags import flag_url
from ..models import Event, Status
from ..stats import tallies
from ..stats.cache import cached_numbers


@dataclass(frozen=True)
class CountryCheckIns:
    """Confirmed delegates of one country: how many are expected and how many are in."""

    code: str
    checked_in: int
    expected: int


@dataclass(frozen=True)
class CheckInCounts:
    """Confirmed delegates of one event checked in, expected, and both per country (codes only: cacheable)."""

    checked_in: int
    expected: int
    accompanying_expected: int
    by_country: tuple[CountryCheckIns, ...]

    def as_json(self) -> dict:
        """JSON-ready, with the countries' names in the request's language, most expected first."""
        names = countries()
        last = len(names.rank)
        rows = [
            {
                "code": row.code,
                "name": names.name(row.code),
                "flag": flag_url(row.code),
                "checked_in": row.checked_in,
                "expected": row.expected,
            }
            for row in self.by_country
        ]
        rows.sort(key=lambda row: (-row["expected"], names.rank.get(row["code"], last), row["code"]))
        return {
            "checked_in": self.checked_in,
            "expected": self.expected,
            "accompanying_expected": self.accompanying_expected,
            "by_country": rows,
        }


def _compute(event_id: int) -> CheckInCounts:
    rows = tallies.counts_by_country_and_status(event_id, Status.CONFIRMED)
    return CheckInCounts(
        checked_in=sum(row.checked_in for row in rows),
        expected=sum(row.count for row in rows),
        accompanying_expected=sum(row.accompanying for row in rows),
        by_country=tuple(
            CountryCheckIns(row.country, row.checked_in, row.count) for row in sorted(rows, key=lambda row: row.country)
        ),
    )


def checkin_counts(event: Event) -> CheckInCounts:
    """The event's check-in numbers for the data this session sees, from the cache when that state was counted."""
    return cached_numbers("checkin", event.id, lambda: _compute(event.id))
