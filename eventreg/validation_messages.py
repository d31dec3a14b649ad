"""The messages of the validators we did not write, in our words and in our catalogs: WTForms' own messages, and
email-validator's reasons (English only, and too technical for a delegate).

WTForms ships catalogs of its own, but its Arabic, Chinese and Russian ones have fuzzy and untranslated entries.
Our forms take their translations from our catalogs instead (`Translations` below); the msgids WTForms can show
with our fields are listed here so that extraction puts them in every catalog.
"""

import re

from email_validator import EmailNotValidError, EmailUndeliverableError
from flask_babel import get_translations, lazy_ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# The WTForms messages our fields and validators can produce (WTForms 3.2, exactly as it writes them: the msgid
# has to match). Extraction reads them here; nothing calls this tuple.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("'%(value)s' is not a valid choice for this field."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Not a valid integer value."),
    _l("Not a valid datetime value."),
    _l("Invalid input."),
    _l("Field must be equal to %(other_name)s."),
    _l("Number must be between %(min)s and %(max)s."),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1
    ),
    lazy_ngettext(
        "Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1
    ),
    _l("Field must be between %(min)d and %(max)d characters long."),
)


class Translations:
    """What WTForms asks of `Meta.get_translations`: gettext and ngettext, answered from the app's catalog for the
    request's language. The placeholders are left in: WTForms fills them in itself."""

    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


TRANSLATIONS = Translations()

# email-validator's reasons, recognised by their wording (email-validator 2.4), each with our own message. The
# first pattern that matches wins; anything else gets the general message.
_EMAIL_REASONS = [
    (r'"full-width" at-sign|"small commercial at"', _l("Please type the @ sign as a plain @, not a full-width ＠.")),
    (r"must have an @-sign", _l("An email address needs an @ sign, as in name@example.org.")),
    (r"something before the @-sign", _l("Something is missing before the @ sign.")),
    (r"something after the @-sign", _l("Something is missing after the @ sign.")),
    (r"too long", _l("This email address is too long.")),
    (
        r"two periods in a row|cannot (start|end) with a period|a period immediately (before|after) the @-sign",
        _l("An email address cannot have two dots in a row, or begin or end with a dot."),
    ),
    (
        r"Internationalized characters before the @-sign",
        _l("Please use only Latin letters, digits and . _ - + before the @ sign."),
    ),
    (
        r"before the @-sign|in quotes before|display name|angle bracket|after the email address|after close quote",
        _l("The part before the @ sign contains characters an email address cannot have."),
    ),
    (
        r"should have a period|not within a valid top-level domain",
        _l("The part after the @ sign needs a domain name with a dot, as in example.org."),
    ),
    (r"special-use or reserved name", _l("The domain after the @ sign is reserved and cannot receive mail.")),
    (r"@-sign|IDNA", _l("The part after the @ sign is not a valid domain name.")),
]
_COMPILED = [(re.compile(pattern), message) for pattern, message in _EMAIL_REASONS]


def email_problem(error: EmailNotValidError) -> str:
    """Our translated message for why email-validator refused an address."""
    if isinstance(error, EmailUndeliverableError):
        return _("The domain of this email address does not receive mail. Please check the address.")
    reason = str(error)
    for pattern, message in _COMPILED:
        if pattern.search(reason):
            return str(message)
    return _("This email address is not valid.")
