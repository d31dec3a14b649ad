"""The attendee list: search, filters, one registration's details and history, and the organizer's actions."""

from .views import bp

__all__ = ["bp"]
