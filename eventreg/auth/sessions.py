"""Organizer sessions: a fresh one at every login, nothing left at logout, and an end after SESSION_IDLE_MINUTES
without activity or PERMANENT_SESSION_LIFETIME after the login, whichever comes first.

Both times are kept in the signed session cookie and checked here on every request, because the cookie's own expiry
moves on with each request (Flask refreshes a permanent session's cookie). A page's automatic refreshes are not
activity: a desk or dashboard left open keeps polling its numbers with nobody in front of it.
"""

import time

from flask import Flask, current_app, flash, request, session
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from ..models import Organizer

LOGGED_IN_AT = "logged_in_at"  # seconds since the epoch, as the session cookie holds them
ACTIVE_AT = "active_at"
# The JSON that static/js/poll.js fetches by itself: the check-in counts (desk, dashboard) and the public counter.
POLLING_ENDPOINTS = frozenset(
    {"checkin_json.counts", "counter.delegates_json", "invitations.import_progress", "documents.job_status"}
)


def start_session(organizer: Organizer) -> None:
    """Log the organizer in on an empty session: nothing from before (a CSRF token, a flash) carries over."""
    session.clear()
    session.permanent = True  # the cookie outlives the browser window; the times above end the login
    login_user(organizer)
    session[LOGGED_IN_AT] = session[ACTIVE_AT] = int(time.time())


def end_session() -> None:
    """Log out of this browser and empty its session, CSRF token included."""
    logout_user()
    session.clear()


def _expired(now: float) -> bool:
    logged_in_at, active_at = session.get(LOGGED_IN_AT), session.get(ACTIVE_AT)
    if not isinstance(logged_in_at, int) or not isinstance(active_at, int):
        return True  # a session from before these times were kept: log in again once
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    idle = float(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    return now - logged_in_at >= lifetime or now - active_at >= idle


def _check_session_age():
    """End a logged-in session that has been idle or alive too long; note activity on the others."""
    if "_user_id" not in session:
        return None
    now = time.time()
    polling = request.endpoint in POLLING_ENDPOINTS
    if _expired(now):
        end_session()
        if not polling:  # a poll's answer is never shown: keep the message for the next page
            flash(_("Your session has ended. Please log in again."), "info")
        return None  # the login check that follows treats the request as anonymous
    if not polling:
        session[ACTIVE_AT] = int(now)
    return None


def init_app(app: Flask) -> None:
    """Check the session's age before the login check of every request."""
    app.before_request(_check_session_age)
