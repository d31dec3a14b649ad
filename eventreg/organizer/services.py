"""What the organizer pages read: events, their numbers, charts of them, and the newest registrations."""

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from .. import stats
from ..checkin.counts import CheckInCounts, checkin_counts
from ..events.services import events_run_by
from ..extensions import db
from ..models import Event, Organizer, Registration
from . import charts

NEWEST = 10  # registrations shown on the dashboard; the attendee list has them all


@dataclass(frozen=True)
class Dashboard:
    """Everything one event's dashboard shows: the report (see stats.event_report), its charts, the newest arrivals."""

    event: Event
    report: dict
    charts: dict[str, Markup]
    newest: list[Registration]
    checkin: CheckInCounts  # checked in against expected, refreshed live by static/js/checkin-counts.js

    @property
    def subregions_represented(self) -> int:
        """How many M49 sub-regions the seat-holding delegates come from."""
        return sum(len(continent["subregions"]) for continent in self.report["by_continent"])


def events_with_summaries(organizer: Organizer) -> list[tuple[Event, stats.EventSummary]]:
    """The events the organizer runs (every event, for an admin), latest start first, with their headline numbers."""
    return [(event, stats.event_summary(event)) for event in events_run_by(organizer)]


def newest_registrations(event: Event, limit: int = NEWEST) -> list[Registration]:
    """The event's latest registrations, every status, newest first."""
    query = (
        select(Registration)
        .where(Registration.event_id == event.id)
        .order_by(Registration.created_at.desc(), Registration.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def dashboard_charts(report: dict) -> dict[str, Markup]:
    """The SVG charts of a report, each labelled in the request's language."""
    return {
        "map": charts.world_map("chart-map", report["by_country"], _("World map of delegates per country or region")),
        "daily": charts.daily_chart("chart-daily", report["daily"], _("Registrations received per day")),
        "cumulative": charts.cumulative_chart(
            "chart-cumulative", report["daily"], _("Registrations received, running total")
        ),
        "continents": charts.bar_chart(
            "chart-continents",
            [(row["name"], row["count"]) for row in report["by_continent"]],
            _("Delegates per continent"),
        ),
        "categories": charts.bar_chart(
            "chart-categories",
            [(row["name"], row["count"]) for row in report["by_category"]],
            _("Delegates per category"),
        ),
        "institutions": charts.bar_chart(
            "chart-institutions",
            [(row["institution"], row["count"]) for row in report["top_institutions"]],
            _("Institutions sending the most delegates"),
        ),
    }


def event_dashboard(event: Event) -> Dashboard:
    """Everything the event's dashboard shows (the caller has checked that the organizer runs the event)."""
    report = stats.event_report(event)
    return Dashboard(
        event=event,
        report=report,
        charts=dashboard_charts(report),
        newest=newest_registrations(event),
        checkin=checkin_counts(event),
    )
