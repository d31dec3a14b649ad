"""Rate limits of the public forms that send mail on request (lost link, change of email), and their 429 page.

The limits are settings (LOST_LINK_LIMIT_PER_ADDRESS, …), read at each request. They count POSTs only, valid or
not and whether or not a mail went out, so that the answers never tell a registered address from another.
"""

import hashlib
import math
import time
import unicodedata
from contextlib import suppress

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template, request
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
    """The friendly 429 page: what happened, and about how long to wait (Retry-After says it to programs)."""
    current = limiter.current_limit
    minutes = max(math.ceil((current.reset_at - time.time()) / 60), 1) if current is not None else None
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return render_template("errors/429.html", minutes=minutes), 429, headers
