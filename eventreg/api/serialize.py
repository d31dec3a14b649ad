"""Events and registrations as the API shows them (the shapes documented in openapi.json)."""

from datetime import UTC, datetime

from flask import url_for

from ..geo.countries import country_name
from ..geo.regions import continent_of, subregion_of
from ..models import Event, Organizer, Registration
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
        "contact_email": event.contact_email,
        "links": {
            "self": url_for("api.event", slug=event.slug, _external=True),
            "stats": url_for("api.event_stats", slug=event.slug, _external=True),
            "registrations": url_for("api.event_registrations", slug=event.slug, _external=True),
            "public": url_for("registration.show_event", slug=event.slug, _external=True),
        },
    }


def registration_json(registration: Registration, organizer: Organizer, place: int | None = None) -> dict:
    """One registration (with its waiting-list `place` when waitlisted); dietary and accessibility needs only for
    an organizer whose role may see them."""
    code = registration.country
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
