"""The organizer side: events and their dashboards."""

from .views import bp

__all__ = ["bp"]
