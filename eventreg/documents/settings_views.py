"""An event's document settings: the letterhead (host organisation, address, logo, signatory and signature), the
visa letter's template(s), and the custom label sheet for badges."""

from flask import Blueprint

bp = Blueprint("document_settings", __name__, url_prefix="/organizer")
