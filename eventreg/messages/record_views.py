"""Messages to delegates: the Messages page, a message's page and the resend of its failed mails."""

from flask import Blueprint

bp = Blueprint("message_records", __name__, url_prefix="/organizer")
