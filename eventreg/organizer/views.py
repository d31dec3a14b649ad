"""Organizer pages: the events, and one event's dashboard."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from ..auth.access import managed_event, requires
from ..models import Admission, Right
from ..stats.invitations import invitation_counts, invitation_totals
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
    """One event: totals, invitations, countries on a map, continents, categories, institutions, arrivals over
    time, the newest."""
    event = managed_event(slug)
    totals = invitation_totals(invitation_counts(event.id))
    # An open event that never invited anyone has no guest list to count.
    shown = totals["invited"] > 0 or event.admission == Admission.INVITATION
    return render_template(
        "organizer/dashboard.html",
        dashboard=event_dashboard(event),
        invitations=totals if shown else None,
        # The invitation list's page is another package's: link to it once it is there.
        invitation_list="invitations.list_invitations" in current_app.view_functions,
    )
