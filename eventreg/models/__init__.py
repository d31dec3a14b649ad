"""The tables: events and registrations, organizer accounts (with their rights, API tokens and audit log),
and the mail outbox; one module each, everything importable from here."""

from .accounts import ROLE_LABELS, ROLE_RIGHTS, ApiToken, AuditEntry, Organizer, Right, event_organizer
from .common import KEY_EXPANSION, UTCDateTime, casefold_key, new_token, person_search_key, search_key, utcnow
from .outbox import OutboxMessage, OutboxState
from .registration import (
    ACTIVE,
    ACTIVE_SQL,
    CATEGORY_LABELS,
    NAME_KEY_WIDTH,
    SEAT_HOLDING,
    STATUS_LABELS,
    Category,
    Event,
    Registration,
    Status,
    counted,
    held_seats,
    move_event_counters,
)

__all__ = [
    "ACTIVE",
    "ACTIVE_SQL",
    "CATEGORY_LABELS",
    "KEY_EXPANSION",
    "NAME_KEY_WIDTH",
    "ROLE_LABELS",
    "ROLE_RIGHTS",
    "SEAT_HOLDING",
    "STATUS_LABELS",
    "ApiToken",
    "AuditEntry",
    "Category",
    "Event",
    "Organizer",
    "OutboxMessage",
    "OutboxState",
    "Registration",
    "Right",
    "Status",
    "UTCDateTime",
    "casefold_key",
    "counted",
    "event_organizer",
    "held_seats",
    "move_event_counters",
    "new_token",
    "person_search_key",
    "search_key",
    "utcnow",
]
