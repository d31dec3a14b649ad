"""Every total and breakdown of an event: SQL aggregates (aggregates.py), folded into one cached report (report.py).

The dashboard, the JSON API and the public counter all read `event_report` / `public_counter`; capacity
decisions read the event row's `seats_taken` counter, which `seats_taken()` recounts by capacity's own definition.
The numbers are cached per committed state of the registrations (cache.py).
"""

from .aggregates import (
    CountryCount,
    countries_represented,
    delegates_per_category,
    delegates_per_country,
    seats_taken,
    top_institutions,
    totals_by_status,
    waitlist_position,
    waitlist_positions,
)
from .report import EventNumbers, EventSummary, event_numbers, event_report, event_summary, public_counter

__all__ = [
    "CountryCount",
    "EventNumbers",
    "EventSummary",
    "countries_represented",
    "delegates_per_category",
    "delegates_per_country",
    "event_numbers",
    "event_report",
    "event_summary",
    "public_counter",
    "seats_taken",
    "top_institutions",
    "totals_by_status",
    "waitlist_position",
    "waitlist_positions",
]
