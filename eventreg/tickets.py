"""The delegate's ticket: the QR code of the check-in code, and the calendar entry (.ics) of the event.

The QR code holds only `Registration.checkin_code`, never the private-link token: a photographed ticket admits at
the door and grants nothing else. Only a confirmed registration has a ticket; pending and waitlisted ones cannot
check in, so they get neither QR code nor calendar entry.
"""

import functools
import io
from datetime import date

import icalendar
import segno
from flask import current_app, has_request_context, request
from sqlalchemy import select

from .extensions import db
from .models import OutboxMessage, Registration, Status, utcnow

# Mails that carry the ticket when the registration is confirmed, and mails that take the calendar entry away.
TICKET_KINDS = ("confirmation", "approved", "promoted", "changed")
CANCELLING_KINDS = ("cancelled", "rejected")

# Medium error correction: survives a crease or a smudge on paper and keeps the 10-character code in a version 1
# symbol (21 × 21 modules), which phone cameras and desk scanners read at a glance.
QR_ERROR = "m"


def has_ticket(status: str) -> bool:
    """Whether a registration in `status` can check in, and so has a ticket."""
    return status == Status.CONFIRMED


def grouped_code(code: str) -> str:
    """The check-in code in groups of five, for reading aloud and typing at the desk."""
    return " ".join(code[i : i + 5] for i in range(0, len(code), 5))


def _qr(code: str) -> segno.QRCode:
    # Crockford base 32 is upper-case letters and digits: segno picks QR alphanumeric mode by itself.
    return segno.make_qr(code, error=QR_ERROR)


def qr_png(code: str, scale: int = 8) -> bytes:
    """The QR code of `code` as a PNG (for mail: common mail programs do not show SVG)."""
    buffer = io.BytesIO()
    _qr(code).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(code: str) -> str:
    """The QR code of `code` as a standalone SVG document that scales to any size (page and print)."""
    buffer = io.BytesIO()
    # Without width and height the SVG takes the size the page gives it, sharp at any zoom and in print.
    _qr(code).save(buffer, kind="svg", border=4, omitsize=True, xmldecl=True, svgclass=None, lineclass=None)
    return buffer.getvalue().decode("utf-8")


def calendar_uid(registration: Registration) -> str:
    """The calendar entry's UID: one per registration, so every later entry replaces the earlier one."""
    # The worker requires SERVER_NAME, so every mail uses it; a download where it is unset uses the site's own host.
    host = current_app.config.get("SERVER_NAME") or (request.host if has_request_context() else "localhost")
    return f"registration-{registration.id}@{host.split(':')[0]}"


def _mails_before(registration: Registration, message_id: int | None) -> list[tuple[str, dict]]:
    """(kind, details) of the registration's mails up to `message_id` (all of them when None), oldest first."""
    query = select(OutboxMessage.kind, OutboxMessage.details).where(OutboxMessage.registration_id == registration.id)
    if message_id is not None:
        query = query.where(OutboxMessage.id <= message_id)
    return [(kind, details or {}) for kind, details in db.session.execute(query.order_by(OutboxMessage.id))]


def calendar_sequence(registration: Registration, message_id: int | None = None) -> int:
    """SEQUENCE for an entry sent with mail `message_id` (or downloaded now, when None): the number of mails so far.

    Each mail is a new outbox row, so the number grows with every change that is mailed, whatever the clocks say;
    a calendar keeps the entry with the highest SEQUENCE for a UID.
    """
    return len(_mails_before(registration, message_id))


def ticket_was_sent(registration: Registration, message_id: int) -> bool:
    """Whether a mail before `message_id` carried the ticket: only then is there a calendar entry to cancel."""
    return any(
        kind in TICKET_KINDS and has_ticket(details.get("status", "")) and not details.get("old_address")
        for kind, details in _mails_before(registration, message_id - 1)
    )


def calendar_entry(registration: Registration, *, private_url: str, sequence: int, cancel: bool = False) -> bytes:
    """The event as an iCalendar file: METHOD:PUBLISH for a ticket, METHOD:CANCEL (same UID) to take it away.

    Times carry the event's TZID with a VTIMEZONE, so calendars show them in the event's zone and convert them
    correctly for a reader elsewhere (daylight saving included).
    """
    event = registration.event
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//eventreg//ticket//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "PUBLISH")
    entry = icalendar.Event()
    entry.add("uid", calendar_uid(registration))
    entry.add("sequence", sequence)
    entry.add("dtstamp", utcnow())
    entry.add("dtstart", event.local(event.starts_at))
    entry.add("dtend", event.local(event.ends_at))
    entry.add("summary", event.title)
    entry.add("location", f"{event.venue}, {event.city}")
    entry.add("url", private_url)
    if event.description:
        entry.add("description", event.description)
    entry.add("status", "CANCELLED" if cancel else "CONFIRMED")
    entry.add("transp", "OPAQUE")
    # RFC 5546 asks for an ORGANIZER in PUBLISH and CANCEL, and an ATTENDEE in CANCEL.
    entry.add("organizer", f"mailto:{event.contact_email}", parameters={"CN": event.title})
    if cancel:
        entry.add("attendee", f"mailto:{registration.email}", parameters={"CN": registration.display_name})
    calendar.add_component(entry)
    for tzid in calendar.get_missing_tzids():
        timezone = vtimezone(tzid, event.starts_at.year - 1, event.ends_at.year + 1)
        if timezone is not None:
            calendar.subcomponents.insert(0, timezone)  # a VTIMEZONE comes before the events that use it
    return calendar.to_ical()


@functools.lru_cache(maxsize=64)
def vtimezone(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone | None:
    """The VTIMEZONE of `tzid` with the rules from `first_year` to `last_year` (None for a zone icalendar does not
    know). Built once per zone and years: building it from zoneinfo took ~25 ms, most of a ticket mail's time.
    Only the years around the event: the full 1970–2038 history would make every file kilobytes longer."""
    try:
        return icalendar.Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31))
    except ValueError:
        return None
