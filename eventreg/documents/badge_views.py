"""Name badges: a run for the attendee list's filter or selection (rendered in the request when small, else a
document job), and one delegate's badge at the check-in desk (rendered in the request)."""

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden, NotFound

from ..attendees.filters import AttendeeFilter
from ..auth.access import current_organizer, managed_event, requires
from ..checkin.services import NotAtThisDesk, NotYourDesk, desk_event, refusal, registration_at_desk
from ..extensions import db
from ..forms import ConfirmForm
from ..languages import language_choices, offered_languages
from ..models import Right
from .badge_layouts import DEFAULT_LAYOUT, LAYOUTS
from .badges import (
    UnknownLayout,
    badge_filename,
    badge_pdf,
    badge_selection,
    count_of,
    layout_keys,
    run_params,
)
from .jobs import create_job

bp = Blueprint("badges", __name__, url_prefix="/organizer")


@bp.app_template_global()
def badge_choices(event) -> dict[str, list[tuple[str, str]]]:
    """The attendee list's badge control: its layouts and languages as (value, label)."""
    layouts = [
        (key, str(LAYOUTS[key].label) if key in LAYOUTS else _("Custom label sheet")) for key in layout_keys(event)
    ]
    languages = [(choice.value, choice.label) for choice in language_choices()]
    return {"layouts": layouts, "languages": languages}


MAX_IDS = 1000


def _pdf_response(pdf: bytes, filename: str) -> Response:
    """The PDF shown in the browser (inline), ready to print; never cached (it names people)."""
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _bad_request(problems: list[str]) -> Response:
    message = " ".join([_("No badges were made:"), *problems])
    return Response(render_template("error.html", code=400, message=message), status=400)


def _run_request(event):
    """The run the request asks for: (filter, ids, layout, crop, language), or a list of problems."""
    values = request.values
    attendee_filter, problems = AttendeeFilter.from_args(values)
    raw_ids = values.getlist("ids")
    if raw_ids:
        # Ticked rows are printed whatever the filter (the list's bulk form also posts its own "category" field).
        attendee_filter, problems = AttendeeFilter(), []
    layout = values.get("layout", DEFAULT_LAYOUT)
    if layout not in layout_keys(event):
        problems.append(_("The layout %(layout)s is not offered.", layout=layout[:40]))
    language = values.get("language") or None
    if language is not None and language not in offered_languages():
        problems.append(_("The language %(language)s is not offered.", language=language[:20]))
    if request.method == "POST" and not raw_ids and values.get("confirm") != "yes":
        problems.append(_("Please tick at least one registration."))
    if not all(value.isascii() and value.isdigit() and 0 < int(value) < 2**31 for value in raw_ids):
        problems.append(_("The ticked rows were not understood. Please tick them again."))
    elif len(raw_ids) > MAX_IDS:
        problems.append(_("Please tick at most %(count)d registrations.", count=MAX_IDS))
    ids = sorted({int(value) for value in raw_ids}) if not problems else []
    return attendee_filter, ids, layout, values.get("crop") in ("1", "y", "yes", "on"), language, problems


@bp.route("/events/<slug:slug>/badges.pdf", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def badges_pdf(slug: str):
    """Badges of the attendee list's filter or of the ticked rows: the PDF itself for a small run, else a page
    that offers to render it as a document job (POST with confirm=yes creates the job)."""
    event = managed_event(slug)
    attendee_filter, ids, layout, crop, language, problems = _run_request(event)
    if problems:
        return _bad_request(problems)
    query = badge_selection(event, attendee_filter, ids)
    count = count_of(query)
    if count == 0:
        # Without a status filter only confirmed delegates get a badge: say so, as the list shows every status.
        return _bad_request([_("No confirmed registration matches; filter the list by status to print others.")])
    form = ConfirmForm()
    if request.method == "POST" and request.form.get("confirm") == "yes" and form.validate_on_submit():
        params = run_params(attendee_filter, ids, layout, crop, language)
        job = create_job(event, "badges", params, current_organizer())
        return redirect(url_for("documents.show_job", slug=slug, job_id=job.id))
    if count > current_app.config["BADGES_IN_REQUEST"]:
        return render_template(
            "documents/badges_confirm.html",
            event=event,
            count=count,
            form=form,
            params=run_params(attendee_filter, ids, layout, crop, language),
            back_url=url_for("attendees.list_registrations", slug=slug, **attendee_filter.query_args()),
        )
    try:
        pdf = badge_pdf(event, db.session.scalars(query), layout=layout, language=language, crop_marks=crop)
    except UnknownLayout:
        return _bad_request([_("The layout %(layout)s is not offered.", layout=layout)])
    return _pdf_response(pdf, badge_filename(event))


@bp.get("/events/<slug:slug>/checkin/<int:registration_id>/badge.pdf")
@requires(Right.CHECK_IN)
def desk_badge(slug: str, registration_id: int):
    """One delegate's badge at the check-in desk, one badge per page, to print on arrival."""
    try:
        event = desk_event(slug, current_organizer())
        registration = registration_at_desk(event, registration_id)
    except NotAtThisDesk:
        raise NotFound() from None
    except NotYourDesk:
        raise Forbidden() from None
    if registration.erased_at is not None:
        abort(404)
    if (problem := refusal(registration)) is not None:  # no badge for someone the desk does not admit
        return Response(render_template("error.html", code=409, message=problem), status=409)
    pdf = badge_pdf(event, [registration], layout="single")
    return _pdf_response(pdf, f"badge-{registration.id}.pdf")
