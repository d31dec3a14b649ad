"""The guest list: an event's categories, who may register (Admission), delegations and invitations, and an import
of invitations kept between its preview and its confirmation."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, insert
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..data_keys import seal
from ..extensions import db
from .common import KEY_EXPANSION, UTCDateTime, casefold_key, new_token, utcnow
from .events import Event
from .registration import (
    NAME_KEY_WIDTH,
    SEALED_TOKEN_LENGTH,
    PrivateLink,
    Registration,
    _digest_of_inserted_token,
    keep_name_key,
)


class Admission(enum.StrEnum):
    """Who may register for an event."""

    OPEN = "open"  # anyone with the event's address
    INVITATION = "invitation"  # only the holder of a personal invitation link


ADMISSION_LABELS = {
    Admission.OPEN: _l("Open: anyone with the link may register"),
    Admission.INVITATION: _l("By invitation: only invited people may register"),
}


class CategorySetter(enum.StrEnum):
    """Who may put a registration into a category."""

    DELEGATES = "delegates"  # offered on the public form
    ORGANIZERS = "organizers"  # assigned by organizers (or carried by an invitation), never chosen on the form


# The categories every new event starts with (code, colour, who sets it), in this order. Their labels come from the
# catalogs (models.registration.CATEGORY_LABELS) unless the organizers write their own.
DEFAULT_CATEGORIES = (
    ("delegate", "#1f5fa8", CategorySetter.DELEGATES),
    ("observer", "#5a6b7b", CategorySetter.DELEGATES),
    ("speaker", "#b3261e", CategorySetter.ORGANIZERS),
    ("guest", "#7b3fa0", CategorySetter.ORGANIZERS),
    ("press", "#1e7b4f", CategorySetter.ORGANIZERS),
)


class EventCategory(db.Model):
    """One category of an event's participants (Delegate, Speaker, Press…): a stable code that registrations,
    the API and exports carry, a label per language, a colour for badges, a place in the order, and who sets it."""

    __table_args__ = (UniqueConstraint("event_id", "code", name="uq_event_category_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    # Lower-case letters, digits and hyphens; never changes once registrations carry it.
    code: Mapped[str] = mapped_column(String(20))
    # The organizers' own label per language code ({"en": "Keynote speaker", "zh_Hans": "主旨发言人"}); a language
    # without one falls back to the catalog's label of a default code, then to English, then to the code.
    labels: Mapped[dict] = mapped_column(JSON, default=dict)
    colour: Mapped[str] = mapped_column(String(7), default="#1f5fa8")  # "#rrggbb"
    position: Mapped[int] = mapped_column(Integer, default=0)
    set_by: Mapped[str] = mapped_column(String(20), default=CategorySetter.DELEGATES)


class Delegation(db.Model):
    """A named group that one institution sends (e.g. "Russian Academy of Sciences"), led by its focal points, who
    register members up to the quota the organizers set."""

    __table_args__ = (UniqueConstraint("event_id", "name_key", name="uq_delegation_event_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Casefolded: "Russian Academy of Sciences" and "russian academy of sciences" are one delegation (imports).
    name_key: Mapped[str] = mapped_column(String(200 * KEY_EXPANSION))
    country: Mapped[str] = mapped_column(String(2), default="")
    # How many active member registrations the delegation may hold; its focal points are not counted
    # (registration.services.check_quota).
    quota: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @validates("name")
    def _keep_name_key(self, _name: str, value: str) -> str:
        """Every change of the name updates its comparison key."""
        self.name_key = casefold_key(value, 200 * KEY_EXPANSION)
        return value


class InvitationStatus(enum.StrEnum):
    """Where an invitation stands. OPENED means only that the link was opened: mail scanners open links too."""

    NOT_SENT = "not_sent"
    SENT = "sent"
    OPENED = "opened"
    REGISTERED = "registered"
    DECLINED = "declined"
    FAILED = "failed"  # the invitation mail could not be delivered


INVITATION_STATUS_LABELS = {
    InvitationStatus.NOT_SENT: _l("Not sent"),
    InvitationStatus.SENT: _l("Sent"),
    InvitationStatus.OPENED: _l("Link opened"),
    InvitationStatus.REGISTERED: lazy_pgettext("invitation status", "Registered"),
    InvitationStatus.DECLINED: _l("Declined"),
    InvitationStatus.FAILED: _l("Mail failed"),
}
# Invitations still waiting for an answer: what reminders go to.
UNANSWERED = (InvitationStatus.NOT_SENT, InvitationStatus.SENT, InvitationStatus.OPENED, InvitationStatus.FAILED)


def _sealed_new_token() -> str:
    """A new invitation token, sealed under the data keyring."""
    return seal(new_token())


class Invitation(PrivateLink, db.Model):
    """A personal invitation to one event: what the organizers know of the invitee (it pre-fills the form), its
    private link, and where it stands."""

    __table_args__ = (
        # One invitation per address and event: an import updates it rather than adding a second.
        UniqueConstraint("event_id", "email_key", name="uq_invitation_event_email"),
        Index("ix_invitation_event_status", "event_id", "status"),
        Index("ix_invitation_event_name", "event_id", "name_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    # The private link's token, sealed under the data keyring like a registration's (reminders carry the link);
    # looked up by its digest.
    token_sealed: Mapped[str] = mapped_column(String(SEALED_TOKEN_LENGTH), default=_sealed_new_token)
    token_digest: Mapped[str] = mapped_column(String(43), unique=True, default=_digest_of_inserted_token)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254 * KEY_EXPANSION))
    honorific: Mapped[str] = mapped_column(String(10), default="")
    given_name: Mapped[str] = mapped_column(String(100), default="")
    family_name: Mapped[str] = mapped_column(String(100), default="")
    native_name: Mapped[str] = mapped_column(String(200), default="")
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_WIDTH), default="")
    institution: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    # An assigned category's code ("" lets the invitee choose among the categories delegates may choose).
    category: Mapped[str] = mapped_column(String(20), default="")
    # The invitee's language for the invitation mail and the form ("" = the event's default language).
    language: Mapped[str] = mapped_column(String(10), default="")
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegation.id"), index=True)
    # The invitee leads their delegation: their registration becomes a focal point.
    is_focal_point: Mapped[bool] = mapped_column(Boolean, default=False)
    # The registration through this invitation is confirmed without the event's approval step.
    skip_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=InvitationStatus.NOT_SENT)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event = relationship("Event", lazy="raise_on_sql")
    delegation: Mapped[Delegation | None] = relationship(lazy="raise_on_sql")
    registration: Mapped[Registration | None] = relationship(lazy="raise_on_sql")

    @validates("email")
    def _keep_email_key(self, _name: str, value: str) -> str:
        """Every change of the address updates its comparison key."""
        self.email_key = casefold_key(value, 254 * KEY_EXPANSION)
        return value

    @validates("given_name", "family_name", "native_name")
    def _keep_name_key(self, name: str, value: str) -> str:
        """Every change of a name part updates the search and sort key (as a registration's)."""
        return keep_name_key(self, name, value)


class InvitationImport(db.Model):
    """An uploaded file of invitations between its preview and its confirmation: the parsed rows live here, in the
    database, so any app host can confirm what another one previewed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    # "preview", "applying", "applied" or "cancelled".
    state: Mapped[str] = mapped_column(String(20), default="preview")
    # Every parsed row with its outcome ("add", "update" or "refused") and, when refused, its reason.
    rows: Mapped[list] = mapped_column(JSON, default=list)
    # {"add": n, "update": n, "refused": n}
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    # How many rows a confirmation has written so far (the progress shown while it runs).
    applied: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScheduledMail(db.Model):
    """A mail to a group, due at a time: the worker sends it once to each recipient that matches its audience then
    (mail/schedule.py). Kinds: invitation reminders now, event reminders later."""

    __table_args__ = (Index("ix_scheduled_mail_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Set by the organizers relative to a moment of the event ("registration_closes", "starts"), so the due time
    # follows when that moment moves; None for a one-off at a fixed time (a reminder sent now).
    anchor: Mapped[str] = mapped_column(String(30), default="")
    days_before: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "pending", "sending" (claimed by a worker), "done" or "cancelled".
    state: Mapped[str] = mapped_column(String(20), default="pending")
    # Which recipients it goes to (a filter the kind understands), and what it says beyond its template.
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many mails it queued.
    queued: Mapped[int] = mapped_column(Integer, default=0)


class ScheduledMailRecipient(db.Model):
    """That a scheduled mail went to one recipient: the unique key makes it once per recipient, whatever the number
    of workers."""

    __table_args__ = (UniqueConstraint("scheduled_mail_id", "recipient_key", name="uq_scheduled_mail_recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheduled_mail_id: Mapped[int] = mapped_column(ForeignKey("scheduled_mail.id"))
    # "invitation:<id>" or "registration:<id>"
    recipient_key: Mapped[str] = mapped_column(String(40))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Event, "after_insert")
def _add_default_categories(_mapper, connection, target: Event) -> None:
    """Every new event starts with the default categories, in the transaction that inserts it (whatever creates it:
    the settings page, the CLI, the demo, a test)."""
    connection.execute(
        insert(EventCategory.__table__),
        [
            {"event_id": target.id, "code": code, "labels": {}, "colour": colour, "position": position, "set_by": by}
            for position, (code, colour, by) in enumerate(DEFAULT_CATEGORIES)
        ],
    )
