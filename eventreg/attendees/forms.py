"""Forms of the attendee pages: the list's filters, the bulk actions, an organizer's edit (buttons that only
confirm use the shared forms.ConfirmForm)."""

from flask_babel import lazy_gettext as _l
from wtforms import Field, HiddenField, SearchField, SelectChoice, SelectField
from wtforms.validators import Length, ValidationError

from ..converters import MAX_ID
from ..forms import Form
from ..geo.regions import CONTINENT_LABELS, CONTINENTS
from ..languages import language_choices
from ..models import STATUS_LABELS
from ..registration.forms import RegistrationForm
from ..registration.status import StatusAction
from .filters import MAX_QUERY_LENGTH, NO_DELEGATION
from .services import MAX_BULK

ANY = _l("Any")
YES_NO_CHOICES = [SelectChoice("", ANY), SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]
SORT_CHOICES = [
    SelectChoice("-date", _l("Newest first")),
    SelectChoice("date", _l("Oldest first")),
    SelectChoice("name", _l("Name, A to Z")),
    SelectChoice("-name", _l("Name, Z to A")),
    SelectChoice("country", _l("Country or region, A to Z")),
    SelectChoice("-country", _l("Country or region, Z to A")),
]


class FilterForm(Form):
    """The list's search and filters, sent with GET so the filtered list can be bookmarked and exported.

    It only shows the values: AttendeeFilter reads and checks the query string.
    """

    class Meta:
        csrf = False

    q = SearchField(
        _l("Search"),
        validators=[Length(max=MAX_QUERY_LENGTH)],
        description=_l("Name in any script, email or institution."),
    )
    status = SelectField(
        _l("Status"), choices=[SelectChoice("", ANY)] + [SelectChoice(str(k), v) for k, v in STATUS_LABELS.items()]
    )
    country = SelectField(_l("Country or region"))
    continent = SelectField(
        _l("Continent"), choices=[SelectChoice("", ANY)] + [SelectChoice(c, CONTINENT_LABELS[c]) for c in CONTINENTS]
    )
    category = SelectField(_l("Category"))
    delegation = SelectField(_l("Delegation"))
    accompanying = SelectField(_l("Accompanying persons"), choices=YES_NO_CHOICES)
    visa_letter = SelectField(_l("Visa letter requested"), choices=YES_NO_CHOICES)
    checked_in = SelectField(_l("Checked in"), choices=YES_NO_CHOICES)
    invited = SelectField(_l("Registered through an invitation"), choices=YES_NO_CHOICES)
    sort = SelectField(_l("Order"), choices=SORT_CHOICES)

    def __init__(
        self,
        countries: list[tuple[str, str]],
        categories: dict[str, str] | None = None,
        delegations: list[tuple[int, str]] = (),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.country.choices = [SelectChoice("", ANY)] + [SelectChoice(code, name) for code, name in countries]
        # The event's categories (code: label in the reader's language) and delegations (id, name).
        self.category.choices = [SelectChoice("", ANY)] + [
            SelectChoice(code, label) for code, label in (categories or {}).items()
        ]
        self.delegation.choices = [
            SelectChoice("", ANY),
            SelectChoice(NO_DELEGATION, _l("No delegation")),
            *(SelectChoice(str(key), name) for key, name in delegations),
        ]


class IdListField(Field):
    """The ids of the ticked rows: checkboxes that share one name."""

    def process_formdata(self, valuelist):
        """Whole numbers that can be row ids, or a message."""
        self.data = []
        if not all(value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID for value in valuelist):
            raise ValueError(_l("The ticked rows were not understood. Please tick them again."))
        self.data = [int(value) for value in valuelist]


class TickedRowsForm(Form):
    """The rows ticked on the list, sent to another page: the compose page of a message to those delegates."""

    ids = IdListField(default=list)


# The bulk action that puts the ticked registrations into one category (the others are status actions).
SET_CATEGORY = "set_category"


class BulkActionForm(Form):
    """The registrations ticked on the list, and what to do to them."""

    ids = IdListField(default=list)
    action = SelectField(
        choices=[SelectChoice(str(action), str(action)) for action in StatusAction]
        + [SelectChoice(SET_CATEGORY, SET_CATEGORY)]
    )
    # The category of a "set category" action: one of the event's (set_category_choices()).
    category = SelectField(_l("Category"), choices=[], validate_choice=False, default="")
    # Set by the confirmation step of a bulk cancel.
    confirmed = HiddenField()
    page = HiddenField()

    def validate_category(self, field):
        """The "set category" action needs one of the event's categories."""
        if self.action.data == SET_CATEGORY and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Please choose the category to set."))

    def validate_ids(self, field):
        """At least one, and a bounded batch: one transaction should not hold the event's lock for long."""
        if not field.data and not field.errors:
            raise ValidationError(_l("Please tick at least one registration."))
        if len(field.data) > MAX_BULK:
            raise ValidationError(_l("Please choose at most %(max)d registrations at a time.", max=MAX_BULK))


class EditRegistrationForm(RegistrationForm):
    """Every field the delegate gave, checked by the registration form's own rules; consent stays the delegate's;
    and the language of the delegate's mails."""

    consent = None
    submission = None
    language = SelectField(
        _l("Language of mails to the delegate"),
        description=_l("The language the delegate registered in, unless they asked for another one."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = getattr(kwargs.get("obj"), "language", None)
        self.language.choices = language_choices(keep=stored)
