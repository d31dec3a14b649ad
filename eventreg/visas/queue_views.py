"""The organizers' visa queue: requests pending, issued and refused; issue one or many, refuse with a reason,
download a letter."""

from flask import Blueprint

bp = Blueprint("visas", __name__, url_prefix="/organizer")
