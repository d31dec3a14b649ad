"""The mail as it is written: Flask-Mail's message, whose bytes mail/mime.py writes, with every header on one line."""

import re
import time
from dataclasses import dataclass
from email.utils import parseaddr

import flask_mail

from . import mime


class EncodedMessage(flask_mail.Message):
    """Flask-Mail's message, written to bytes by mail/mime.py: text and HTML as alternatives, ticket parts (see
    tickets/mail.py) beside them.

    Flask-Mail 0.10 RFC 2047-encodes names and subjects itself and then folds them again, which garbles
    long non-ASCII names ("Константин о вна") and subjects; the standard library's SMTP policy encodes them.
    Control characters (CR, LF, …) in names and the subject become spaces here, whatever a row holds, so no
    value can end a header and start another (forms refuse them already; this holds for rows written otherwise).
    The outbox sets no Cc, Bcc, extra headers or Flask-Mail attachments; a message with any of them is refused
    rather than sent without them.
    """

    def __init__(self, subject: str = "", recipients=None, sender=None, reply_to=None, files=(), **kwargs):
        self.files = list(files)  # documents attached (Attachment), after the text and HTML
        super().__init__(
            subject=_one_line(subject),
            recipients=[_clean_address(recipient) for recipient in recipients or []],
            sender=_clean_address(sender) if sender else sender,
            reply_to=_clean_address(reply_to) if reply_to else reply_to,
            **kwargs,
        )

    def as_bytes(self) -> bytes:
        """The mail as it goes to the SMTP server (and into an .eml file)."""
        if self.cc or self.bcc or self.extra_headers or self.attachments or set(self.alts) - {"html"}:
            raise ValueError("the outbox writes no Cc, Bcc, extra headers or attachments")
        if self.date is None:
            self.date = time.time()  # Flask-Mail sets it only when it sends; the .eml files need one too
        headers = [
            mime.address_header("From", [_address(self.sender)]),
            mime.address_header("To", [_address(recipient) for recipient in self.recipients]),
            mime.address_header("Reply-To", [_address(self.reply_to)]) if self.reply_to else b"",
            mime.header("Subject", self.subject) if self.subject else b"",
            mime.date_header(self.date),
            mime.plain_header("Message-ID", self.msgId),
        ]
        return mime.write([line for line in headers if line], self.mime_tree())

    def as_string(self) -> str:
        """The mail as text (8bit parts are UTF-8)."""
        return self.as_bytes().decode("utf-8")

    def mime_tree(self) -> mime.Part | mime.Multipart:
        """The text alone, or the text and HTML as alternatives inside multipart/mixed (as Flask-Mail builds it)."""
        charset = self.charset or "utf-8"
        text = mime.Part(f'text/plain; charset="{charset}"', (self.body or "").encode(charset))
        if self.html is None:
            return text
        html = mime.Part(f'text/html; charset="{charset}"', self.html.encode(charset))
        files = [attachment.part() for attachment in self.files]
        return mime.Multipart("mixed", [mime.Multipart("alternative", [text, html]), *files])


@dataclass(frozen=True)
class Attachment:
    """A document a mail carries (a visa letter, a certificate): written as an attachment part."""

    filename: str  # ASCII: it is written into the header as it is
    content_type: str  # e.g. application/pdf
    content: bytes

    def part(self) -> mime.Part:
        """The attachment's MIME part."""
        name = _one_line(self.filename).replace('"', "") or "document"
        return mime.Part(
            self.content_type,
            self.content,
            text=False,
            headers=[("Content-Disposition", f'attachment; filename="{name}"')],
        )


# C0 and C1 control characters and the Unicode line and paragraph separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _one_line(text: str | None) -> str:
    """`text` with every run of control characters replaced by one space."""
    return CONTROL_CHARACTERS.sub(" ", text or "").strip()


def _clean_address(value: str | tuple[str, str]) -> str | tuple[str, str]:
    """An address with its display name on one line (the address itself comes from a validated column)."""
    if isinstance(value, tuple):
        return _one_line(value[0]), _one_line(value[1])
    name, address = parseaddr(_one_line(value))
    return (name, address) if name else address


def _address(value: str | tuple[str, str]) -> tuple[str, str]:
    """(display name, address) from 'Name <a@b>' or (name, address)."""
    return value if isinstance(value, tuple) else parseaddr(value)
