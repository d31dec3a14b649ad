"""The organizers' invitation forms: one invitation, the import's upload and its confirmation, the list's actions."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from werkzeug.datastructures import CombinedMultiDict
from wtforms import BooleanField, EmailField, Field, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Optional, ValidationError

from ..converters import MAX_ID
from ..extensions import db
from ..forms import EmailAddress, Form, SingleLine, fits, strip
from ..geo.countries import country_names
from ..languages import language_choices
from ..models import CATEGORY_LABELS, HONORIFIC_LABELS, Delegation, EventCategory, Invitation
from ..models.guests import INVITATION_STATUS_LABELS

MAX_SELECTED = 1000  # ticked invitations sent at once; a page shows far fewer


def _text(label, column):
    return StringField(label, validators=[Optional(), fits(column), SingleLine()], filters=[strip], default="")


class InvitationForm(Form):
    """What the organizers know of one invitee; only the address is required."""

    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Please fill in this field.")), fits(Invitation.email), EmailAddress()],
        filters=[strip],
    )
    honorific = SelectField(
        _l("Title"),
        choices=[SelectChoice("", "—")] + [SelectChoice(code, label) for code, label in HONORIFIC_LABELS.items()],
        default="",
    )
    given_name = _text(_l("Given name"), Invitation.given_name)
    family_name = _text(_l("Family name"), Invitation.family_name)
    native_name = _text(_l("Name in own script"), Invitation.native_name)
    institution = _text(_l("Institution"), Invitation.institution)
    position = _text(_l("Position"), Invitation.position)
    country = SelectField(_l("Country or region"), default="")
    category = SelectField(
        _l("Category"), default="", description=_l("Leave it to the invitee, or assign one (Speaker, Press…).")
    )
    language = SelectField(_l("Language of the invitation"), default="")
    delegation = StringField(
        _l("Delegation"),
        validators=[Optional(), fits(Delegation.name), SingleLine()],
        filters=[strip],
        default="",
        description=_l("A delegation's name; a new name creates the delegation (its quota is then set on its page)."),
    )
    is_focal_point = BooleanField(_l("Focal point of the delegation"))
    skip_approval = BooleanField(_l("Confirm the registration without approval"))

    def __init__(self, event_id: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", "—")] + [
            SelectChoice(code, name) for code, name in country_names().items()
        ]
        codes = db.session.scalars(
            select(EventCategory.code)
            .where(EventCategory.event_id == event_id)
            .order_by(EventCategory.position, EventCategory.id)
        )
        self.category.choices = [SelectChoice("", _l("Chosen by the invitee"))] + [
            SelectChoice(code, str(CATEGORY_LABELS.get(code, code))) for code in codes
        ]
        self.language.choices = language_choices(blank=_l("The event's language"))

    def validate_is_focal_point(self, field):
        """A focal point leads a delegation: it needs one."""
        if field.data and not self.delegation.data:
            raise ValidationError(_l("A focal point needs a delegation."))


class ImportForm(Form):
    """The file to import (its size limit is the import route's own)."""

    file = FileField(
        _l("File (CSV or XLSX)"),
        validators=[
            FileRequired(_l("Please choose a file.")),
            FileAllowed(["csv", "xlsx"], _l("Please choose a CSV or an XLSX file.")),
        ],
    )

    def __init__(self, *, read_request: bool = True, **kwargs):
        # The base form reads text fields only; this one reads the upload too (read_request=False: nothing, after
        # the body was refused as too large).
        read = read_request and request.method == "POST"
        super().__init__(formdata=CombinedMultiDict([request.files, request.form]) if read else None, **kwargs)


class ConfirmImportForm(Form):
    """Confirm a previewed import, and whether to send the invitations right away."""

    send = BooleanField(_l("Send the invitations now"))


class IdListField(Field):
    """The ids of the ticked invitations: checkboxes that share one name."""

    def process_formdata(self, valuelist):
        """Whole numbers that can be row ids, or a message."""
        self.data = []
        if not all(value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID for value in valuelist):
            raise ValueError(_l("The ticked rows were not understood. Please tick them again."))
        self.data = [int(value) for value in valuelist]


class SendForm(Form):
    """The invitations ticked on the list, to send their invitation mail."""

    ids = IdListField(default=list)

    def validate_ids(self, field):
        """At least one, and a bounded batch."""
        if not field.data and not field.errors:
            raise ValidationError(_l("Please tick at least one invitation."))
        if len(field.data) > MAX_SELECTED:
            raise ValidationError(_l("Please choose at most %(max)d invitations at a time.", max=MAX_SELECTED))


STATUS_FILTER_CHOICES = [SelectChoice("", _l("Any"))] + [
    SelectChoice(str(status), label) for status, label in INVITATION_STATUS_LABELS.items()
]
