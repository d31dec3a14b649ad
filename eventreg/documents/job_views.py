"""The organizers' pages of document jobs: progress while a worker renders, then the download."""

from flask import Blueprint

bp = Blueprint("documents", __name__, url_prefix="/organizer")
