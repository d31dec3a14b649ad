"""Organizer accounts: login, logout, and the rule that every page needs a login unless marked public."""

from .access import init_app
from .views import bp

__all__ = ["bp", "init_app"]
