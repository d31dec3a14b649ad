"""The organizer login form."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..forms import Form, SingleLine


class LoginForm(Form):
    """Email and password of an organizer."""

    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Please fill in this field.")), Length(max=254), SingleLine()]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Please fill in this field.")), Length(max=1024)]
    )
