"""An organizer account's own language: the one its organizer pages speak (empty: as the browser asks)."""

from ..extensions import db
from ..models import Organizer
from . import offered_languages


class UnknownLanguage(ValueError):
    """A language that is not offered."""


def set_account_language(organizer: Organizer, language: str) -> None:
    """Save the organizer pages' language of `organizer`: one of the offered languages, or "" for the browser's."""
    if language and language not in offered_languages():
        raise UnknownLanguage(language)
    if organizer.language != language:
        organizer.language = language
        db.session.commit()
