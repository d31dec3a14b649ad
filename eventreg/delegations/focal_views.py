"""The focal point's delegation section, behind their private link, and a member's answers (join, leave)."""

from flask import Blueprint

bp = Blueprint("delegation", __name__)
