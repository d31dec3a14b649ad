"""The ticket in a mail: the QR code as an inline image beside the HTML, and the calendar entry as an attachment.

The MIME tree mail programs render is

    multipart/mixed
      multipart/related            (type="multipart/alternative")
        multipart/alternative
          text/plain
          text/html                <img src="cid:…">
        image/png                  Content-ID: <…>, inline
      text/calendar; method=…      event.ics, attachment

An inline image straight in multipart/mixed (where Flask-Mail 0.10 puts every attachment) is listed as an
attachment by several mail programs instead of being shown in the HTML; hence the related part. mail/mime.py writes
the tree.
"""

from dataclasses import dataclass

from ..mail import mime
from ..mail.addresses import default_sender_address
from ..mail.messages import EncodedMessage
from ..models import OutboxMessage, Registration, Status
from .codes import (
    CANCELLING_KINDS,
    TICKET_KINDS,
    calendar_entry,
    calendar_sequence,
    grouped_code,
    has_ticket,
    qr_png,
    ticket_was_sent,
)

# Pixels per QR module in mail: a version 1 code with its quiet zone is 29 modules, so 232 px square.
MAIL_QR_SCALE = 8


@dataclass
class TicketParts:
    """What a mail carries besides its text: the calendar entry, and the QR code when it is a ticket."""

    method: str  # PUBLISH (add or replace the entry) or CANCEL (remove it)
    calendar: bytes
    qr_png: bytes | None = None
    qr_cid: str = ""
    code: str = ""


def ticket_parts(message: OutboxMessage, status: str) -> TicketParts | None:
    """The ticket parts of an outbox message, or None for a mail without any.

    A ticket goes with the mails of TICKET_KINDS while the registration is confirmed (as queued and still now: a
    registration cancelled before its confirmation went out gets no QR code). A cancellation or rejection removes
    the calendar entry, when an earlier mail sent one. A "changed" mail queued for a former address before
    migration 0010 (which turns the queued ones into "address_changed" notices) gets neither.
    """
    registration = message.registration
    if (message.details or {}).get("old_address"):
        return None
    if message.kind in TICKET_KINDS and has_ticket(status) and has_ticket(registration.status):
        sequence = message.mails_so_far or calendar_sequence(registration, message.id)  # loaded with the claim
        domain = default_sender_address().rpartition("@")[2] or "localhost"
        return TicketParts(
            method="PUBLISH",
            calendar=calendar_entry(registration, sequence=sequence),
            qr_png=qr_png(registration.checkin_code, scale=MAIL_QR_SCALE),
            # One per message, and the same on a retry: the HTML refers to the image by it.
            qr_cid=f"ticket-qr-{message.id}@{domain}",
            code=grouped_code(registration.checkin_code),
        )
    if message.kind in CANCELLING_KINDS and ticket_was_sent(registration, message.id):
        sequence = calendar_sequence(registration, message.id)
        return TicketParts(
            method="CANCEL",
            calendar=calendar_entry(registration, sequence=sequence, cancel=True),
        )
    return None


def current_ticket(registration: Registration, message: OutboxMessage) -> TicketParts | None:
    """The ticket a mail of any kind carries when it is asked to (a message to delegates): the registration's
    current QR code and calendar entry while it is confirmed, else None. `message` is the outbox row it goes out
    with (a test send to an organizer included): it names the QR image and numbers the calendar entry."""
    if registration.erased_at is not None or not has_ticket(registration.status):
        return None
    sequence = message.mails_so_far if message.registration_id == registration.id else None
    domain = default_sender_address().rpartition("@")[2] or "localhost"
    return TicketParts(
        method="PUBLISH",
        calendar=calendar_entry(registration, sequence=sequence or calendar_sequence(registration, message.id)),
        qr_png=qr_png(registration.checkin_code, scale=MAIL_QR_SCALE),
        qr_cid=f"ticket-qr-{message.id}@{domain}",
        code=grouped_code(registration.checkin_code),
    )


def ticket_context(message: OutboxMessage, parts: TicketParts | None, status: str) -> dict:
    """What the templates (email/_ticket.html and .txt) need to show the ticket or say why there is none yet."""
    waiting = status in (Status.PENDING, Status.WAITLISTED)
    return {
        "ticket": parts if parts and parts.qr_png else None,
        "ticket_later": message.kind in TICKET_KINDS and waiting and not (message.details or {}).get("old_address"),
        "calendar_method": parts.method if parts else None,
    }


class TicketMessage(EncodedMessage):
    """An EncodedMessage that carries the ticket parts (see the module's docstring for the tree)."""

    def __init__(self, *args, ticket: TicketParts, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket

    def mime_tree(self) -> mime.Part | mime.Multipart:
        """The text and HTML, the QR code related to the HTML, the calendar entry attached."""
        tree = super().mime_tree()
        if not isinstance(tree, mime.Multipart):
            return tree  # a text-only mail (every kind has HTML today): nothing to relate the image to
        parts = self.ticket
        alternative = tree.parts[0]
        if parts.qr_png:
            image = mime.Part(
                "image/png",
                parts.qr_png,
                text=False,
                headers=[("Content-Disposition", 'inline; filename="ticket-qr.png"')],
                ids=[("Content-ID", f"<{parts.qr_cid}>")],
            )
            alternative = mime.Multipart("related", [alternative, image], params='; type="multipart/alternative"')
        calendar = mime.Part(
            f'text/calendar; charset="utf-8"; method="{parts.method}"',
            parts.calendar,
            headers=[("Content-Disposition", 'attachment; filename="event.ics"')],
        )
        return mime.Multipart("mixed", [alternative, *tree.parts[1:], calendar])
