"""The check-in desk pages: the events one may staff, the desk (code, name search, camera), a delegate's card
with its "Check in" button, and the organizer's undo. Everything works without scripts; checkin.js adds the
camera and json_views.py answers it."""

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import Forbidden, HTTPException, NotFound

from ..auth.access import current_organizer, managed_event, requires
from ..models import Event, Right
from .counts import checkin_counts
from .forms import ButtonForm, CodeForm, NameSearchForm
from .services import (
    SEARCH_LIMIT,
    CheckInRefused,
    NotAtThisDesk,
    NotYourDesk,
    already_message,
    check_in,
    desk_event,
    desk_events,
    find_by_code,
    refusal,
    registration_at_desk,
    search_by_name,
    undo_check_in,
)

bp = Blueprint("checkin", __name__, url_prefix="/checkin")

# The desk's domain errors as HTTP errors; json_views.py answers the same ones in JSON.
HTTP_ERRORS: dict[type[Exception], type[HTTPException]] = {NotAtThisDesk: NotFound, NotYourDesk: Forbidden}


def http_error(error: Exception) -> HTTPException:
    """The HTTP error a desk refusal is: 404 for no such event or registration, 403 for someone else's desk."""
    return HTTP_ERRORS[type(error)]()


@bp.errorhandler(NotAtThisDesk)
@bp.errorhandler(NotYourDesk)
def _desk_error(error: Exception):
    return current_app.handle_http_exception(http_error(error))  # the app's error page, like any 404 or 403


def _desk_page(event, code_form, search_form, problem=None, results=None):
    return render_template(
        "checkin/desk.html",
        event=event,
        code_form=code_form,
        search_form=search_form,
        problem=problem,
        results=results,
        search_limit=SEARCH_LIMIT,
        counts=checkin_counts(event),
        refresh_seconds=current_app.config["COUNTER_REFRESH_SECONDS"],
    )


@bp.get("/")
@requires(Right.CHECK_IN)
def index():
    """The events whose desk the account may staff."""
    return render_template("checkin/index.html", events=desk_events(current_user))


@bp.get("/<slug:slug>")
@requires(Right.CHECK_IN)
def desk(slug: str):
    """The desk: type or scan a ticket's code, or search by name; a code found opens the delegate's card."""
    event = desk_event(slug, current_organizer())
    code_form, search_form = CodeForm(request.args), NameSearchForm(request.args)
    code = (code_form.code.data or "").strip()
    query = (search_form.q.data or "").strip()
    if code:
        try:
            registration = find_by_code(event, code)
        except CheckInRefused as refused:
            return _desk_page(event, code_form, search_form, problem=refused.message)
        return redirect(url_for(".card", slug=event.slug, registration_id=registration.id))
    results = search_by_name(event, query) if query else None
    return _desk_page(event, code_form, search_form, results=results)


@bp.get("/<slug:slug>/r/<int:registration_id>")
@requires(Right.CHECK_IN)
def card(slug: str, registration_id: int):
    """One delegate: who they are, who comes with them, their access needs, and the "Check in" button."""
    event = desk_event(slug, current_organizer())
    registration = registration_at_desk(event, registration_id)
    already = already_message(event, registration) if registration.checked_in_at is not None else None
    return render_template(
        "checkin/card.html",
        event=event,
        registration=registration,
        problem=refusal(registration),
        already=already,
        form=ButtonForm(),
        counts=checkin_counts(event),
    )


def _press(event: Event, registration_id: int, action: Callable[[], tuple[str, str]]):
    """A button on the card: with a valid form, run `action` and flash the (message, category) it returns, or the
    refusal as an error; then back to the card either way."""
    if ButtonForm().validate_on_submit():
        try:
            message, category = action()
        except CheckInRefused as refused:
            message, category = refused.message, "error"
        flash(message, category)
    return redirect(url_for(".card", slug=event.slug, registration_id=registration_id))


@bp.post("/<slug:slug>/r/<int:registration_id>/check-in")
@requires(Right.CHECK_IN)
def check_in_view(slug: str, registration_id: int):
    """Check the delegate in (once: a second tap says when and by whom), then show the card again."""
    event = desk_event(slug, current_organizer())

    def check_in_once() -> tuple[str, str]:
        result = check_in(event, registration_id, current_user)
        if result.newly:
            return _("Checked in: %(name)s.", name=result.registration.display_name), "success"
        return already_message(event, result.registration), "error"

    return _press(event, registration_id, check_in_once)


@bp.post("/<slug:slug>/r/<int:registration_id>/undo")
@requires(Right.MANAGE_EVENTS)
def undo(slug: str, registration_id: int):
    """Take a check-in back: organizers of the event only, never the desk staff."""
    event = managed_event(slug)

    def undo_once() -> tuple[str, str]:
        registration = undo_check_in(event, registration_id, current_user)
        return _("The check-in of %(name)s is undone.", name=registration.display_name), "success"

    return _press(event, registration_id, undo_once)
