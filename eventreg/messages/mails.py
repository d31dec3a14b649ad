"""The kinds of outbox mail a message to delegates makes: its mail to each delegate, an event reminder, and a test
to the organizer. Each is composed whole by messages/rendering.py, which writes its own subject."""

from flask_babel import gettext as _

from ..mail.queue import add_kind
from .rendering import TEMPLATE, compose_message_mail
from .texts import MESSAGE_MAIL, REMINDER_MAIL, TEST_MAIL


def _subject(title: str, status: str) -> str:
    """A subject for a mail of these kinds where one is asked for without the message (the composer sets the
    real one, written by the organizer)."""
    return _("A message from the organizers of %(title)s", title=title)


for _kind in (MESSAGE_MAIL, REMINDER_MAIL, TEST_MAIL):
    add_kind(_kind, TEMPLATE, _subject, composer=compose_message_mail)
