"""Organizer login, logout and one's own account."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_user

from ..languages.services import set_account_language
from ..models import ROLE_LABELS, Right
from . import throttle
from .access import public, requires
from .forms import AccountLanguageForm, ChangePasswordForm, LoginForm
from .services import AccountError, authenticate, change_own_password, end_sessions, home_endpoint
from .sessions import end_session, start_session

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None, organizer) -> str:
    """Follow ?next= only to a path on this site, never to another host; else the organizer's home page."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for(home_endpoint(organizer))


@bp.route("/login", methods=["GET", "POST"])
@public
@throttle.login_per_account
@throttle.login_per_ip
def login():
    """The login form for organizers; login attempts are limited per account and per client (throttle.py)."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next"), current_user))
    form = LoginForm()
    if form.validate_on_submit():
        organizer = authenticate(form.email.data, form.password.data)
        if organizer is not None:
            start_session(organizer)
            return throttle.remember_device(redirect(_safe_next(request.args.get("next"), organizer)), organizer)
        form.form_errors.append(_("The email address or the password is not right."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@requires(Right.OWN_ACCOUNT)
def logout():
    """End the organizer's session, and every copy of its cookie."""
    end_sessions(current_user)
    end_session()
    flash(_("You have logged out."), "success")
    return redirect(url_for("registration.index"))


@bp.route("/account", methods=["GET", "POST"])
@requires(Right.OWN_ACCOUNT)
def account():
    """One's own account: address and role, and a form to change the password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            organizer = change_own_password(current_user, form.current_password.data, form.new_password.data)
        except AccountError as error:
            field = form.current_password if error.field == "current_password" else form.new_password
            field.errors.append(str(error))
        else:
            # Every other session ended with the old token; this browser carries on with the new one.
            login_user(organizer)
            flash(
                _(
                    "Your password has been changed. Every other session of this account has ended, and its API "
                    "tokens are revoked."
                ),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html",
        form=form,
        language_form=AccountLanguageForm(data={"language": current_user.language}),
        role_label=ROLE_LABELS.get(current_user.role, current_user.role),
    )


@bp.post("/account/language")
@requires(Right.OWN_ACCOUNT)
def account_language():
    """Save the language of one's organizer pages (empty: as the browser asks)."""
    form = AccountLanguageForm()
    if form.validate_on_submit():
        set_account_language(current_user, form.language.data)
        refresh()  # this request's messages in the language just chosen
        flash(_("The language of your organizer pages is saved."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("auth.account"))
