"""Organizer pages: the events, and one event's dashboard."""

from flask import Blueprint, render_template
from flask_login import current_user

from ..auth.access import managed_event, requires
from ..models import Right
from .services import event_dashboard, events_with_summaries

bp = Blueprint("organizer", __name__, url_prefix="/organizer")


@bp.get("/")
@requires(Right.MANAGE_EVENTS)
def index():
    """Every event with its headline numbers."""
    return render_template("organizer/index.html", events=events_with_summaries(current_user))


@bp.get("/events/<slug:slug>")
@requires(Right.MANAGE_EVENTS)
def dashboard(slug: str):
    """One event: totals, countries on a map, continents, categories, institutions, arrivals over time, the newest."""
    return render_template("organizer/dashboard.html", dashboard=event_dashboard(managed_event(slug)))
