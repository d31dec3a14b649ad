"""The visa letter's mail: sent through the outbox when a letter is issued, with the letter attached as a PDF
rendered by the worker at send time from the sealed content (the PDF itself is never stored)."""

from flask_babel import gettext

from ..extensions import db
from ..mail.messages import Attachment
from ..mail.queue import add_kind
from ..models import OutboxMessage, VisaLetter
from .letters import render_letter

VISA_LETTER = "visa_letter"


def _subject(title: str, _status: str) -> str:
    return gettext("Your visa invitation letter: %(title)s", title=title)


def letter_attachments(message: OutboxMessage) -> list[Attachment]:
    """The issued letter as a PDF attachment (the letter the mail was queued for, whatever became of it since: its
    verification page tells a consulate whether it still holds)."""
    letter = db.session.get(VisaLetter, (message.details or {}).get("letter_id"))
    if letter is None or not letter.content_sealed:  # erased since: nothing to attach
        return []
    return [Attachment(f"{letter.number}.pdf", "application/pdf", render_letter(letter))]


add_kind(VISA_LETTER, "email/visa_letter", _subject, attachments=letter_attachments)
