"""Form pieces shared by every feature: length limits from the columns, email checks, clean text."""

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import Length, ValidationError


def column_length(column) -> int:
    """The maximum length of a String column, so a form field never accepts more than the table holds."""
    return column.property.columns[0].type.length


def fits(column) -> Length:
    """A Length validator matching `column`."""
    limit = column_length(column)
    return Length(max=limit, message=_l("At most %(max)d characters, please.", max=limit))


def strip(value):
    """Trim surrounding whitespace from submitted text."""
    return value.strip() if isinstance(value, str) else value


class SingleLine:
    """Refuses line breaks and other control characters, which have no place in a name or a mail header."""

    def __call__(self, form, field):
        if field.data and any(unicodedata.category(ch) == "Cc" for ch in field.data):
            raise ValidationError(_l("Please use a single line without control characters."))


class NoControlCharacters:
    """Refuses control characters other than line breaks and tabs in longer text."""

    def __call__(self, form, field):
        if field.data and any(unicodedata.category(ch) == "Cc" and ch not in "\r\n\t" for ch in field.data):
            raise ValidationError(_l("Please remove the control characters from this text."))


class EmailAddress:
    """Checks an address with email-validator and replaces it by its normalised form."""

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            result = validate_email(
                field.data,
                check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"],
            )
        except EmailNotValidError as error:
            # email-validator explains the problem in English; our own sentence comes first, translated.
            raise ValidationError(f"{_l('This email address is not valid.')} {error}") from None
        field.data = result.normalized
