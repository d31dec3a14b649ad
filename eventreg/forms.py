"""Form pieces shared by every feature: length limits from the columns, email checks, clean text."""

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Length, ValidationError

from .validation_messages import TRANSLATIONS, email_problem

# A form built without `formdata` reads the request's; `formdata=None` still means "read nothing".
_FROM_REQUEST = object()


class Form(FlaskForm):
    """The base of our forms: they read text fields only, so a file or JSON sent in place of text is ignored
    (Flask-WTF would hand a file object to the validators, and JSON that is not an object cannot be read)."""

    def __init__(self, formdata=_FROM_REQUEST, **kwargs):
        if formdata is _FROM_REQUEST:
            formdata = request.form if request.method in SUBMIT_METHODS else None
        super().__init__(formdata=formdata, **kwargs)

    class Meta:
        def get_translations(self, form):
            """WTForms' own messages ("Not a valid choice.", …) in the request's language, from our catalogs."""
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return TRANSLATIONS


SUBMIT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def column_length(column) -> int:
    """The maximum length of a String column, so a form field never accepts more than the table holds."""
    return column.property.columns[0].type.length


def lazy_number(value: int) -> LazyString:
    """A number written the way the reader's language writes it (10,000 / 10 000 / 10.000), for messages built
    at import time."""
    return LazyString(lambda: format_number(value))


def fits(column) -> Length:
    """A Length validator matching `column`."""
    limit = column_length(column)
    return Length(max=limit, message=_l("At most %(max)d characters, please.", max=limit))


# Invisible characters that reorder the text around them: "‮gnp.exe" shows as "exe.png".
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Invisible characters that people paste by accident at the ends of a value.
INVISIBLE_EDGES = " \t\r\n\u00a0\u200b\u200e\u200f\u2060\ufeff"


# Characters that hide text or fake a layout: tag characters, interlinear annotations, object replacement.
HIDDEN = frozenset(chr(code) for code in [*range(0xE0000, 0xE0080), 0xFFF9, 0xFFFA, 0xFFFB, 0xFFFC])
MAX_COMBINING_RUN = 4  # more stacked accents than any script needs ("Zalgo" text)


def strip(value):
    """Trim whitespace and invisible characters from both ends of submitted text."""
    return value.strip().strip(INVISIBLE_EDGES) if isinstance(value, str) else value


def one_newline_style(value):
    """Browsers send a typed line break as CR LF and count it as one character: store it as one."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def text_problem(text: str, multiline: bool = False):
    """What is wrong with a text that people will read, or None: control characters and line separators
    (line breaks too, unless `multiline`), invisible direction overrides, hidden characters and stacks of
    accents have no place in names, titles or mail headers."""
    allowed = "\r\n\t" if multiline else ""
    if any((unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch not in allowed) or ch in HIDDEN for ch in text):
        if multiline:
            return _l("Please remove the control characters from this text.")
        return _l("Please use a single line without control characters.")
    if any(ch in BIDI_CONTROLS for ch in text):
        return _l("Please remove the invisible text-direction characters.")
    run = 0
    for ch in text:
        run = run + 1 if unicodedata.combining(ch) else 0
        if run > MAX_COMBINING_RUN:
            return _l("Please remove the stacked accent marks.")
    return None


class SingleLine:
    """Refuses line breaks, control characters and direction overrides: none belongs in a name or a mail header."""

    def __call__(self, form, field):
        if field.data and (problem := text_problem(field.data)):
            raise ValidationError(problem)


class NoControlCharacters:
    """Refuses control characters other than line breaks and tabs, and direction overrides, in longer text."""

    def __call__(self, form, field):
        if field.data and (problem := text_problem(field.data, multiline=True)):
            raise ValidationError(problem)


class HasLetter:
    """A name needs at least one letter, in any script (not only spaces, digits or invisible characters)."""

    def __call__(self, form, field):
        if field.data and not any(unicodedata.category(ch).startswith("L") for ch in field.data):
            raise ValidationError(_l("Please write at least one letter."))


class EmailAddress:
    """Checks an address with email-validator and replaces it by its normalised form."""

    def __call__(self, form, field):
        if not field.data:
            return
        # Phone keyboards for Chinese and Japanese can type full-width letters (ｂａｉ＠ｅｘａｍｐｌｅ．ｏｒｇ).
        field.data = unicodedata.normalize("NFKC", field.data)
        try:
            # allow_smtputf8=False: most mail servers cannot deliver to a non-ASCII mailbox name, and a
            # registration whose confirmation can never arrive is worse than asking for another address.
            result = validate_email(
                field.data,
                check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"],
                allow_smtputf8=False,
            )
        except EmailNotValidError as error:
            # email-validator explains the problem in English; we say it in the reader's language.
            raise ValidationError(email_problem(error)) from None
        field.data = result.normalized


class CountryField(SelectField):
    """A select of countries (the registration's country, the visa's nationality): a submitted code is looked up in
    a set, not found by walking ~250 choices (a tenth of the registration's CPU time in a rush). Whoever sets its
    choices sets `codes` to their values."""

    codes: frozenset[str] = frozenset()

    def pre_validate(self, form):
        """Refuse a code that is not one of the choices, as SelectField does."""
        if self.data not in self.codes:
            raise ValidationError(self.invalid_choice_message or self.gettext("Not a valid choice."))


class ConfirmForm(Form):
    """A button that needs only the CSRF token: cancel, approve, reject, erase, confirm a change, resend."""
