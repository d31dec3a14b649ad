"""Forms of the account pages: a new account, a role, a password reset, event assignments, plain buttons."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, EqualTo
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth.forms import REQUIRED, new_password_field
from ..auth.services import ROLES
from ..forms import EmailAddress, Form, fits, strip
from ..models import ROLE_LABELS, Organizer


def _role_field() -> SelectField:
    return SelectField(
        _l("Role"),
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
        validators=[DataRequired(_l("Please choose a role."))],
        description=_l(
            "Administrators manage accounts and every event; organizers run the events assigned to them; "
            "check-in staff use only the check-in desk of the events assigned to them."
        ),
    )


class NewAccountForm(Form):
    """An organizer account: address, role and a first password to hand over."""

    email = EmailField(
        _l("Email"),
        validators=[DataRequired(REQUIRED), fits(Organizer.email), EmailAddress()],
        filters=[strip],
        render_kw={"autocomplete": "off"},
    )
    role = _role_field()
    password = new_password_field(_l("First password"))
    confirm_password = PasswordField(
        _l("First password, again"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class RoleForm(Form):
    """Another role for an account."""

    role = _role_field()


class ResetPasswordForm(Form):
    """A new password an administrator sets and hands over."""

    password = new_password_field(_l("New password"))
    confirm_password = PasswordField(
        _l("New password, again"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class AssignmentForm(Form):
    """The events an account runs, as checkboxes; the choices are set by the view."""

    events = SelectMultipleField(
        _l("Events this account runs"),
        coerce=int,
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        invalid_choice_message=_l("One of the chosen events no longer exists. Please reload the page and try again."),
    )


class ButtonForm(Form):
    """A POST-only button: nothing but the CSRF token."""
