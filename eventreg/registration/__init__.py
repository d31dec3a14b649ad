"""The public side: events, the registration form, and what a delegate does through their private link."""

from . import (
    self_service_views,  # noqa: F401 - adds the private pages to bp
    ticket_views,  # noqa: F401 - adds the ticket, its QR code and calendar entry to bp
)
from .views import bp

__all__ = ["bp"]
