"""Read-only API views: every one needs an API token whose organizer may use the API (401/403 otherwise),
and answers JSON, errors included. Events of other organizers answer 403, as the organizer pages do."""

from functools import cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import stats
from ..attendees.filters import AttendeeFilter
from ..auth.access import current_organizer, managed_event, public, token_required
from ..delegations.services import delegation_rows
from ..events.services import events_run_by
from ..extensions import db
from ..messages.queries import message_counts, messages_of_event
from ..models import Right
from ..pagination import requested_page
from ..stats.invitations import invitation_counts, invitation_totals
from .serialize import delegation_json, event_json, guest_facts, message_json, registration_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
# Every paged list takes `per_page` with these bounds (openapi.json's PerPage parameter says the same).
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


def api_error(status: int, message: str, problems: list[str] | None = None):
    """A JSON error response: {"error": …} and, for refused input, the list of problems."""
    body = {"error": message}
    if problems:
        body["problems"] = problems
    response = jsonify(body)
    response.status_code = status
    return response


def _whole_number(name: str, default: int, lowest: int, highest: int) -> tuple[int, str | None]:
    """A query argument that must be a whole number within limits: (value, problem or None)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default, None
    # The length first: int() refuses more than 4,300 digits with a ValueError.
    if raw.isascii() and raw.isdigit() and len(raw.lstrip("0")) <= len(str(highest)) and lowest <= int(raw) <= highest:
        return int(raw), None
    return default, _(
        "%(name)s must be a whole number from %(lowest)d to %(highest)d.", name=name, lowest=lowest, highest=highest
    )


def requested_per_page() -> tuple[int, list[str]]:
    """The `per_page` of a paged list (DEFAULT_PER_PAGE when not given) and its problem, if it is out of range."""
    per_page, problem = _whole_number("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    return per_page, [problem] if problem else []


def page_json(items: list, page: int, per_page: int, result) -> dict:
    """One page of a list as every paged endpoint answers it: its items and where the page stands."""
    return {"items": items, "page": page, "per_page": per_page, "total": result.total, "pages": result.pages}


def bad_parameters(problems: list[str]):
    """The 400 answer to parameters that were not understood."""
    return api_error(400, _("The request's parameters were not understood; nothing was read."), problems)


@bp.get("/openapi.json")
@public
def openapi():
    """The API's description, in OpenAPI 3.1."""
    return current_app.response_class(_openapi_text(), mimetype="application/json")


@cache
def _openapi_text() -> str:
    return OPENAPI_FILE.read_text(encoding="utf-8")


@bp.get("/events")
@token_required(Right.USE_API)
def events():
    """The events the token's organizer runs."""
    return jsonify(items=[event_json(event) for event in events_run_by(current_organizer())])


@bp.get("/events/<slug:slug>")
@token_required(Right.USE_API)
def event(slug: str):
    """One event."""
    return jsonify(event_json(managed_event(slug)))


@bp.get("/events/<slug:slug>/stats")
@token_required(Right.USE_API)
def event_stats(slug: str):
    """The event's numbers, the same as its dashboard shows, with names in English (as every name the API gives)."""
    with force_locale("en"):
        return jsonify(stats.event_report(managed_event(slug)))


@bp.get("/events/<slug:slug>/registrations")
@token_required(Right.USE_API)
def event_registrations(slug: str):
    """One page of the event's registrations, filtered and sorted as the attendee list is. The page number is
    clamped as on every list (`page` in the answer says which page it is); a page past the last one is empty."""
    event = managed_event(slug)
    attendee_filter, problems = AttendeeFilter.from_args(request.args)
    page = requested_page(request.args)
    per_page, per_page_problems = requested_per_page()
    problems += per_page_problems
    if problems:
        return bad_parameters(problems)
    # Sorted by the English names of countries and regions: the names the API gives.
    result = db.paginate(attendee_filter.select(event, "en"), page=page, per_page=per_page, error_out=False, count=True)
    organizer = current_organizer()
    places = stats.waitlist_positions(event.id, (registration.id for registration in result.items))
    facts = guest_facts(event, result.items)
    items = [
        registration_json(registration, organizer, places.get(registration.id), facts) for registration in result.items
    ]
    return jsonify(page_json(items, page, per_page, result))


@bp.get("/events/<slug:slug>/delegations")
@token_required(Right.USE_API)
def event_delegations(slug: str):
    """The event's delegations by name, each with its quota and how many members registered, confirmed and
    checked in (the organizers' delegation list)."""
    return jsonify(items=[delegation_json(row) for row in delegation_rows(managed_event(slug))])


@bp.get("/events/<slug:slug>/invitation-counts")
@token_required(Right.USE_API)
def event_invitation_counts(slug: str):
    """The event's invitations counted by status, and the dashboard's invited / registered / declined / not
    answered."""
    counts = invitation_counts(managed_event(slug).id)
    return jsonify(by_status=counts, **invitation_totals(counts))


@bp.get("/events/<slug:slug>/messages")
@token_required(Right.USE_API)
def event_messages(slug: str):
    """One page of the event's messages to delegates and reminders, newest first, each with its mails by state
    (the organizers' Messages page). The page number is clamped as on every list; a page past the last one is
    empty."""
    event = managed_event(slug)
    page = requested_page(request.args)
    per_page, problems = requested_per_page()
    if problems:
        return bad_parameters(problems)
    result = messages_of_event(event, page, per_page)
    counts = message_counts(event.id)
    items = [message_json(message, counts.get(message.id, {})) for message in result.items]
    return jsonify(page_json(items, page, per_page, result))
