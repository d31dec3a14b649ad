"""Organizer pages: the events, and one event's dashboard with its registrations."""

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from .. import stats
from ..extensions import db
from ..models import Event, Registration

bp = Blueprint("organizer", __name__, url_prefix="/organizer")


@bp.get("/")
def index():
    """Every event, newest first, with its headline numbers."""
    events = db.session.scalars(select(Event).order_by(Event.starts_at.desc())).all()
    summaries = {event.id: stats.event_summary(event) for event in events}
    return render_template("organizer/index.html", events=events, summaries=summaries)


@bp.get("/events/<slug:slug>")
def dashboard(slug: str):
    """One event: totals, countries, categories, institutions, and the registrations, newest first."""
    event = db.first_or_404(select(Event).where(Event.slug == slug))
    page = db.paginate(
        select(Registration)
        .where(Registration.event_id == event.id)
        .order_by(Registration.created_at.desc(), Registration.id.desc()),
        per_page=current_app.config["REGISTRATIONS_PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "organizer/dashboard.html",
        event=event,
        summary=stats.event_summary(event),
        countries=stats.delegates_per_country(event.id),
        categories=stats.delegates_per_category(event.id),
        institutions=stats.top_institutions(event.id),
        page=page,
        page_args={key: value for key, value in request.args.items() if key != "page"},
    )
