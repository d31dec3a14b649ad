"""What a message says: its subject and body, a version per language, and the placeholders they may use; and the
rules a text must meet before anything is saved or sent. Placeholders are filled by eventreg/placeholders.py (one
regular expression over this fixed list), never by Jinja or str.format."""

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..forms import text_problem
from ..languages import offered_languages
from ..placeholders import unknown_placeholders

# The kinds of outbox mail a message makes: one per delegate, a test send to the organizer, an event reminder.
MESSAGE_MAIL = "message"
TEST_MAIL = "message_test"
REMINDER_MAIL = "event_reminder"
# The kind of scheduled mail (mail/schedule.py) that queues a confirmed message's mails.
MESSAGE_SCHEDULE = "message"

# Every placeholder a message may use, with what it stands for (listed on the compose page).
PLACEHOLDERS = {
    "honorific": _l("The delegate's honorific (Dr., Prof., …), in their language"),
    "given_name": _l("The delegate's given name"),
    "family_name": _l("The delegate's family name"),
    "event_title": _l("The event's title"),
    "event_start": _l("When the event starts, in its time zone and the delegate's language"),
    "venue": _l("The venue and city"),
    "private_link": _l("The delegate's private link to see or change their registration"),
    "checkin_code": _l("The delegate's check-in code (confirmed delegates only)"),
}
MAX_SUBJECT_LENGTH = 200
MAX_BODY_LENGTH = 20_000


@dataclass(frozen=True)
class MessageTexts:
    """A message as the organizer wrote it: the default version, one per language ({code: (subject, body)}; a
    language left empty gets the default one), and its options."""

    subject: str
    body: str
    versions: dict[str, tuple[str, str]] = field(default_factory=dict)
    attach_ticket: bool = False
    reply_to_contact: bool = True

    def stored_versions(self) -> dict[str, dict[str, str]]:
        """The versions as Message.versions keeps them, without the empty ones."""
        return {
            language: {"subject": subject.strip(), "body": body.strip()}
            for language, (subject, body) in self.versions.items()
            if subject.strip() or body.strip()
        }


class MessageRefused(Exception):
    """A message the rules refuse, with the field it belongs to ("subject", "body", "subject_<lang>",
    "body_<lang>", or "" for the whole message) and the message for the organizer."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


def check_texts(texts: MessageTexts) -> None:
    """Refuse (MessageRefused) a message whose texts cannot be sent: an empty, overlong or multi-line subject, an
    empty or overlong body, a version with a subject but no body (or the reverse), a language that is not offered,
    or an unknown placeholder, named."""
    offered = set(offered_languages())
    versions = [("", texts.subject, texts.body)]
    for language, (subject, body) in texts.versions.items():
        if language not in offered:
            raise MessageRefused("", _("%(language)s is not one of the languages offered.", language=language))
        if subject.strip() or body.strip():
            versions.append((language, subject, body))
    for language, subject, body in versions:
        suffix = f"_{language}" if language else ""
        _check_subject(subject, "subject" + suffix)
        _check_body(body, "body" + suffix)


def _check_subject(subject: str, name: str) -> None:
    if not subject.strip():
        raise MessageRefused(name, _("Please write a subject."))
    problem = text_problem(subject)
    if problem:  # a line break would end the Subject header: a subject is one line
        raise MessageRefused(name, str(problem))
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise MessageRefused(name, _("Please keep the subject to %(max)d characters.", max=MAX_SUBJECT_LENGTH))
    _check_placeholders(subject, name)


def _check_body(body: str, name: str) -> None:
    if not body.strip():
        raise MessageRefused(name, _("Please write the message."))
    problem = text_problem(body, multiline=True)
    if problem:
        raise MessageRefused(name, str(problem))
    if len(body) > MAX_BODY_LENGTH:
        raise MessageRefused(name, _("Please keep the message to %(max)d characters.", max=MAX_BODY_LENGTH))
    _check_placeholders(body, name)


def _check_placeholders(text: str, name: str) -> None:
    unknown = unknown_placeholders(text, PLACEHOLDERS)
    if unknown:
        raise MessageRefused(
            name,
            _(
                "Unknown placeholder: %(names)s. The placeholders are listed beside the form.",
                names=", ".join("{" + placeholder + "}" for placeholder in unknown),
            ),
        )
