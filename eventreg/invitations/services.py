"""The organizers' invitations: invite one person, correct an invitation, queue the invitation mails; and the
lookups an import shares (a country, a category or a language written in any offered language)."""

import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..geo.countries import countries
from ..geo.protocol import Protocol, current_protocol
from ..languages.negotiation import best_offered, parse_range
from ..mail.queue import queue_invitation_mail
from ..models import CATEGORY_LABELS, Delegation, Event, EventCategory, Invitation, Organizer, OutboxMessage
from ..models.common import KEY_EXPANSION, casefold_key
from ..models.guests import UNANSWERED
from ..validation_messages import email_problem

INVITATION_MAIL = "invitation"  # the mail kind h3's invitee side registers (add_kind)
# The person fields an invitation keeps, as an import and the audit log see them.
PERSON_FIELDS = ("honorific", "given_name", "family_name", "native_name", "institution", "position")
AUDITED_FIELDS = (
    "email",
    *PERSON_FIELDS,
    "country",
    "category",
    "language",
    "delegation_id",
    "is_focal_point",
    "skip_approval",
)


@dataclass(frozen=True)
class InviteeDetails:
    """What the organizers know of one invitee, as the form or an import's row gives it (country, category and
    language already resolved to codes; the delegation by name or id, None for none)."""

    email: str
    honorific: str = ""
    given_name: str = ""
    family_name: str = ""
    native_name: str = ""
    institution: str = ""
    position: str = ""
    country: str = ""
    category: str = ""
    language: str = ""
    delegation: str | int | None = None
    is_focal_point: bool = False
    skip_approval: bool = False


class InvitationRefused(Exception):
    """An invitation the rules refuse; `field` names the form field the message belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class AlreadyInvited(InvitationRefused):
    """The event already has an invitation for this address; `invitation_id` is that one (to update instead)."""

    def __init__(self, invitation_id: int):
        super().__init__("email", _("This address is already invited to this event; open its invitation to change it."))
        self.invitation_id = invitation_id


def address_problem(email: str) -> tuple[str, str | None]:
    """The address normalised as the registration form does (EmailAddress), and why it is refused, or None."""
    email = unicodedata.normalize("NFKC", email.strip())
    if not email:
        return email, _("An email address is required.")
    try:
        result = validate_email(
            email, check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"], allow_smtputf8=False
        )
    except EmailNotValidError as error:
        return email, email_problem(error)
    return result.normalized, None


@lru_cache(maxsize=8)
def _country_lookup(_protocol: Protocol, languages: tuple[str, ...]) -> dict[str, str]:
    """Casefolded code or name in any offered language → ISO code, built once per host protocol and languages."""
    lookup = {}
    for language in ("en", *languages):
        for code, name in countries(language).names.items():
            lookup.setdefault(name.casefold(), code)
    for code in countries("en").offered:
        lookup[code.casefold()] = code
    return lookup


def country_code(text: str) -> str | None:
    """The code of a country written as its ISO alpha-2 code or its name in any offered language; "" for an empty
    cell, None when unknown."""
    if not text.strip():
        return ""
    return _country_lookup(current_protocol(), tuple(current_app.config["LANGUAGES"])).get(text.strip().casefold())


def category_lookup(event_id: int) -> dict[str, str]:
    """Casefolded code or label (the organizers' in any language, the catalog's in any offered language) of the
    event's categories → code."""
    categories = db.session.scalars(select(EventCategory).where(EventCategory.event_id == event_id)).all()
    lookup = {}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            for category in categories:
                if category.code in CATEGORY_LABELS:
                    lookup.setdefault(str(CATEGORY_LABELS[category.code]).casefold(), category.code)
    for category in categories:
        for label in (category.labels or {}).values():
            lookup.setdefault(str(label).casefold(), category.code)
        lookup[category.code.casefold()] = category.code
    return lookup


def language_code(text: str) -> str | None:
    """The offered language that a code such as "fr", "zh", "zh-CN" or "ar-EG" names; "" for an empty cell, None
    when no offered language serves it."""
    text = text.strip()
    if not text:
        return ""
    offered = tuple(current_app.config["LANGUAGES"])
    if text in offered:
        return text
    wanted = parse_range(text.replace("_", "-"))
    return best_offered(wanted, offered) if wanted is not None else None


def delegation_for(event_id: int, name_or_id: str | int | None) -> Delegation | None:
    """The event's delegation by id or by name; a name not seen before creates it (quota 0 until organizers set
    it). None for none."""
    if name_or_id is None or name_or_id == "":
        return None
    if isinstance(name_or_id, int):
        delegation = db.session.get(Delegation, name_or_id)
        if delegation is None or delegation.event_id != event_id:
            raise InvitationRefused("delegation", _("There is no such delegation in this event."))
        return delegation
    key = casefold_key(name_or_id, 200 * KEY_EXPANSION)
    query = select(Delegation).where(Delegation.event_id == event_id, Delegation.name_key == key)
    delegation = db.session.scalars(query).first()
    if delegation is None:
        delegation = Delegation(event_id=event_id, name=name_or_id.strip(), quota=0)
        db.session.add(delegation)
        db.session.flush()
    return delegation


def _values(event_id: int, details: InviteeDetails) -> dict:
    """The invitation's columns from `details`, checked."""
    email, problem = address_problem(details.email)
    if problem:
        raise InvitationRefused("email", problem)
    if details.category and details.category not in category_lookup(event_id).values():
        raise InvitationRefused("category", _("This event has no such category."))
    values = asdict(details)
    delegation = delegation_for(event_id, values.pop("delegation"))
    values.update(email=email, delegation_id=delegation.id if delegation else None)
    return values


def invite(event_id: int, details: InviteeDetails, organizer: Organizer | None = None) -> Invitation:
    """Invite one person (not sent yet); refuses an address the event already invited (AlreadyInvited)."""
    event = db.session.get(Event, event_id)
    values = _values(event_id, details)
    existing = db.session.scalar(
        select(Invitation.id).where(
            Invitation.event_id == event_id, Invitation.email_key == casefold_key(values["email"], 254 * KEY_EXPANSION)
        )
    )
    if existing is not None:
        raise AlreadyInvited(existing)
    invitation = Invitation(event_id=event_id, **values)
    db.session.add(invitation)
    try:
        db.session.flush()
    except IntegrityError:  # the same address invited a moment ago, by another request
        db.session.rollback()
        return invite(event_id, details, organizer)
    audit.record("invitation.created", event=event, after=_audited(invitation), organizer=organizer)
    db.session.commit()
    return invitation


def update_invitation(
    event_id: int, invitation_id: int, details: InviteeDetails, organizer: Organizer | None = None
) -> bool:
    """Correct what an invitation says; True when something changed."""
    invitation = invitation_in(event_id, invitation_id)
    values = _values(event_id, details)
    clash = db.session.scalar(
        select(Invitation.id).where(
            Invitation.event_id == event_id,
            Invitation.email_key == casefold_key(values["email"], 254 * KEY_EXPANSION),
            Invitation.id != invitation_id,
        )
    )
    if clash is not None:
        raise AlreadyInvited(clash)
    before = _audited(invitation)
    for name, value in values.items():
        setattr(invitation, name, value)
    old, new = audit.changes(before, _audited(invitation))
    if not new:
        db.session.rollback()
        return False
    event = db.session.get(Event, event_id)
    audit.record("invitation.updated", event=event, before=old, after=new, organizer=organizer)
    db.session.commit()
    return True


class NoSuchInvitation(LookupError):
    """No invitation with this id in this event."""


def invitation_in(event_id: int, invitation_id: int) -> Invitation:
    """The event's invitation with this id (NoSuchInvitation when it has none)."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.event_id != event_id:
        raise NoSuchInvitation(invitation_id)
    return invitation


def _audited(invitation: Invitation) -> dict:
    return {"invitation_id": invitation.id, **audit.snapshot(invitation, AUDITED_FIELDS)}


def queued_invitation_ids(invitation_ids: Iterable[int]) -> set[int]:
    """Which of these invitations have an invitation mail in the outbox (queued, sent or given up on)."""
    ids = list(invitation_ids)
    if not ids:
        return set()
    query = select(OutboxMessage.invitation_id).where(
        OutboxMessage.invitation_id.in_(ids), OutboxMessage.kind == INVITATION_MAIL
    )
    return set(db.session.scalars(query))


def send_invitations(
    event_id: int,
    invitation_ids: Iterable[int] | None = None,
    organizer: Organizer | None = None,
    *,
    unsent_only: bool = False,
) -> int:
    """Queue the invitation mail of these invitations (every one of the event's when None), in one transaction;
    `unsent_only` skips those already queued once. Statuses change when the worker delivers (or fails). Returns
    how many were queued. Invitations already answered (registered, declined) are left alone."""
    query = select(Invitation).where(
        Invitation.event_id == event_id,
        Invitation.status.in_(UNANSWERED),
    )
    if invitation_ids is not None:
        query = query.where(Invitation.id.in_(list(invitation_ids)))
    if unsent_only:
        already = exists().where(OutboxMessage.invitation_id == Invitation.id, OutboxMessage.kind == INVITATION_MAIL)
        query = query.where(~already)
    invitations = db.session.scalars(query.order_by(Invitation.id)).all()
    for invitation in invitations:
        queue_invitation_mail(INVITATION_MAIL, invitation)
    if invitations:
        audit.record(
            "invitation.sent",
            event=db.session.get(Event, event_id),
            after={"invitations": len(invitations)},
            organizer=organizer,
        )
    db.session.commit()
    return len(invitations)
