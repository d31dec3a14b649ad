"""The organizer login form and the forms of one's own account: the password, the language."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import Form, SingleLine
from ..languages import language_choices
from .services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

REQUIRED = _l("Please fill in this field.")


def new_password_field(label) -> PasswordField:
    """A field for a new password, with the length rule shown as its hint."""
    return PasswordField(
        label,
        validators=[
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l(
                    "Between %(min)d and %(max)d characters, please.", min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH
                ),
            ),
        ],
        description=_l("At least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(Form):
    """Email and password of an organizer."""

    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Length(max=254), SingleLine()])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=MAX_PASSWORD_LENGTH)])


class ChangePasswordForm(Form):
    """One's own password: the current one, then the new one twice."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = new_password_field(_l("New password"))
    confirm_password = PasswordField(
        _l("New password, again"),
        validators=[DataRequired(REQUIRED), EqualTo("new_password", message=_l("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class AccountLanguageForm(Form):
    """The language of one's organizer pages: an offered one, or none (the browser's)."""

    language = SelectField(
        _l("Language of the organizer pages"),
        description=_l("The public pages follow the language chosen at the top of each page."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices(blank=_l("As my browser is set"))
