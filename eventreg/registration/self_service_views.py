"""The delegate's private pages, reached through the link in their mail: view, edit, cancel, change of email,
erasure of their personal data; and the "lost your link?" form. Each view reads the request, calls one service
function, and renders or redirects."""

import functools
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import audit
from ..auth.access import public
from ..extensions import csrf
from ..forms import ConfirmForm
from ..models import Registration
from ..stats import waitlist_position
from ..visas.application import visa_application
from . import limits
from .edits import OWN_EDITABLE_FIELDS, assigned_category, changed_rows
from .forms import EmailChangeForm, LostLinkForm, OwnDetailsForm, token_expired
from .privacy import erase_registration, was_erased
from .self_service import (
    EMAIL_CHANGE_MAX_AGE,
    LinkProblem,
    NotChangeable,
    cancel_own_registration,
    confirm_email_change,
    edit_own_registration,
    read_email_change,
    request_email_change,
    send_lost_link,
    why_not_changeable,
)
from .services import DelegateDetails, RegistrationRefused, find_registration
from .views import event_or_404, no_registration, registration_or_404

MAX_KEY_LENGTH = 1000  # far longer than a real confirmation key

bp = Blueprint("self_service", __name__)
bp.register_error_handler(429, limits.too_many_requests)
bp.add_app_template_global(changed_rows, "changed_rows")


def _private_page_of(token: str):
    """Back to the private page of the link `token` (after an erasure the registration no longer holds it)."""
    return redirect(url_for(".view_registration", token=token))


def _changeable(view):
    """Open a page that changes the registration: the view gets the registration behind the link (404, or 410 for
    a replaced link). One that can no longer change, found before the view or by its service (NotChangeable),
    sends the delegate back to the private page, which says why."""

    @functools.wraps(view)
    def open_registration(token: str):
        registration = registration_or_404(token)
        problem = why_not_changeable(registration, registration.event)
        if problem is None:
            try:
                return view(registration)
            except NotChangeable as refusal:
                problem = refusal.message
        flash(problem, "error")
        return _private_page_of(registration.token)

    return open_registration


@bp.get("/r/<token:token>")
@public
def view_registration(token: str):
    """A delegate's private page, reached through the unguessable link in their email; after an erasure, a page
    that says so and shows nothing else."""
    registration = find_registration(token)
    if registration is None:
        if was_erased(token):
            return render_template("registration/erased.html"), 410
        no_registration(token)
    return render_template(
        "registration/view.html",
        registration=registration,
        event=registration.event,
        private_url=url_for(".view_registration", token=token, _external=True),
        position=waitlist_position(registration),
        problem=why_not_changeable(registration, registration.event),
        email_form=EmailChangeForm(),
        visa=visa_application(registration.id) if registration.visa_letter else None,
    )


@bp.route("/r/<token:token>/edit", methods=["GET", "POST"])
@public
@csrf.exempt  # the form checks its own token, so an expired one shows the form again with what was typed
@_changeable
def edit_own(registration: Registration):
    """The delegate changes their details (all but the email); a change is mailed to them, listed."""
    form = OwnDetailsForm.for_event(registration.event, obj=registration, assigned=assigned_category(registration))
    status = 200
    if form.validate_on_submit():
        values = {name: form[name].data for name in OWN_EDITABLE_FIELDS} | {"visa": form.visa.data}
        try:
            changed = edit_own_registration(registration.id, DelegateDetails(email=registration.email, **values))
        except NotChangeable:
            raise  # _changeable() answers it
        except RegistrationRefused as refusal:
            (getattr(form, refusal.field).errors if refusal.field else form.form_errors).append(refusal.message)
        else:
            if changed:
                flash(_("Your changes are saved. We have sent you an email that lists them."), "success")
            else:
                flash(_("Nothing was changed."), "success")
            return _private_page_of(registration.token)
    elif token_expired(
        form,
        _(
            "This form had expired, so nothing was saved. Please check your changes and press "
            "Save the changes again. If you see this message again, please allow cookies for "
            "this site."
        ),
    ):
        status = 400
    page = render_template("registration/edit.html", registration=registration, event=registration.event, form=form)
    return page, status


@bp.route("/r/<token:token>/cancel", methods=["GET", "POST"])
@public
@_changeable
def cancel_own(registration: Registration):
    """Ask first; the confirmed cancellation frees the seats and is mailed to the delegate."""
    form = ConfirmForm()
    if form.validate_on_submit():
        cancel_own_registration(registration.id)
        flash(_("Your registration is cancelled. We have sent you an email to confirm it."), "success")
        return _private_page_of(registration.token)
    return render_template("registration/cancel.html", registration=registration, event=registration.event, form=form)


@bp.route("/r/<token:token>/erase", methods=["GET", "POST"])
@public
def erase_own(token: str):
    """Ask first; the confirmed erasure replaces the delegate's personal data for good (the totals still count the
    registration) and the private link then only says that it was erased."""
    registration = find_registration(token)
    if registration is None:
        if was_erased(token):  # a second tap, or Back after erasing
            return _private_page_of(token)
        no_registration(token)
    form = ConfirmForm()
    if form.validate_on_submit():
        erase_registration(registration.id, actor=audit.DELEGATE)
        return _private_page_of(token)
    return render_template(
        "registration/erase.html",
        registration=registration,
        event=registration.event,
        form=form,
        problem=why_not_changeable(registration, registration.event),
    )


@bp.route("/r/<token:token>/email", methods=["GET", "POST"])
@public
@csrf.exempt  # the form checks its own token, so an expired one shows the form again with what was typed
@limits.email_change_per_registration
@limits.email_change_per_ip
@_changeable
def change_email(registration: Registration):
    """The delegate asks to move the registration to a new address; a link to confirm it goes to that address."""
    form = EmailChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            request_email_change(registration.id, form.email.data)
        except NotChangeable:
            raise  # _changeable() answers it
        except RegistrationRefused as refusal:
            form.email.errors.append(refusal.message)
        else:
            flash(
                ngettext(
                    "We have sent a link to %(email)s. Open it within %(num)d hour to confirm the new address; "
                    "until then, nothing changes.",
                    "We have sent a link to %(email)s. Open it within %(num)d hours to confirm the new address; "
                    "until then, nothing changes.",
                    EMAIL_CHANGE_MAX_AGE // timedelta(hours=1),
                    email=form.email.data,
                ),
                "success",
            )
            return _private_page_of(registration.token)
    elif token_expired(
        form,
        _(
            "This form had expired, so nothing was sent. Please check the address and press "
            "the button again. If you see this message again, please allow cookies for this site."
        ),
    ):
        status = 400
    page = render_template(
        "registration/change_email.html", registration=registration, event=registration.event, form=form
    )
    return page, status


@bp.route("/email-change", methods=["GET", "POST"])
@public
@csrf.exempt  # the form checks its own token, so an expired one shows the page again with a fresh one
def confirm_new_email():
    """The page the confirmation link opens: it changes nothing until its button is pressed (mail scanners open
    links); then the registration moves to the new address, and both addresses are told."""
    key = request.args.get("key", "")[:MAX_KEY_LENGTH]
    try:
        change = read_email_change(key)
    except LinkProblem as problem:
        return render_template("registration/link_problem.html", message=problem.message), problem.status
    except NotChangeable as refusal:
        return render_template("registration/link_problem.html", message=refusal.message), 409
    form = ConfirmForm()
    status = 200
    taken = False
    if form.validate_on_submit():
        try:
            registration = confirm_email_change(key)
        except LinkProblem as problem:
            return render_template("registration/link_problem.html", message=problem.message), problem.status
        except NotChangeable as refusal:
            return render_template("registration/link_problem.html", message=refusal.message), 409
        except RegistrationRefused as refusal:
            form.form_errors.append(refusal.message)
            status, taken = 409, True
        else:
            flash(_("The email address of your registration is now %(email)s.", email=registration.email), "success")
            return _private_page_of(registration.token)
    elif token_expired(
        form,
        _(
            "This page had expired, so nothing was changed. Please press the button again. If "
            "you see this message again, please allow cookies for this site."
        ),
    ):
        status = 400
    return (
        render_template(
            "registration/confirm_email.html",
            change=change,
            registration=change.registration,
            event=change.registration.event,
            form=form,
            key=key,
            taken=taken,
        ),
        status,
    )


@bp.route("/e/<slug:slug>/lost-link", methods=["GET", "POST"])
@public
@limits.lost_link_per_address
@limits.lost_link_per_ip
@limits.even_answer_time("LOST_LINK_MIN_SECONDS")  # a mail queued or not takes the same time to answer
def lost_link(slug: str):
    """Have the private link sent again; the answer is the same whether or not the address is registered."""
    event = event_or_404(slug)
    form = LostLinkForm()
    if form.validate_on_submit():
        send_lost_link(event.id, form.email.data)
        flash(
            _(
                "If %(email)s is registered for this event, we have sent the link to your registration to it. "
                "It should arrive within a few minutes; please also look in your spam folder.",
                email=form.email.data,
            ),
            "success",
        )
        return redirect(url_for(".lost_link", slug=slug))
    return render_template("registration/lost_link.html", event=event, form=form)
