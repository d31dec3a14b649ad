"""Deny by default: every endpoint needs a logged-in organizer unless its view is marked @public."""

from flask import Flask, current_app, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db, login_manager
from ..models import Organizer


def public(view):
    """Mark a view as reachable without logging in."""
    view.is_public = True
    return view


def is_public_endpoint(app: Flask, endpoint: str | None) -> bool:
    """True for endpoints anyone may reach: static files and views marked @public."""
    if endpoint is None or endpoint == "static" or endpoint.endswith(".static"):
        return True
    view = app.view_functions.get(endpoint)
    return bool(getattr(view, "is_public", False))


def _require_login():
    if is_public_endpoint(current_app, request.endpoint):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@login_manager.user_loader
def _load_organizer(session_token: str) -> Organizer | None:
    if not session_token or len(session_token) > 64:
        return None
    return db.session.scalar(select(Organizer).where(Organizer.session_token == session_token))


def init_app(app: Flask) -> None:
    """Install the login check in front of every request."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.before_request(_require_login)
