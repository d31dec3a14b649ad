"""The invitee's pages, opened by their personal link: register, decline, accept later."""

from flask import Blueprint

bp = Blueprint("invitation", __name__)
