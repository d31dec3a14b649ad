"""Messages to delegates: the compose page, preview, test send and confirmation."""

from flask import Blueprint

bp = Blueprint("messages", __name__, url_prefix="/organizer")
