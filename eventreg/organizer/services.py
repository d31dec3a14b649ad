"""What the organizer pages read: events, their numbers and their registrations."""

from dataclasses import dataclass

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from .. import stats
from ..auth.access import managed_event
from ..extensions import db
from ..models import Event, Organizer, Registration, Right

MAX_PAGE = 1_000_000  # far beyond any event; keeps OFFSET within a 64-bit integer


@dataclass(frozen=True)
class Dashboard:
    """Everything one event's dashboard shows."""

    event: Event
    summary: stats.EventSummary
    countries: list[stats.CountryCount]
    categories: dict[str, int]
    institutions: list[tuple[str, int]]
    registrations: Pagination


def events_with_summaries(organizer: Organizer) -> list[tuple[Event, stats.EventSummary]]:
    """The events the organizer runs (every event, for an admin), latest start first, with their headline numbers."""
    query = select(Event).order_by(Event.starts_at.desc())
    if not organizer.can(Right.MANAGE_ALL_EVENTS):
        query = query.where(Event.organizers.any(Organizer.id == organizer.id))
    events = db.session.scalars(query).all()
    return [(event, stats.event_summary(event)) for event in events]


def event_dashboard(slug: str, page: int, per_page: int) -> Dashboard:
    """The dashboard of the event at `slug`, with one page of its registrations, newest first.

    404 when there is no such event or page (a page number too large for the database included);
    403 when the acting organizer does not run the event.
    """
    event = managed_event(slug)
    if page > MAX_PAGE:
        abort(404)
    registrations = db.paginate(
        select(Registration)
        .where(Registration.event_id == event.id)
        .order_by(Registration.created_at.desc(), Registration.id.desc()),
        page=max(page, 1),
        per_page=per_page,
        error_out=False,
    )
    if registrations.page > max(registrations.pages, 1):
        abort(404)
    return Dashboard(
        event=event,
        summary=stats.event_summary(event),
        countries=stats.delegates_per_country(event.id),
        categories=stats.delegates_per_category(event.id),
        institutions=stats.top_institutions(event.id),
        registrations=registrations,
    )
