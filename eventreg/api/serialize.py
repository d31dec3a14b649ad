"""Events, registrations and delegations as the API shows them (the shapes documented in openapi.json)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import url_for
from sqlalchemy import select

from ..categories.services import category_labels
from ..extensions import db
from ..geo.countries import country_name
from ..geo.regions import continent_of, subregion_of
from ..messages.reminders import reminder_state
from ..models import CATEGORY_LABELS, Delegation, Event, Invitation, Message, MessageKind, Organizer, Registration
from ..registration.needs import NEEDS_RIGHTS, may_see


def iso(moment: datetime | None) -> str | None:
    """A moment in ISO 8601, UTC, to the second: 2027-03-01T02:00:00Z."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_json(event: Event) -> dict:
    """An event's public facts and settings, with links to its other API resources."""
    return {
        "slug": event.slug,
        "title": event.title,
        "description": event.description,
        "venue": event.venue,
        "city": event.city,
        "timezone": event.timezone,
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "capacity": event.capacity,
        "registration_opens_at": iso(event.registration_opens_at),
        "registration_closes_at": iso(event.registration_closes_at),
        "registration_state": event.registration_state(),
        "requires_approval": event.requires_approval,
        "admission": event.admission,
        "contact_email": event.contact_email,
        "links": {
            "self": url_for("api.event", slug=event.slug, _external=True),
            "stats": url_for("api.event_stats", slug=event.slug, _external=True),
            "registrations": url_for("api.event_registrations", slug=event.slug, _external=True),
            "delegations": url_for("api.event_delegations", slug=event.slug, _external=True),
            "invitation_counts": url_for("api.event_invitation_counts", slug=event.slug, _external=True),
            "public": url_for("registration.show_event", slug=event.slug, _external=True),
        },
    }


@dataclass(frozen=True)
class GuestFacts:
    """What a page of registrations shows beside each one, read in two queries for the whole page: the
    delegations' names, each registration's invitation status, and the categories' labels."""

    delegation_names: dict[int, str] = field(default_factory=dict)
    invitation_status: dict[int, str] = field(default_factory=dict)  # by registration id
    category_labels: dict[str, str] = field(default_factory=dict)

    def category_label(self, code: str) -> str:
        """The category's label in the reader's language (for a code the event no longer has: its catalog label,
        else the code, as categories.services.category_label_of)."""
        return self.category_labels.get(code) or str(CATEGORY_LABELS.get(code, code))


def guest_facts(event: Event, registrations: Iterable[Registration]) -> GuestFacts:
    """The delegations and invitation statuses of these registrations of `event`, and its category labels."""
    ids = [registration.id for registration in registrations]
    delegation_ids = {registration.delegation_id for registration in registrations} - {None}
    names = {}
    if delegation_ids:
        query = select(Delegation.id, Delegation.name).where(
            Delegation.event_id == event.id, Delegation.id.in_(delegation_ids)
        )
        names = dict(db.session.execute(query).all())
    statuses = {}
    if ids:
        query = select(Invitation.registration_id, Invitation.status).where(
            Invitation.event_id == event.id, Invitation.registration_id.in_(ids)
        )
        statuses = dict(db.session.execute(query).all())
    return GuestFacts(names, statuses, category_labels(event.id))


def registration_json(
    registration: Registration, organizer: Organizer, place: int | None = None, facts: GuestFacts | None = None
) -> dict:
    """One registration (with its waiting-list `place` when waitlisted, and its delegation and invitation from
    `facts`); dietary and accessibility needs only for an organizer whose role may see them."""
    facts = facts or GuestFacts()
    code = registration.country
    delegation_id = registration.delegation_id
    item = {
        "id": registration.id,
        "status": registration.status,
        "waitlist_position": place,
        "honorific": registration.honorific,
        "given_name": registration.given_name,
        "family_name": registration.family_name,
        "native_name": registration.native_name,
        "display_name": registration.display_name,
        "email": registration.email,
        "institution": registration.institution,
        "position": registration.position,
        "country": code,
        "country_name": country_name(code, "en"),  # the API's names stay English, whatever the reader's language
        "continent": continent_of(code),
        "subregion": subregion_of(code),
        "category": registration.category,
        # The label follows the reader's language (Accept-Language): organizers write one per language.
        "category_label": facts.category_label(registration.category),
        "delegation": None
        if delegation_id is None
        else {"id": delegation_id, "name": facts.delegation_names.get(delegation_id, "")},
        "is_focal_point": registration.is_focal_point,
        "invitation_status": facts.invitation_status.get(registration.id),
        "accompanying": registration.accompanying,
        "visa_letter": registration.visa_letter,
        "language": registration.language,
        "consent_at": iso(registration.consent_at),
        "created_at": iso(registration.created_at),
        "updated_at": iso(registration.updated_at),
        "checked_in_at": iso(registration.checked_in_at),
        "erased_at": iso(registration.erased_at),
    }
    # Absent, not empty, without the right: an empty string would claim the delegate has no needs.
    for need in NEEDS_RIGHTS:
        if may_see(organizer, need):
            item[need] = getattr(registration, need)
    return item


def delegation_json(row) -> dict:
    """One delegation with its counts (a delegations.services.DelegationRow)."""
    delegation = row.delegation
    return {
        "id": delegation.id,
        "name": delegation.name,
        "country": delegation.country or None,
        "quota": delegation.quota,
        "registered": row.registered,
        "focal_points": row.focal_points,
        "confirmed": row.confirmed,
        "checked_in": row.checked_in,
    }


def message_json(message: Message, counts: dict[str, int]) -> dict:
    """A message to delegates or an event reminder, with its mails by state (its scheduled mail loaded)."""
    reminder = message.kind == MessageKind.REMINDER
    mails = {state: counts.get(state, 0) for state in ("queued", "sent", "failed")}
    standing = reminder_state(message, message.scheduled_mail) if reminder and message.scheduled_mail else None
    return {
        "id": message.id,
        "kind": message.kind,
        "state": message.state,
        "subject": message.subject,
        "created_at": iso(message.created_at),
        "confirmed_at": iso(message.confirmed_at),
        "due_at": iso(message.scheduled_mail.due_at) if reminder and message.scheduled_mail else None,
        # Where a reminder stands, as its pages say: pending, sending, done or cancelled, with why it was not sent.
        "schedule_state": standing.name if standing else None,
        "not_sent_reason": (standing.not_sent_reason or None) if standing else None,
        # A message reaches the delegates fixed when it was sent; a reminder those it has been queued to so far.
        "recipient_count": sum(counts.values()) if reminder else message.recipient_count,
        "counts": mails,
    }
