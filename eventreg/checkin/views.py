"""The check-in desk pages: the events one may staff, the desk (code, name search, camera), a delegate's card
with its "Check in" button, and the organizer's undo. Everything works without scripts; checkin.js adds the
camera and json_views.py answers it."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import managed_event, requires
from ..models import Right
from .counts import checkin_counts
from .forms import ButtonForm, CodeForm, NameSearchForm
from .services import (
    SEARCH_LIMIT,
    CheckInRefused,
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
    event = desk_event(slug)
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
    event = desk_event(slug)
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


@bp.post("/<slug:slug>/r/<int:registration_id>/check-in")
@requires(Right.CHECK_IN)
def check_in_view(slug: str, registration_id: int):
    """Check the delegate in (once: a second tap says when and by whom), then show the card again."""
    event = desk_event(slug)
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            result = check_in(event, registration_id, current_user)
        except CheckInRefused as refused:
            flash(refused.message, "error")
        else:
            if result.newly:
                flash(_("Checked in: %(name)s.", name=result.registration.display_name), "success")
            else:
                flash(already_message(event, result.registration), "error")
    return redirect(url_for(".card", slug=event.slug, registration_id=registration_id))


@bp.post("/<slug:slug>/r/<int:registration_id>/undo")
@requires(Right.MANAGE_EVENTS)
def undo(slug: str, registration_id: int):
    """Take a check-in back: organizers of the event only, never the desk staff."""
    event = managed_event(slug)
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            registration = undo_check_in(event, registration_id, current_user)
        except CheckInRefused as refused:
            flash(refused.message, "error")
        else:
            flash(_("The check-in of %(name)s is undone.", name=registration.display_name), "success")
    return redirect(url_for(".card", slug=event.slug, registration_id=registration_id))
