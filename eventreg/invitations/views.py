"""The organizers' invitation pages: the list, one invitation, the import with its preview."""

from flask import Blueprint

bp = Blueprint("invitations", __name__, url_prefix="/organizer")
