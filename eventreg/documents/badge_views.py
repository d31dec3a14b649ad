"""Name badges: a run for the attendee list's filter or selection (a document job), and one delegate's badge at
the check-in desk (rendered in the request)."""

from flask import Blueprint

bp = Blueprint("badges", __name__, url_prefix="/organizer")
