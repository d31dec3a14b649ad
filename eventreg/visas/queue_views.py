"""The organizers' visa queue: requests pending, issued and refused; issue one or many, refuse with a reason,
download a letter."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..auth.access import current_organizer, managed_event, requires
from ..forms import ConfirmForm
from ..models import LETTER_STATE_LABELS, VISA_STATE_LABELS, Right
from ..registration import limits
from .letters import render_letter
from .queue import VisaRefused, issue_letters, issue_pending, refuse_request, withdraw_letter
from .queue_forms import IssueAllForm, RefuseForm
from .queue_queries import QUEUE_STATES, event_letter, queue_counts, queue_rows, requests_without_details

MAX_SELECTED = 1000  # more ids than any queue holds: a larger post is not from the page

bp = Blueprint("visas", __name__, url_prefix="/organizer")
bp.register_error_handler(429, limits.too_many_requests)


def _back(slug: str, state: str = "pending"):
    return redirect(url_for(".visa_queue", slug=slug, state=state))


def _issued_message(count: int) -> str:
    return ngettext(
        "%(num)d visa letter issued; its mail is on its way.",
        "%(num)d visa letters issued; their mails are on their way.",
        count,
    )


@bp.route("/events/<slug:slug>/visas")
@requires(Right.VISA_LETTERS)
def visa_queue(slug: str):
    """The visa queue of an event, one state at a time (?state=pending|issued|refused|incomplete)."""
    event = managed_event(slug)
    state = request.args.get("state", "pending")
    if state not in QUEUE_STATES:
        state = "pending"
    return render_template(
        "visas/queue.html",
        event=event,
        state=state,
        rows=queue_rows(event, state),
        without_details=requests_without_details(event) if state == "incomplete" else [],
        counts=queue_counts(event),
        confirm_form=ConfirmForm(),
        refuse_form=RefuseForm(),
        issue_all_form=IssueAllForm(),
        visa_state_labels=VISA_STATE_LABELS,
        letter_state_labels=LETTER_STATE_LABELS,
    )


@bp.route("/events/<slug:slug>/visas/issue", methods=["POST"])
@requires(Right.VISA_LETTERS)
def issue_selected(slug: str):
    """Issue letters to the requests ticked in the queue."""
    event = managed_event(slug)
    form = ConfirmForm()
    raw = request.form.getlist("application_id")[:MAX_SELECTED]
    ids = [int(value) for value in raw if value.isdigit() and len(value) < 12]
    if form.validate_on_submit():
        _issue(event, ids)
    return _back(slug)


@bp.route("/events/<slug:slug>/visas/issue-all", methods=["POST"])
@requires(Right.VISA_LETTERS)
def issue_all(slug: str):
    """Issue letters to every complete pending request, once the box is ticked."""
    event = managed_event(slug)
    form = IssueAllForm()
    if not form.validate_on_submit():
        for error in form.confirm.errors or form.form_errors or [_("The form expired: try again.")]:
            flash(error, "error")
        return _back(slug)
    try:
        letters = issue_pending(event, current_organizer())
    except VisaRefused as refusal:
        flash(refusal.message, "error")
    else:
        if letters:
            flash(_issued_message(len(letters)), "success")
        else:
            flash(_("There is no pending request to issue."), "info")
    return _back(slug)


def _issue(event, ids: list[int]) -> None:
    """Issue letters to the requests `ids` and say how it went."""
    try:
        letters = issue_letters(event, ids, current_organizer())
    except VisaRefused as refusal:
        flash(refusal.message, "error")
    else:
        flash(_issued_message(len(letters)), "success")


@bp.route("/events/<slug:slug>/visas/<int:application_id>/refuse", methods=["POST"])
@requires(Right.VISA_LETTERS)
def refuse(slug: str, application_id: int):
    """Refuse one pending request, with the reason."""
    event = managed_event(slug)
    form = RefuseForm()
    if not form.validate_on_submit():
        for error in form.reason.errors or form.form_errors or [_("The form expired: try again.")]:
            flash(error, "error")
        return _back(slug)
    try:
        refuse_request(event, application_id, form.reason.data, current_organizer())
    except VisaRefused as refusal:
        flash(refusal.message, "error")
        return _back(slug)
    flash(_("The request was refused."), "success")
    return _back(slug, "refused")


@bp.route("/events/<slug:slug>/visas/letters/<int:letter_id>/withdraw", methods=["POST"])
@requires(Right.VISA_LETTERS)
def withdraw(slug: str, letter_id: int):
    """Withdraw a valid letter; its request goes back to pending."""
    event = managed_event(slug)
    if ConfirmForm().validate_on_submit():
        try:
            letter = withdraw_letter(event, letter_id, current_organizer())
        except VisaRefused as refusal:
            flash(refusal.message, "error")
        else:
            flash(_("The letter %(number)s was withdrawn.", number=letter.number), "success")
    return _back(slug, "issued")


@bp.route("/events/<slug:slug>/visas/<int:letter_id>.pdf")
@requires(Right.VISA_LETTERS)
def download_letter(slug: str, letter_id: int):
    """One of the event's letters as a PDF, as it was issued."""
    event = managed_event(slug)
    letter = event_letter(event, letter_id)
    if letter is None or not letter.content_sealed:
        abort(404)
    response = make_response(render_letter(letter))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{letter.number}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
