"""The visa fields of the delegate forms: what a consulate needs, asked when "I need a visa invitation letter" is
ticked. They form one sub-form (names prefixed "visa-"); the delegate form requires and checks them only when the
box is ticked (require_visa_fields), against the event's days (application.visa_problems)."""

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, FormField, StringField
from wtforms import Form as SubForm
from wtforms.validators import Length, Optional

from ..forms import CountryField, Form, HasLetter, SingleLine, fits, strip
from ..models import VisaApplication
from .application import VISA_FIELDS, VisaDetails, normalized_passport_number, visa_problems

FILL_IN = _l("Please fill in this field.")


class IfGiven(Optional):
    """Stop checking an empty field, as Optional does, without marking it "(optional)" on the page: each visa
    field is required when a letter is asked for (require_visa_fields)."""

    def __init__(self):
        super().__init__()
        self.field_flags = {}


def _date(label, autocomplete=None):
    return DateField(label, validators=[IfGiven()], render_kw={"autocomplete": autocomplete} if autocomplete else None)


class VisaSubForm(SubForm):
    """The visa request's fields, each optional on its own (require_visa_fields makes them required)."""

    class Meta:
        get_translations = Form.Meta.get_translations

    passport_name = StringField(
        _l("Full name exactly as in your passport"),
        validators=[IfGiven(), fits(VisaApplication.passport_name), SingleLine(), HasLetter()],
        filters=[strip],
        default="",
    )
    # The country field's choices and codes, given by the delegate form (RegistrationForm.__init__).
    nationality = CountryField(_l("Nationality"), validators=[IfGiven()], default="")
    passport_number = StringField(
        _l("Passport number"),
        validators=[IfGiven(), Length(max=40)],
        filters=[strip, normalized_passport_number],
        default="",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    passport_expiry = _date(_l("Passport valid until"))
    birth_date = _date(_l("Date of birth"), "bday")
    consulate_city = StringField(
        _l("City of the consulate where you apply"),
        validators=[IfGiven(), fits(VisaApplication.consulate_city), SingleLine(), HasLetter()],
        filters=[strip],
        default="",
    )
    arrival = _date(_l("Planned arrival"))
    departure = _date(_l("Planned departure"))


class VisaRequestField(FormField):
    """The visa sub-form as one field of a delegate form; its data is a VisaDetails (a DelegateDetails' `visa`)."""

    def __init__(self, **kwargs):
        super().__init__(VisaSubForm, label=_l("For your visa invitation letter"), **kwargs)

    @property
    def data(self) -> VisaDetails:
        """What the fields say, as a VisaDetails."""
        return VisaDetails(**{name: self.form[name].data for name in VISA_FIELDS})

    @property
    def errors(self) -> list[str]:
        """The sub-fields' messages, each after its field's name: what the summary above a form lists (macros.html
        form_errors reads a field's errors as a list)."""
        return [f"{field.label.text}: {field.errors[0]}" for field in self.form if field.errors]

    def populate_obj(self, obj, name):
        """Never copied onto a registration: the application is a table of its own."""


def require_visa_fields(
    field: VisaRequestField, period: tuple[date, date] | None, kept_arrival: date | None = None
) -> bool:
    """With a visa letter asked for: every field filled, and the rules met (visa_problems); the messages go on the
    fields. `kept_arrival`, the arrival already on file, stays acceptable after it has passed. True when valid."""
    fields = field.form
    for name in VISA_FIELDS:
        if not fields[name].errors and not fields[name].data:
            fields[name].errors.append(FILL_IN)
    new = fields.arrival.data != kept_arrival
    for name, message in visa_problems(field.data, period, date.today(), new=new).items():
        if not fields[name].errors:
            fields[name].errors.append(message)
    fields._errors = None  # WTForms caches a form's errors; these were added after validate()
    return not any(fields[name].errors for name in VISA_FIELDS)


def ignore_visa_fields(field: VisaRequestField) -> None:
    """No visa letter asked for: whatever the visa fields hold is neither checked nor kept."""
    for subfield in field.form:
        subfield.errors = []
    field.form._errors = None  # see require_visa_fields
