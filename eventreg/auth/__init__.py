"""Organizer accounts: login, logout, and the rule that every page needs a login unless marked public."""

from flask import Flask

from . import access, sessions
from .views import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Check each request's session age, then its login and role."""
    sessions.init_app(app)
    access.init_app(app)
