"""The organizers' invitation reminders: sent now to a selection, or scheduled before registration closes."""

from flask import Blueprint

bp = Blueprint("invitation_reminders", __name__, url_prefix="/organizer")
