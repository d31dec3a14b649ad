"""The delegation forms: the organizers' delegation and choice of members, the focal point's member forms."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, SearchField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..converters import MAX_ID
from ..forms import Form, HasLetter, SingleLine, fits, strip
from ..geo.countries import countries
from ..models import Delegation
from ..registration.forms import FALSE_VALUES, OwnDetailsForm, RegistrationForm, email_field

MAX_QUOTA = 10_000
MAX_QUERY_LENGTH = 200


class DelegationForm(Form):
    """A delegation's name, country and seat quota."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Please fill in this field.")), fits(Delegation.name), SingleLine(), HasLetter()],
        filters=[strip],
        description=_l('For example "Russian Academy of Sciences".'),
        default="",
    )
    country = SelectField(_l("Country or region"), validators=[Optional()], default="")
    quota = IntegerField(
        _l("Quota"),
        default=0,
        validators=[
            InputRequired(_l("Please give a number from 0 to %(max)d.", max=MAX_QUOTA)),
            NumberRange(0, MAX_QUOTA, _l("Please give a number from 0 to %(max)d.", max=MAX_QUOTA)),
        ],
        description=_l("How many members its focal points may register, not counting the focal points."),
        render_kw={"inputmode": "numeric"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = countries()
        self.country.choices = [SelectChoice("", _l("(none)"))] + [
            SelectChoice(code, name) for code, name in names.offered.items()
        ]


class CandidateSearchForm(Form):
    """Find registrations and invitations of the event to add to a delegation (GET, so no CSRF)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Find a person"),
        validators=[Length(max=MAX_QUERY_LENGTH)],
        description=_l("Name, email or institution of a registration or an invitation."),
    )


class ChoiceForm(Form):
    """Add one registration or invitation (its id) to the delegation, as a focal point or not."""

    id = HiddenField(validators=[InputRequired()])
    focal = BooleanField(_l("Focal point"), false_values=FALSE_VALUES)

    def chosen_id(self) -> int | None:
        """The id sent, or None when it is not a number an id column holds."""
        value = self.id.data or ""
        return int(value) if value.isdigit() and 1 <= int(value) <= MAX_ID else None


class MemberForm(RegistrationForm):
    """A member registered by their focal point: the registration form, with the focal point's word that the member
    agreed to have their details shared."""

    email = email_field(_l("Email"), _l("Their confirmation and their own private link are sent here."))
    consent = BooleanField(
        _l(
            "I confirm that this person agreed that I give their details to the organizers, who store them and use "
            "them to run this event, as described above"
        ),
        validators=[DataRequired(_l("Please confirm that this person agreed to share their details."))],
        false_values=FALSE_VALUES,
    )


class MemberEditForm(OwnDetailsForm):
    """A member's details as their focal point changes them: every field but the email (only its owner moves it)."""

    # Shown, never changed: the visa request is the member's own (members.FOCAL_EDITABLE_FIELDS leaves it out).
    visa_letter = BooleanField(
        _l("I need a visa invitation letter"),
        false_values=FALSE_VALUES,
        description=_l("Only the member can change this, on their own page."),
        render_kw={"disabled": True},
    )
