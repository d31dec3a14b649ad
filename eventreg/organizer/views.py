"""Organizer pages: the events, and one event's dashboard with its registrations."""

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from ..auth.access import requires
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
    """One event: totals, countries, categories, institutions, and the registrations, newest first."""
    page = request.args.get("page", default=1, type=int)
    dashboard = event_dashboard(slug, page=page, per_page=current_app.config["REGISTRATIONS_PER_PAGE"])
    return render_template("organizer/dashboard.html", dashboard=dashboard)
