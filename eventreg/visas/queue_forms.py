"""The visa queue's forms: refusing a request (the reason is required), issuing every pending request (a box to
tick first, as it mails many delegates at once). Issuing selected rows and withdrawing use forms.ConfirmForm."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import Form, NoControlCharacters
from .queue import REFUSAL_REASON_MAX


class RefuseForm(Form):
    """Refuse one request, saying why (organizers see the reason; the delegate is told to contact them)."""

    reason = TextAreaField(
        _l("Reason for the refusal"),
        validators=[
            DataRequired(_l("Give the reason for the refusal.")),
            Length(max=REFUSAL_REASON_MAX),
            NoControlCharacters(),
        ],
    )


class IssueAllForm(Form):
    """Issue a letter to every complete pending request."""

    confirm = BooleanField(
        _l("Yes, issue a letter to every pending request and mail it"),
        validators=[DataRequired(_l("Tick the box to confirm that every pending request gets its letter."))],
    )
