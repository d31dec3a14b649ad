"""Messages to delegates: the event reminders in the event's settings."""

from flask import Blueprint

bp = Blueprint("event_reminders", __name__, url_prefix="/organizer")
