"""Rate limits of the public forms that send mail on request (lost link, change of email), and their 429 page.

The limits are settings (LOST_LINK_LIMIT_PER_ADDRESS, …), read at each request. They count POSTs only, valid or
not and whether or not a mail went out, so that the answers never tell a registered address from another.
"""

import hashlib
import time
import unicodedata
from contextlib import suppress

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template, request
from flask_babel import gettext, ngettext
from flask_limiter.util import get_remote_address

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


lost_link_per_address = limiter.limit(
    _setting("LOST_LINK_LIMIT_PER_ADDRESS"), key_func=address_key, methods=["POST"], scope="address"
)
lost_link_per_ip = limiter.limit(_setting("LOST_LINK_LIMIT_PER_IP"), key_func=get_remote_address, methods=["POST"])
email_change_per_registration = limiter.limit(
    _setting("EMAIL_CHANGE_LIMIT_PER_REGISTRATION"), key_func=private_link_key, methods=["POST"], scope="link"
)
email_change_per_ip = limiter.limit(
    _setting("EMAIL_CHANGE_LIMIT_PER_IP"), key_func=get_remote_address, methods=["POST"]
)


def too_many_requests(error):
    """The friendly 429 page: which limit was reached, and about how long to wait (Retry-After says it to programs;
    the other responses carry no rate-limit headers, RATELIMIT_HEADERS_ENABLED being off)."""
    current = limiter.current_limit
    seconds = max(current.reset_at - time.time(), 1) if current is not None else None
    headers = {"Retry-After": str(int(seconds))} if seconds is not None else {}  # reset_at already adds a second
    key_func = getattr(getattr(error, "limit", None), "key_func", None)
    reached = {address_key: "address", private_link_key: "registration"}.get(key_func, "network")
    wait = wait_in_words(seconds) if seconds is not None else None
    return render_template("errors/429.html", reached=reached, wait=wait), 429, headers


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
