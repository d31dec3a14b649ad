"""The desk's JSON twins, for static/js/checkin.js (the camera) and the live numbers: the same rules as the pages,
the CSRF token in the X-CSRFToken header, and every error as {"error": "…"} with its status, never an HTML page.

An anonymous request is still redirected to the login page (the deny-by-default check runs first); the script
takes a reply that is not JSON as "log in again".
"""

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..auth.access import current_organizer, requires
from ..converters import MAX_ID
from ..errors import MESSAGES
from ..geo.countries import country_name
from ..geo.flags import flag_url
from ..locale_formats import number
from ..models import Event, Registration, Right
from ..registration.needs import may_see
from ..templating import category_label, status_label
from .counts import checkin_counts
from .services import (
    CheckInRefused,
    NotAtThisDesk,
    NotYourDesk,
    already_message,
    check_in,
    desk_event,
    find_by_code,
    refusal,
)
from .views import http_error

bp = Blueprint("checkin_json", __name__, url_prefix="/checkin")


def _error(status: int, message: str, **extra):
    response = jsonify(error=message, **extra)
    response.status_code = status
    return response


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError):
    return _error(400, _("The page's security token is missing or expired. Reload the page and try again."))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    code = error.code or 500
    return _error(code, str(MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500])))


@bp.errorhandler(NotAtThisDesk)
@bp.errorhandler(NotYourDesk)
def _desk_error(error: Exception):
    return _http_error(http_error(error))  # the same 404 or 403 as the pages, in JSON


def registration_json(event: Event, registration: Registration) -> dict:
    """What the desk shows of a delegate (access needs only to roles that may read them; never dietary needs)."""
    return {
        "id": registration.id,
        "name": registration.display_name,
        "native_name": registration.native_name,
        "country": {
            "code": registration.country,
            "name": country_name(registration.country),
            "flag": flag_url(registration.country),
        },
        "category": category_label(registration.category, registration.event_id),
        "accompanying": registration.accompanying,
        "access_needs": registration.accessibility if may_see(current_user, "accessibility") else None,
        "status": registration.status,
        "status_label": status_label(registration.status),
        "refusal": refusal(registration),
        "checked_in": registration.checked_in_at is not None,
        "already": already_message(event, registration) if registration.checked_in_at is not None else None,
        "card_url": url_for("checkin.card", slug=event.slug, registration_id=registration.id),
    }


def counts_json(event: Event) -> dict:
    """The check-in numbers with their headline in the request's language."""
    counts = checkin_counts(event).as_json()
    counts["headline"] = headline(counts["checked_in"], counts["expected"])
    # The figures as the reader's language writes them, for checkin-counts.js to show (the numbers stay numbers).
    for numbers in (counts, *counts["by_country"]):
        numbers["checked_in_text"] = number(numbers["checked_in"])
        numbers["expected_text"] = number(numbers["expected"])
    return counts


def headline(checked_in: int, expected: int) -> str:
    """'Checked in: 12 of 40 expected delegates'."""
    return ngettext(
        "Checked in: %(checked)d of %(num)d expected delegate",
        "Checked in: %(checked)d of %(num)d expected delegates",
        expected,
        checked=checked_in,
    )


@bp.get("/<slug:slug>/lookup.json")
@requires(Right.CHECK_IN)
def lookup(slug: str):
    """The delegate whose ticket has `?code=` (typed or scanned); 404 with the reason when there is none."""
    event = desk_event(slug, current_organizer())
    try:
        registration = find_by_code(event, request.args.get("code", ""))
    except CheckInRefused as refused:
        return _error(404, refused.message)
    return jsonify(registration=registration_json(event, registration))


@bp.post("/<slug:slug>/check-in.json")
@requires(Right.CHECK_IN)
def check_in_json(slug: str):
    """Check in the delegate named by {"code": …} or {"registration_id": …}: 200 with "checked_in_now" true the
    first time, false when they already were (and "message" says when and by whom); 409 for a refusal."""
    event = desk_event(slug, current_organizer())
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, _('Send a JSON object with "code" or "registration_id".'))
    registration_id = body.get("registration_id")
    try:
        if isinstance(body.get("code"), str):
            registration_id = find_by_code(event, body["code"]).id
        elif (
            not isinstance(registration_id, int)
            or isinstance(registration_id, bool)
            or not 1 <= registration_id <= MAX_ID
        ):
            return _error(400, _('Send a JSON object with "code" or "registration_id".'))
        result = check_in(event, registration_id, current_user)
    except CheckInRefused as refused:
        extra = {"registration": registration_json(event, refused.registration)} if refused.registration else {}
        return _error(409 if refused.registration else 404, refused.message, **extra)
    registration = result.registration
    message = (
        _("Checked in: %(name)s.", name=registration.display_name)
        if result.newly
        else already_message(event, registration)
    )
    return jsonify(
        checked_in_now=result.newly,
        message=message,
        registration=registration_json(event, registration),
        counts=counts_json(event),
    )


@bp.get("/<slug:slug>/counts.json")
@requires(Right.CHECK_IN)
def counts(slug: str):
    """Checked in against expected, in all and per country, for the desk and the dashboard to refresh."""
    return jsonify(counts_json(desk_event(slug, current_organizer())))
