"""The public side: events, the registration form, and a delegate's private page."""

from .views import bp

__all__ = ["bp"]
