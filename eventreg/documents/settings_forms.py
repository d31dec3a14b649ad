"""The form of an event's document settings. The two images come from request.files in the view (our base Form reads
text fields only); everything else is here."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..forms import Form, NoControlCharacters, SingleLine, one_newline_style, strip
from ..languages import SOURCE_LANGUAGE, language_name
from .settings import MAX_PREFIX_LENGTH, SHEET_COUNTS, SHEET_LENGTHS, SettingsChange

MAX_TEXT = 20000  # a letter is a page or two
_SHEET_LABELS = {
    "page_width": _l("Page width (mm)"),
    "page_height": _l("Page height (mm)"),
    "label_width": _l("Label width (mm)"),
    "label_height": _l("Label height (mm)"),
    "margin_top": _l("Top margin (mm)"),
    "margin_left": _l("Left margin (mm)"),
    "gap_horizontal": _l("Gap between columns (mm)"),
    "gap_vertical": _l("Gap between rows (mm)"),
    "columns": _l("Columns"),
    "rows": _l("Rows"),
}
_NUMBER = _l("Please give a number from 0 to 1000.")


def _line(label, max_length=200, **kwargs):
    return StringField(
        label,
        validators=[Optional(), Length(max=max_length), SingleLine()],
        filters=[strip],
        default="",
        **kwargs,
    )


def _text(label, **kwargs):
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=MAX_TEXT), NoControlCharacters()],
        filters=[one_newline_style],
        default="",
        **kwargs,
    )


class DocumentSettingsForm(Form):
    """The letterhead, the letter's templates and the custom label sheet."""

    host_organisation = _line(_l("Host organisation"))
    address = _text(_l("Address"), description=_l("Printed under the host organisation, line by line."))
    signatory_name = _line(_l("Signatory's name"))
    signatory_title = _line(_l("Signatory's title"))
    remove_logo = BooleanField(_l("Remove the logo"))
    remove_signature = BooleanField(_l("Remove the signature"))
    letter_prefix = StringField(
        _l("Letter number prefix"),
        validators=[InputRequired(_l("Please give a prefix, e.g. ANSO-2027."))],
        filters=[strip],
        description=_l(
            "Letters are numbered <prefix>-0001, <prefix>-0002…: letters, digits and hyphens, at most %(max)d.",
            max=MAX_PREFIX_LENGTH,
        ),
        render_kw={"dir": "ltr"},
    )
    letter_template = _text(_l("Visa letter (English)"), render_kw={"rows": 18, "lang": "en", "dir": "ltr"})
    second_language = SelectField(_l("Second language on the letter"), default="")
    second_template = _text(_l("Visa letter in the second language"), render_kw={"rows": 18, "dir": "auto"})
    custom_sheet = BooleanField(_l("Use a custom label sheet for badges"))

    def __init__(self, *args, languages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.second_language.choices = [SelectChoice("", _l("None"))] + [
            SelectChoice(language, language_name(language)) for language in languages if language != SOURCE_LANGUAGE
        ]

    def change(self, files) -> SettingsChange:
        """What the valid form asks, with the uploads from `files` (request.files)."""
        sheet = None
        if self.custom_sheet.data:
            sheet = {name: float(self[name].data) for name in SHEET_LENGTHS}
            sheet |= {name: int(self[name].data) for name in SHEET_COUNTS}

        def upload(name):
            storage = files.get(name)
            return storage if storage is not None and storage.filename else None

        return SettingsChange(
            host_organisation=self.host_organisation.data,
            address=self.address.data.strip(),
            signatory_name=self.signatory_name.data,
            signatory_title=self.signatory_title.data,
            letter_prefix=self.letter_prefix.data,
            letter_template=self.letter_template.data.strip(),
            second_language=self.second_language.data or "",
            second_template=self.second_template.data.strip(),
            label_sheet=sheet,
            logo=upload("logo"),
            signature=upload("signature"),
            remove=frozenset(purpose for purpose in ("logo", "signature") if self[f"remove_{purpose}"].data),
        )

    def validate(self, extra_validators=None):
        """The sheet's numbers are needed only when the custom sheet is on."""
        valid = super().validate(extra_validators)
        if self.custom_sheet.data:
            for name in (*SHEET_LENGTHS, *SHEET_COUNTS):
                if self[name].data is None and not self[name].errors:
                    self[name].errors = [*self[name].errors, _NUMBER]
                    valid = False
        return valid


for _name in SHEET_LENGTHS:
    setattr(
        DocumentSettingsForm,
        _name,
        DecimalField(_SHEET_LABELS[_name], validators=[Optional(), NumberRange(0, 1000, _NUMBER)], places=1),
    )
for _name in SHEET_COUNTS:
    setattr(
        DocumentSettingsForm,
        _name,
        IntegerField(_SHEET_LABELS[_name], validators=[Optional(), NumberRange(0, 1000, _NUMBER)]),
    )


def initial_data(settings) -> dict:
    """The form's values for stored (or default) settings."""
    data = {
        name: getattr(settings, name) or ""
        for name in (
            "host_organisation",
            "address",
            "signatory_name",
            "signatory_title",
            "letter_prefix",
            "letter_template",
            "second_language",
            "second_template",
        )
    }
    if settings.label_sheet:
        data["custom_sheet"] = True
        data |= {name: settings.label_sheet.get(name) for name in (*SHEET_LENGTHS, *SHEET_COUNTS)}
    return data
