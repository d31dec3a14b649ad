"""Login throttling: login attempts are counted per account (the address typed) and per client (network address).

Every attempt takes its hit before the password is checked, in one atomic step of the store: a count taken only
after a failure would let every attempt that arrives while the first ones are still being checked through, so 50
parallel guesses against a limit of 10 got 40 checks. A success keeps its hit (a moving window cannot give one
back); the limits leave room for that. Once a count is full, every login attempt it covers is refused with the
429 page until the window has moved on, even with the right password, so a guesser learns nothing from trying on.

A per-account limit lets anyone who knows an organizer's address keep that account locked as long as they keep
failing. So a browser that has logged in to the account before carries a signed "known device" cookie, and its
attempts are counted apart from everybody else's: a stranger's failures never lock out the organizer's own
browser, and a stolen cookie gives its thief only one more count of the same size (OWASP's device-cookie scheme).
"""

import hashlib
import secrets
from datetime import timedelta

from flask import Response, current_app, request, url_for
from flask_limiter.util import get_remote_address
from itsdangerous import BadData, URLSafeTimedSerializer

from ..extensions import limiter
from ..models import Organizer
from ..security import cookie_secure
from .services import login_key

DEVICE_COOKIE = "eventreg_login_device"
DEVICE_MAX_AGE = timedelta(days=180)
_DEVICE_SALT = "eventreg.login-device"


def _setting(name: str):
    return lambda: current_app.config[name]


def _account_digest(email: str) -> str:
    """The account the typed address names, hashed: the store never holds addresses."""
    return hashlib.sha256(login_key(email).encode()).hexdigest()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_DEVICE_SALT)


def known_device(account_digest: str) -> str | None:
    """The id of this browser's known-device cookie when it was issued for this account, else None."""
    cookie = request.cookies.get(DEVICE_COOKIE, "")
    if not cookie or len(cookie) > 500:
        return None
    try:
        payload = _serializer().loads(cookie, max_age=int(DEVICE_MAX_AGE.total_seconds()))
    except BadData:
        return None
    if not isinstance(payload, dict) or payload.get("account") != account_digest:
        return None
    device = payload.get("device")
    return device if isinstance(device, str) and device.isalnum() else None


def account_key() -> str:
    """The account typed into the login form, and the known device if this browser is one for it."""
    digest = _account_digest(request.form.get("email", ""))
    device = known_device(digest)
    return f"account:{digest}" + (f":device:{device}" if device else "")


def remember_device(response: Response, organizer: Organizer) -> Response:
    """Mark this browser as one that logged in to the account: its attempts get their own count from now on."""
    payload = {"account": _account_digest(organizer.email), "device": secrets.token_hex(16)}
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(payload),
        max_age=DEVICE_MAX_AGE,
        path=url_for("auth.login"),
        secure=cookie_secure(),  # as the session cookie: Secure on HTTPS
        httponly=True,
        samesite="Lax",
    )
    return response


# No `deduct_when`: Flask-Limiter then hits the count before the view runs, and refuses once it is full.
login_per_account = limiter.limit(
    _setting("LOGIN_LIMIT_PER_ACCOUNT"), key_func=account_key, methods=["POST"], scope="account"
)
login_per_ip = limiter.limit(_setting("LOGIN_LIMIT_PER_IP"), key_func=get_remote_address, methods=["POST"])
