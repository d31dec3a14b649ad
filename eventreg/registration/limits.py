"""Rate limits of the public forms (registration; lost link and change of email, which send mail on request), the
one 429 page of every limit (the login's are in auth/throttle.py), and an even answer time for the lost-link form.

The limits are settings (LOST_LINK_LIMIT_PER_ADDRESS, …), read at each request. They count POSTs only, valid or
not and whether or not a mail went out, so that the answers never tell a registered address from another.
"""

import functools
import hashlib
import logging
import time
import unicodedata
from contextlib import suppress

from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext, ngettext
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many

from ..errors import MESSAGES
from ..events.services import event_by_slug
from ..extensions import limiter


def _setting(name: str):
    return lambda: current_app.config[name]


def address_key() -> str:
    """The address typed into the form, normalised as the registration stores it (case, full-width letters and an
    IDNA domain make no fresh count), hashed: the store never holds addresses."""
    typed = unicodedata.normalize("NFKC", request.form.get("email", "")).strip()
    with suppress(EmailNotValidError):  # an invalid one is refused by the form, and counts under what was typed
        typed = validate_email(typed, check_deliverability=False, allow_smtputf8=False).normalized
    return "address:" + hashlib.sha256(typed.casefold().encode()).hexdigest()


def private_link_key() -> str:
    """The registration whose private link is used (hashed: the store never holds private links)."""
    token = (request.view_args or {}).get("token", "")
    return "link:" + hashlib.sha256(token.encode()).hexdigest()


# One count per address for every mail that carries an existing private link on request: the lost-link form's
# POSTs, and a registration form sent again for an address that is registered (answered with the lost-link mail).
LOST_LINK_ADDRESS_SCOPE = "address"
lost_link_per_address = limiter.shared_limit(
    _setting("LOST_LINK_LIMIT_PER_ADDRESS"), key_func=address_key, methods=["POST"], scope=LOST_LINK_ADDRESS_SCOPE
)


def lost_link_mail_allowed() -> bool:
    """Count one lost-link mail to the address typed into this request's form in the lost-link form's bucket
    (LOST_LINK_LIMIT_PER_ADDRESS); False, and nothing is to be sent, when the address has had its share. For the
    registration form, which answers the same either way and so never shows a 429."""
    return count_hit("LOST_LINK_LIMIT_PER_ADDRESS", address_key(), LOST_LINK_ADDRESS_SCOPE, what="a lost-link mail")


def count_hit(setting: str, *identifiers: str, what: str) -> bool:
    """One hit against the limits of `setting`, counted in Flask-Limiter's store under `identifiers` (after its key
    prefix, as its decorators count: every process together); False when a limit is reached. For actions that are
    refused quietly rather than with the 429 page. A store that fails now lets the action through, logged: the mail
    matters more than the count."""
    if not limiter.enabled:
        return True
    # The key prefix Flask-Limiter kept from the first app it was bound to (hence the private attribute).
    args = [arg for arg in (limiter._key_prefix, *identifiers) if arg]
    items = parse_many(current_app.config[setting])
    try:
        # Every item takes its hit, as Flask-Limiter's own check does: the first refusal does not spare the others.
        hits = [limiter.limiter.hit(item, *args) for item in items]
    except Exception:
        current_app.logger.warning("rate limit store unreachable: %s was not counted", what, exc_info=True)
        return True
    return all(hits)


lost_link_per_ip = limiter.limit(_setting("LOST_LINK_LIMIT_PER_IP"), key_func=get_remote_address, methods=["POST"])
email_change_per_registration = limiter.limit(
    _setting("EMAIL_CHANGE_LIMIT_PER_REGISTRATION"), key_func=private_link_key, methods=["POST"], scope="link"
)
email_change_per_ip = limiter.limit(
    _setting("EMAIL_CHANGE_LIMIT_PER_IP"), key_func=get_remote_address, methods=["POST"]
)
# Every POST of the registration form counts, valid or not (see REGISTRATION_LIMIT_PER_IP for the number chosen).
registration_per_ip = limiter.limit(
    _setting("REGISTRATION_LIMIT_PER_IP"), key_func=get_remote_address, methods=["POST"]
)

# What the 429 page says was counted: a limit's scope, else the form whose network address counts.
_SCOPES = {"address": "address", "link": "registration", "account": "account"}
_NETWORK_COUNTS = {"registration.register": "registrations", "auth.login": "logins"}


def too_many_requests(error):
    """The friendly 429 page: which limit was reached, and about how long to wait (Retry-After says it to programs;
    the other responses carry no rate-limit headers, RATELIMIT_HEADERS_ENABLED being off). JSON under /api/."""
    current = limiter.current_limit
    seconds = max(current.reset_at - time.time(), 1) if current is not None else None
    headers = {"Retry-After": str(int(seconds))} if seconds is not None else {}  # reset_at already adds a second
    if request.path.startswith("/api/"):
        return jsonify(error=str(MESSAGES[429])), 429, headers
    scope = getattr(getattr(error, "limit", None), "scope", None)
    reached = _SCOPES.get(scope) if isinstance(scope, str) else None
    reached = reached or _NETWORK_COUNTS.get(request.endpoint or "", "network")
    slug = (request.view_args or {}).get("slug")
    event = event_by_slug(slug) if reached == "registrations" and slug else None
    wait = wait_in_words(seconds) if seconds is not None else None
    return render_template("errors/429.html", reached=reached, wait=wait, event=event), 429, headers


def even_answer_time(setting: str):
    """Make a view's POSTs take at least the configured seconds, so that how much work the answer took (a mail
    queued for a registered address, nothing for another) does not show in its timing, as long as the work
    takes less than that."""

    def decorate(view):
        @functools.wraps(view)
        def padded(*args, **kwargs):
            started = time.perf_counter()
            try:
                return view(*args, **kwargs)
            finally:
                if request.method == "POST":
                    left = float(current_app.config[setting]) - (time.perf_counter() - started)
                    if left > 0:
                        time.sleep(left)

        return padded

    return decorate


class _AppLogHandler(logging.Handler):
    """Passes a record on to the app's logger, so that it shows wherever the app's own messages do."""

    def __init__(self, app_logger: logging.Logger):
        super().__init__()
        self.app_logger = app_logger

    def emit(self, record: logging.LogRecord) -> None:
        self.app_logger.log(record.levelno, "%s", record.getMessage(), exc_info=record.exc_info)


def init_app(app: Flask) -> None:
    """Show the 429 page for every limit of the site (the blueprints' own limits and any added later), and log
    Flask-Limiter's warnings (above all "Rate limit storage unreachable - falling back to in-memory storage")."""
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    # Flask-Limiter's logger has only a NullHandler: unless the root logger is configured (gunicorn does not), its
    # warnings would go nowhere. They go through the app's logger instead, once (every app here is "eventreg").
    if not any(isinstance(handler, _AppLogHandler) for handler in limiter.logger.handlers):
        limiter.logger.addHandler(_AppLogHandler(app.logger))
        limiter.logger.propagate = False


def wait_in_words(seconds: float) -> str:
    """About how long `seconds` is, for people: rounded to the nearest minute, or hour from 55 minutes on (an
    hourly limit reached just now reads "about an hour", not "about 61 minutes")."""
    minutes = max(round(seconds / 60), 1)
    if minutes < 55:
        return ngettext("about %(num)d minute", "about %(num)d minutes", minutes)
    hours = max(round(seconds / 3600), 1)
    if hours == 1:
        return gettext("about an hour")
    return ngettext("about %(num)d hour", "about %(num)d hours", hours)
