"""The public side of visa letters: the verification page consulates open (/verify/<number>/<code>) and the
delegate's download from their private page."""

from flask import Blueprint

bp = Blueprint("visa_letters", __name__)
