"""Forms of the check-in desk: the code and name search (GET, so the desk works without scripts), and the buttons."""

from flask_babel import lazy_gettext as _l
from wtforms import SearchField, StringField
from wtforms.validators import Length

from ..attendees.filters import MAX_QUERY_LENGTH
from ..forms import Form
from ..models import CHECKIN_CODE_LENGTH


class CodeForm(Form):
    """The ticket's code as typed (spaces, hyphens, lower case and O for 0 are all understood)."""

    class Meta:
        csrf = False

    code = StringField(
        _l("Ticket code"),
        validators=[Length(max=CHECKIN_CODE_LENGTH * 3)],
        description=_l("The 10 letters and digits under the QR code on the ticket."),
        # Latin letters and digits in groups: left to right on an Arabic page too, or the groups change places.
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "dir": "ltr"},
    )


class NameSearchForm(Form):
    """A name (any script), institution or ticket code, when the delegate has no ticket with them."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Name"),
        validators=[Length(max=MAX_QUERY_LENGTH)],
        description=_l("Family or given name in any script, institution, or the code of the ticket."),
        render_kw={"autocomplete": "off"},
    )


class ButtonForm(Form):
    """A button that needs only the CSRF token: check in, undo."""
