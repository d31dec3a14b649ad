"""Administration: organizer accounts, their roles and events, and the audit log."""

from .views import bp

__all__ = ["bp"]
