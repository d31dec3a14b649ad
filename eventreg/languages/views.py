"""The language switcher's one URL: /language/<code> keeps the choice in its cookie and goes back to the page.

Anonymous visitors follow plain links (GET, `?next=` the page). A logged-in organizer's switcher, and the switcher
of a page whose address holds a secret, is a POST form (CSRF, `next` in the body), and an organizer's choice is
saved to the account as well, so the organizer pages follow it too.
"""

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from ..security import public  # not auth.access: auth's forms depend on this package, never the other way round
from . import offered_languages, remember_choice
from .services import set_account_language

bp = Blueprint("languages", __name__)
MAX_PATH_LENGTH = 2000


def local_path(target: str | None) -> str | None:
    """`target` when it is a path of this site ("/e/gala?x=1"); None for anything a browser could take elsewhere:
    another host ("//host", "/\\host", a scheme), control characters or spaces (which browsers drop), an overlong
    value."""
    if not target or len(target) > MAX_PATH_LENGTH or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    if any(character <= " " or character == "\x7f" for character in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.route("/language/<code>", methods=["GET", "POST"])
@public
def switch(code: str):
    """Read the site in `code` from now on (a cookie; for a logged-in organizer, the account too), then go back to
    the page the switcher was on; an unknown code is a 404."""
    if code not in offered_languages():
        abort(404)
    if request.method == "POST" and current_user.is_authenticated:
        set_account_language(current_user, code)
    back_to = request.form.get("next") if request.method == "POST" else request.args.get("next")
    response = redirect(local_path(back_to) or url_for("registration.index"), code=303)
    response.cache_control.no_store = True
    return remember_choice(response, code)
