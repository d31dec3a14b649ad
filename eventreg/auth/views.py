"""Organizer login and logout."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..models import Right
from .access import public, requires
from .forms import LoginForm
from .services import authenticate, end_sessions

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    """Follow ?next= only to a path on this site, never to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("organizer.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """The login form for organizers."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        organizer = authenticate(form.email.data, form.password.data)
        if organizer is not None:
            session.permanent = True  # the login ends after PERMANENT_SESSION_LIFETIME, not only with the browser
            login_user(organizer)
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append(_("The email address or the password is not right."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@requires(Right.OWN_ACCOUNT)
def logout():
    """End the organizer's session, and every copy of its cookie."""
    end_sessions(current_user)
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("registration.index"))
