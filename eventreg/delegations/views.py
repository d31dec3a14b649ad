"""The organizers' delegation pages."""

from flask import Blueprint

bp = Blueprint("delegations", __name__, url_prefix="/organizer")
