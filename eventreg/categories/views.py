"""The organizers' page of an event's categories."""

from flask import Blueprint

bp = Blueprint("categories", __name__, url_prefix="/organizer")
