"""The tables: events, registrations, organizer accounts (with their rights and API tokens), the audit log and the
mail outbox; one module each, everything importable from here."""

from .accounts import ROLE_LABELS, ROLE_RIGHTS, ApiToken, Organizer, Right, event_organizer
from .audit import AuditEntry
from .common import (
    CHECKIN_ALPHABET,
    CHECKIN_CODE_LENGTH,
    KEY_EXPANSION,
    UTCDateTime,
    casefold_key,
    new_checkin_code,
    new_token,
    person_search_key,
    search_key,
    token_digest,
    utcnow,
)
from .credentials import CredentialKind, ReplacedCredential
from .events import Event
from .guests import (
    ADMISSION_LABELS,
    DEFAULT_CATEGORIES,
    INVITATION_STATUS_LABELS,
    UNANSWERED,
    Admission,
    CategorySetter,
    Delegation,
    EventCategory,
    Invitation,
    InvitationImport,
    InvitationStatus,
    ScheduledMail,
    ScheduledMailRecipient,
)
from .outbox import OutboxAttempt, OutboxMessage, OutboxState
from .registration import (
    ACTIVE,
    ACTIVE_SQL,
    CATEGORY_LABELS,
    HONORIFIC_LABELS,
    NAME_KEY_WIDTH,
    SEAT_HOLDING,
    STATUS_LABELS,
    Category,
    Registration,
    Status,
    counted,
    held_seats,
    move_event_counters,
)

# Every column whose values are sealed under the data keyring (eventreg/data_keys.py): rotate-data-keys re-encrypts
# them all.
SEALED_COLUMNS = (Registration.__table__.c.token_sealed, Invitation.__table__.c.token_sealed)

__all__ = [
    "ACTIVE",
    "ACTIVE_SQL",
    "ADMISSION_LABELS",
    "CATEGORY_LABELS",
    "CHECKIN_ALPHABET",
    "CHECKIN_CODE_LENGTH",
    "DEFAULT_CATEGORIES",
    "HONORIFIC_LABELS",
    "INVITATION_STATUS_LABELS",
    "KEY_EXPANSION",
    "NAME_KEY_WIDTH",
    "ROLE_LABELS",
    "ROLE_RIGHTS",
    "SEALED_COLUMNS",
    "SEAT_HOLDING",
    "STATUS_LABELS",
    "UNANSWERED",
    "Admission",
    "ApiToken",
    "AuditEntry",
    "Category",
    "CategorySetter",
    "CredentialKind",
    "Delegation",
    "Event",
    "EventCategory",
    "Invitation",
    "InvitationImport",
    "InvitationStatus",
    "Organizer",
    "OutboxAttempt",
    "OutboxMessage",
    "OutboxState",
    "Registration",
    "ReplacedCredential",
    "Right",
    "ScheduledMail",
    "ScheduledMailRecipient",
    "Status",
    "UTCDateTime",
    "casefold_key",
    "counted",
    "event_organizer",
    "held_seats",
    "move_event_counters",
    "new_checkin_code",
    "new_token",
    "person_search_key",
    "search_key",
    "token_digest",
    "utcnow",
]
