"""The attendee pages: the filtered list with bulk actions, one registration with its history, and the actions."""

from dataclasses import asdict

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from .. import stats
from ..auth.access import managed_event, requires
from ..categories.services import category_labels
from ..forms import ConfirmForm
from ..models import Event, Registration, Right
from ..pagination import page_number
from ..registration.capacity import promotion_message
from ..registration.edits import EDITABLE_FIELDS
from ..registration.limits import count_hit
from ..registration.needs import hidden_needs, may_see
from ..registration.privacy import erase_registration
from ..registration.services import DelegateDetails, RegistrationRefused
from ..registration.status import REFUSALS, ActionRefused, StatusAction
from ..visas.application import visa_application
from .filters import AttendeeFilter
from .forms import SET_CATEGORY, BulkActionForm, EditRegistrationForm, FilterForm
from .queries import (
    NoSuchRegistration,
    PageBeyondEnd,
    attendee_list,
    history,
    last_page,
    registration_in,
    registrations_by_ids,
)
from .services import apply_action, apply_bulk_action, edit_registration, resend_confirmation, set_category_in_bulk

bp = Blueprint("attendees", __name__, url_prefix="/organizer")
bp.add_app_template_global(may_see, "may_see")  # which needs a page shows: attendee pages, the desk's card

# Export endpoints (another blueprint) and their link texts; a link is shown once its endpoint exists.
EXPORTS = (("exports.csv", "CSV"), ("exports.xlsx", "Excel (XLSX)"))
DONE_MESSAGES = {
    StatusAction.CANCEL: lambda: _("The registration is cancelled; the delegate will get an email."),
    StatusAction.APPROVE: lambda: _("The registration is approved; the delegate will get an email."),
    StatusAction.REJECT: lambda: _("The registration is rejected; the delegate will get an email."),
}


def _per_page() -> int:
    return current_app.config["REGISTRATIONS_PER_PAGE"]


def _registration_or_404(slug: str, registration_id: int) -> tuple[Event, Registration]:
    """The event at `slug` (404 when there is none, 403 when the organizer does not run it) and its registration
    with this id (404 when it has none)."""
    event = managed_event(slug)
    try:
        return event, registration_in(event, registration_id)  # the router refuses ids beyond MAX_ID
    except NoSuchRegistration:
        abort(404)


@bp.get("/events/<slug:slug>/registrations")
@requires(Right.MANAGE_EVENTS)
def list_registrations(slug: str):
    """The event's registrations: search, filters and sort from the query string, a page at a time."""
    try:
        listing = attendee_list(managed_event(slug), request.args, per_page=_per_page())
    except PageBeyondEnd as beyond:
        # A bookmarked page from when the list was longer: show its last page, with the same filters.
        flash(_("That page no longer exists; here is the last one."), "success")
        return redirect(url_for(".list_registrations", slug=slug, page=beyond.last, **beyond.filter.query_args()))
    args = listing.filter.query_args()
    exports = [
        (label, url_for(endpoint, slug=slug, **args))
        for endpoint, label in EXPORTS
        if endpoint in current_app.view_functions
    ]
    return render_template(
        "attendees/list.html",
        listing=listing,
        event=listing.event,
        filter_form=FilterForm(listing.countries, listing.categories, listing.delegations, data=asdict(listing.filter)),
        delegation_names=dict(listing.delegations),
        exports=exports,
        places=stats.waitlist_positions(listing.event.id, (r.id for r in listing.registrations.items)),
    )


@bp.post("/events/<slug:slug>/registrations/bulk")
@requires(Right.MANAGE_EVENTS)
def bulk_action(slug: str):
    """Cancel, approve or reject the ticked registrations (cancelling asks first), or put them into one category;
    then back to the same list."""
    event = managed_event(slug)
    form = BulkActionForm()
    labels = category_labels(event.id)
    form.category.choices = [SelectChoice(code, label) for code, label in labels.items()]
    attendee_filter, _problems = AttendeeFilter.from_args(request.form)
    page = page_number(form.page.data)
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(_list_url(slug, attendee_filter, page))
    if form.action.data == SET_CATEGORY:
        moved = set_category_in_bulk(event.id, form.ids.data, form.category.data)
        flash(moved.summary(labels[form.category.data]), "success" if moved.done or moved.unchanged else "error")
        return redirect(_list_url(slug, attendee_filter, page))
    action = StatusAction(form.action.data)
    if action == StatusAction.CANCEL and form.confirmed.data != "yes":
        return render_template(
            "attendees/confirm_bulk.html",
            event=event,
            form=form,
            registrations=registrations_by_ids(event, form.ids.data),
            filter_args=attendee_filter.query_args(),
            page=page,
            back_url=_list_url(slug, attendee_filter, page),
        )
    outcome = apply_bulk_action(event.id, form.ids.data, action)
    flash(outcome.summary(), "success" if outcome.done else "error")
    page = min(page, last_page(event, attendee_filter, _per_page()))
    return redirect(_list_url(slug, attendee_filter, page))


def _list_url(slug: str, attendee_filter: AttendeeFilter, page: int) -> str:
    return url_for(
        ".list_registrations", slug=slug, **attendee_filter.query_args(), **({"page": page} if page > 1 else {})
    )


@bp.get("/events/<slug:slug>/registrations/<int:registration_id>")
@requires(Right.MANAGE_EVENTS)
def registration_detail(slug: str, registration_id: int):
    """Every field of one registration, its history, and what can be done to it."""
    event, registration = _registration_or_404(slug, registration_id)
    return render_template(
        "attendees/detail.html",
        event=event,
        registration=registration,
        place=stats.waitlist_position(registration),
        history=history(registration, current_user),
        form=ConfirmForm(),
        # The passport data only for those who issue visa letters (check-in staff never see it).
        visa=visa_application(registration.id) if current_user.can(Right.VISA_LETTERS) else None,
    )


@bp.route("/events/<slug:slug>/registrations/<int:registration_id>/edit", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def edit_registration_view(slug: str, registration_id: int):
    """Correct what the delegate gave, with the registration form's rules, the duplicate rule and the seats."""
    event, registration = _registration_or_404(slug, registration_id)
    if registration.erased_at is not None:
        flash(str(REFUSALS["erased"]), "error")
        return redirect(url_for(".registration_detail", slug=slug, registration_id=registration_id))
    form = EditRegistrationForm.for_event(event, obj=registration, every=True)
    for name in hidden_needs(current_user):
        delattr(form, name)  # kept as it is: who may not read it may not overwrite it
    if form.validate_on_submit():
        values = {name: form[name].data if name in form else getattr(registration, name) for name in EDITABLE_FIELDS}
        try:
            changed = edit_registration(event.id, registration.id, DelegateDetails(**values), form.language.data)
        except ActionRefused:
            return redirect(url_for(".list_registrations", slug=slug))
        except RegistrationRefused as refusal:
            getattr(form, refusal.field).errors.append(refusal.message)
        else:
            flash(_("The registration is saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for(".registration_detail", slug=slug, registration_id=registration_id))
    return render_template("attendees/edit.html", event=event, registration=registration, form=form)


@bp.get("/events/<slug:slug>/registrations/<int:registration_id>/cancel")
@requires(Right.MANAGE_EVENTS)
def confirm_cancel(slug: str, registration_id: int):
    """Ask before cancelling a registration."""
    event, registration = _registration_or_404(slug, registration_id)
    return render_template("attendees/confirm_cancel.html", event=event, registration=registration, form=ConfirmForm())


@bp.post("/events/<slug:slug>/registrations/<int:registration_id>/cancel")
@requires(Right.MANAGE_EVENTS)
def cancel_registration(slug: str, registration_id: int):
    """Cancel one registration (after the confirmation page); the delegate gets an email."""
    return _change_status(slug, registration_id, StatusAction.CANCEL)


@bp.post("/events/<slug:slug>/registrations/<int:registration_id>/approve")
@requires(Right.MANAGE_EVENTS)
def approve_registration(slug: str, registration_id: int):
    """Approve one pending registration; the delegate gets an email."""
    return _change_status(slug, registration_id, StatusAction.APPROVE)


@bp.post("/events/<slug:slug>/registrations/<int:registration_id>/reject")
@requires(Right.MANAGE_EVENTS)
def reject_registration(slug: str, registration_id: int):
    """Reject one pending registration; the delegate gets an email."""
    return _change_status(slug, registration_id, StatusAction.REJECT)


@bp.route("/events/<slug:slug>/registrations/<int:registration_id>/erase", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def erase_registration_view(slug: str, registration_id: int):
    """Ask first; then erase the delegate's personal data (when they ask the organizers for it), keeping the
    registration in every total."""
    event, registration = _registration_or_404(slug, registration_id)
    form = ConfirmForm()
    if registration.erased_at is None and form.validate_on_submit():
        erase_registration(registration.id, actor=None)
        flash(_("The personal data of this registration is erased."), "success")
        return redirect(url_for(".registration_detail", slug=slug, registration_id=registration_id))
    return render_template("attendees/confirm_erase.html", event=event, registration=registration, form=form)


@bp.post("/events/<slug:slug>/registrations/<int:registration_id>/resend-confirmation")
@requires(Right.MANAGE_EVENTS)
def resend_confirmation_view(slug: str, registration_id: int):
    """Send the confirmation mail again, with the current ticket; at most RESEND_CONFIRMATION_LIMIT a registration."""
    event, registration = _registration_or_404(slug, registration_id)
    if ConfirmForm().validate_on_submit():
        # Every process counts together, as for the site's other limits.
        if not count_hit(
            "RESEND_CONFIRMATION_LIMIT", "resend-confirmation", str(registration.id), what="a resent confirmation"
        ):
            message = _("The confirmation of this registration was sent again several times lately; try again later.")
            flash(message, "error")
        else:
            try:
                resend_confirmation(event.id, registration.id)
            except ActionRefused as refusal:
                flash(refusal.message, "error")
            else:
                flash(
                    _("The confirmation is queued again, with the current ticket; it goes out within a few seconds."),
                    "success",
                )
    return redirect(url_for(".registration_detail", slug=slug, registration_id=registration_id))


def _change_status(slug: str, registration_id: int, action: StatusAction):
    event, registration = _registration_or_404(slug, registration_id)
    if ConfirmForm().validate_on_submit():
        try:
            promoted = apply_action(event.id, registration.id, action)
        except ActionRefused as refusal:
            flash(refusal.message, "error")
        else:
            flash(DONE_MESSAGES[action](), "success")
            if promoted:
                flash(promotion_message(len(promoted)), "success")
    return redirect(url_for(".registration_detail", slug=slug, registration_id=registration_id))
