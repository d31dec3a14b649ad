"""The delegate's ticket: the QR code of the check-in code, and the calendar entry (.ics) of the event.

The QR code holds only `Registration.checkin_code`, never the private-link token: a photographed ticket admits at
the door and grants nothing else. Only a confirmed registration has a ticket; pending and waitlisted ones cannot
check in, so they get neither QR code nor calendar entry.
"""

import functools
import io
import re
import struct
import zlib
from datetime import date
from urllib.parse import quote

import icalendar
import segno
from flask import current_app, has_request_context, request, url_for
from flask_babel import gettext, ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import OutboxMessage, Registration, Status, utcnow
from .qr import qr_rows

# Mails that carry the ticket when the registration is confirmed, and mails that take the calendar entry away.
TICKET_KINDS = ("confirmation", "approved", "promoted", "changed", "event_changed")
CANCELLING_KINDS = ("cancelled", "rejected")

# At least medium error correction: survives a crease or a smudge on paper and keeps the 10-character code in a
# version 1 symbol (21 × 21 modules), which phone cameras and desk scanners read at a glance. segno raises it to
# the highest level (H) that still fits in that version.
QR_ERROR = "m"
QR_BORDER = 4  # modules of quiet zone around the code, as the standard asks
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def has_ticket(status: str) -> bool:
    """Whether a registration in `status` can check in, and so has a ticket."""
    return status == Status.CONFIRMED


def whom_it_admits(accompanying: int) -> str:
    """The ticket's sentence on whom its code admits (the delegate, and those accompanying them), and that it opens
    nothing else."""
    if not accompanying:
        return gettext("It admits you only: it does not open your registration.")
    return ngettext(
        "It admits you and the person accompanying you: it does not open your registration.",
        "It admits you and the %(num)d persons accompanying you: it does not open your registration.",
        accompanying,
    )


def grouped_code(code: str) -> str:
    """The check-in code in groups of five, for reading aloud and typing at the desk."""
    return " ".join(code[i : i + 5] for i in range(0, len(code), 5))


def _qr(code: str) -> segno.QRCode:
    # Crockford base 32 is upper-case letters and digits: segno picks QR alphanumeric mode by itself.
    return segno.make_qr(code, error=QR_ERROR)


def qr_png(code: str, scale: int = 8) -> bytes:
    """The QR code of `code` as a PNG (for mail: common mail programs do not show SVG): black on white, one bit
    per pixel, `scale` pixels per module, with the quiet zone.

    The symbol is segno's, made by qr.py (segno's mask choice, on whole rows), and the PNG is written here: segno's
    own writer packs every pixel in Python. tests/test_tickets.py checks the pixels against segno's PNG. Both stay
    because segno's own output slowed the mail drain by about a quarter (measured: see qr.py).
    """
    width, rows = qr_rows(code, QR_ERROR)
    pixels = {ord("1"): "0" * scale, ord("0"): "1" * scale}  # a dark module is grey level 0, black
    side = (width + 2 * QR_BORDER) * scale
    quiet = "1" * (QR_BORDER * scale)
    padding = "1" * (-side % 8)  # each image row fills whole bytes
    blank = b"\0" + int("1" * side + padding, 2).to_bytes((side + len(padding)) // 8, "big")  # filter 0: none
    lines = [blank * (QR_BORDER * scale)]
    for row in rows:
        bits = quiet + format(row, f"0{width}b")[::-1].translate(pixels) + quiet + padding
        lines.append((b"\0" + int(bits, 2).to_bytes(len(bits) // 8, "big")) * scale)
    lines.append(blank * (QR_BORDER * scale))
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale, deflate, no interlace
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"".join(lines), 6))  # 9 is no smaller here, and 4× slower
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def qr_svg(code: str) -> str:
    """The QR code of `code` as a standalone SVG document that scales to any size (page and print)."""
    buffer = io.BytesIO()
    # Without width and height the SVG takes the size the page gives it, sharp at any zoom and in print.
    _qr(code).save(buffer, kind="svg", border=QR_BORDER, omitsize=True, xmldecl=True, svgclass=None, lineclass=None)
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
    return db.session.scalar(_count_mails(registration.id, message_id))


def mails_so_far():
    """SQL for OutboxMessage.mails_so_far: the calendar_sequence() of each message loaded, in the same query."""
    return _count_mails(OutboxMessage.registration_id, OutboxMessage.id).correlate(OutboxMessage).scalar_subquery()


def _count_mails(registration_id, up_to_id):
    """SELECT count(*) of a registration's mails up to a message (all when `up_to_id` is None); the arguments are
    values, or the outer query's columns for a correlated count."""
    earlier = aliased(OutboxMessage)
    query = select(func.count()).select_from(earlier).where(earlier.registration_id == registration_id)
    return query if up_to_id is None else query.where(earlier.id <= up_to_id)


def ticket_was_sent(registration: Registration, message_id: int) -> bool:
    """Whether a mail before `message_id` carried the ticket: only then is there a calendar entry to cancel."""
    return any(
        kind in TICKET_KINDS and has_ticket(details.get("status", "")) and not details.get("old_address")
        for kind, details in _mails_before(registration, message_id - 1)
    )


# What a mailto: URI may not hold as it is (RFC 6068): spaces and control characters, line breaks among them.
NOT_IN_MAILTO = re.compile("[\x00-\x20\x7f-\x9f\u2028\u2029]")


def mailto(address: str) -> str:
    """The mailto: URI of an address, with any space or control character percent-encoded: icalendar refuses a line
    break in an address (a row written around the forms could hold one), which would make every ticket mail fail."""
    return "mailto:" + NOT_IN_MAILTO.sub(lambda match: quote(match.group(), safe=""), address)


def calendar_entry(registration: Registration, *, sequence: int, cancel: bool = False) -> bytes:
    """The event as an iCalendar file: METHOD:PUBLISH for a ticket, METHOD:CANCEL (same UID) to take it away.

    Times carry the event's TZID with a VTIMEZONE, so calendars show them in the event's zone and convert them
    correctly for a reader elsewhere (daylight saving included). Its URL is the event's public page, never the
    private link: calendars get shared, and whoever sees the entry would hold the registration.
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
    entry.add("url", url_for("registration.show_event", slug=event.slug, _external=True))
    if event.description:
        entry.add("description", event.description)
    entry.add("status", "CANCELLED" if cancel else "CONFIRMED")
    entry.add("transp", "OPAQUE")
    # RFC 5546 asks for an ORGANIZER in PUBLISH and CANCEL, and an ATTENDEE in CANCEL.
    entry.add("organizer", mailto(event.contact_email), parameters={"CN": event.title})
    if cancel:
        entry.add("attendee", mailto(registration.email), parameters={"CN": registration.display_name})
    calendar.add_component(entry)
    zones = b"".join(
        vtimezone_ical(tzid, event.starts_at.year - 1, event.ends_at.year + 1) for tzid in calendar.get_missing_tzids()
    )
    # A VTIMEZONE comes before the events that use it; written once per zone (a third of the file's lines).
    head, begin, rest = calendar.to_ical().partition(b"BEGIN:VEVENT\r\n")
    return head + zones + begin + rest


@functools.lru_cache(maxsize=64)
def vtimezone_ical(tzid: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE of `tzid` (see vtimezone) as iCalendar lines; nothing for a zone icalendar does not know."""
    timezone = vtimezone(tzid, first_year, last_year)
    return timezone.to_ical() if timezone is not None else b""


@functools.lru_cache(maxsize=64)
def vtimezone(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone | None:
    """The VTIMEZONE of `tzid` with the rules from `first_year` to `last_year` (None for a zone icalendar does not
    know). Built once per zone and years: building it from zoneinfo took ~25 ms, most of a ticket mail's time.
    Only the years around the event: the full 1970–2038 history would make every file kilobytes longer."""
    try:
        return icalendar.Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31))
    except ValueError:
        return None
