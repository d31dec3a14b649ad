"""The organizer's own API tokens: list them, create one (shown once), revoke one."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired

from ..forms import Form, SingleLine, fits, strip
from ..models import ApiToken, Right
from .access import requires
from .tokens import TokenError, create_token, revoke_token, tokens_of

bp = Blueprint("tokens", __name__, url_prefix="/auth")


class TokenForm(Form):
    """The name of a new API token."""

    name = StringField(
        lazy_pgettext("API token", "Name"),
        description=_l("What the token is for, e.g. 'Badge printing script'."),
        filters=[strip],
        validators=[DataRequired(_l("Please give the token a name.")), fits(ApiToken.name), SingleLine()],
    )


class RevokeForm(Form):
    """A revoke button: only its CSRF token."""


@bp.route("/tokens", methods=["GET", "POST"])
@requires(Right.USE_API)
def index():
    """The organizer's API tokens, and the form that creates one."""
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, raw = create_token(current_user, form.name.data)
        except TokenError as error:
            form.form_errors.append(str(error))
        else:
            # Shown in the answer to the POST, never stored nor redirected to: this page is its only copy.
            page = render_template("auth/tokens_created.html", token=token, raw=raw)
            response = make_response(page, 201)
            response.headers["Cache-Control"] = "no-store"
            return response
    page = render_template("auth/tokens.html", form=form, tokens=tokens_of(current_user), revoke_form=RevokeForm())
    return page, 400 if form.errors or form.form_errors else 200


@bp.post("/tokens/<int:token_id>/revoke")
@requires(Right.USE_API)
def revoke(token_id: int):
    """Revoke one of the organizer's own tokens: it stops working at once."""
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    token = revoke_token(current_user, token_id)
    if token is None:
        abort(404)  # another organizer's token, or one already revoked: nothing to say about it
    flash(_("The token “%(name)s” is revoked; it no longer works.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
