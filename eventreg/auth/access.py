"""Deny by default: every endpoint needs a logged-in organizer whose role carries the view's declared right,
unless the view is marked @public; API views authenticate with a bearer token instead of the session."""

from flask import Flask, abort, current_app, g, jsonify, request, session
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import audit
from ..events.services import event_by_slug
from ..extensions import db, login_manager
from ..models import Event, Organizer, Right
from ..security import is_public_endpoint, is_static, public
from .tokens import authenticate_token

# A view takes all its marks from here: `public` is defined in security.py, whose headers read it too.
__all__ = [
    "current_organizer",
    "init_app",
    "is_public_endpoint",
    "managed_event",
    "public",
    "requires",
    "token_required",
]


def requires(right: Right):
    """Declare the right a view needs; the request check refuses (403) every organizer whose role lacks it."""

    def mark(view):
        view.required_right = right
        return view

    return mark


def token_required(right: Right):
    """Declare an API view: it needs `Authorization: Bearer <token>` of an active organizer with this right."""

    def mark(view):
        view.token_right = right
        return view

    return mark


def current_organizer() -> Organizer | None:
    """Who is acting: the organizer behind the API token, else the logged-in organizer, else None."""
    if getattr(g, "api_organizer", None) is not None:
        return g.api_organizer
    return current_user if current_user.is_authenticated else None


def managed_event(slug: str) -> Event:
    """The event at `slug` if the acting organizer runs it; 404 when there is none, 403 when it is not theirs."""
    event = event_by_slug(slug)
    if event is None:
        abort(404)
    organizer = current_organizer()
    if organizer is None or not organizer.manages(event):
        abort(403)
    return event


def _json_error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="eventreg"'
    return response


def _require_token(right: Right):
    header = request.headers.get("Authorization", "")
    scheme, _space, raw = header.partition(" ")
    organizer = authenticate_token(raw.strip()) if scheme.lower() == "bearer" else None
    if organizer is None:
        return _json_error(401, _("A valid API token is needed: send it as 'Authorization: Bearer <token>'."))
    if not organizer.can(right):
        return _json_error(403, _("This token's account does not have the right to read this."))
    g.api_organizer = organizer
    return None


def _require_login():
    if is_public_endpoint(current_app, request.endpoint):
        return None
    view = current_app.view_functions.get(request.endpoint)
    token_right = getattr(view, "token_right", None)
    if token_right is not None:
        return _require_token(token_right)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    right = getattr(view, "required_right", None)
    if right is None or not current_user.can(right):
        abort(403)  # a view that declares no right is refused to everyone: deny by default
    return None


@login_manager.user_loader
def _load_organizer(session_token: str) -> Organizer | None:
    if not session_token or len(session_token) > 64:
        return None
    return db.session.scalar(select(Organizer).where(Organizer.session_token == session_token))


def _note_acting_organizer():
    """Name this request's organizer to the audit log, now that the login check has let the request through."""
    endpoint = request.endpoint
    if is_public_endpoint(current_app, endpoint) and (is_static(endpoint) or "_user_id" not in session):
        # A file records nothing, and without a login in the session (Flask-Login's key, as in sessions.py) the
        # answer is None anyway: asking Flask-Login would load the account, a query, for nothing.
        return None
    g.audit_organizer_reset = audit.acting_organizer.set(current_organizer())
    return None


def _forget_acting_organizer(_error: BaseException | None) -> None:
    reset = g.pop("audit_organizer_reset", None)
    if reset is not None:
        audit.acting_organizer.reset(reset)


def init_app(app: Flask) -> None:
    """Install the login and role check in front of every request, and name its organizer to the audit log."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.before_request(_require_login)
    app.before_request(_note_acting_organizer)
    app.teardown_request(_forget_acting_organizer)
