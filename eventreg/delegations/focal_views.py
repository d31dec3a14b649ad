"""The focal point's delegation section, behind their private link, and a member's answers (join, leave). Every
page is reached through the person's own private link: a focal point sees their own delegation only, and a member
answers for their own registration only."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..auth.access import public
from ..forms import ConfirmForm
from ..languages import current_language
from ..models import Registration
from ..registration import limits
from ..registration.edits import assigned_category
from ..registration.self_service import NotChangeable
from ..registration.services import DelegateDetails, DuplicateRegistration, RegistrationRefused
from ..registration.views import registration_or_404
from .forms import MemberEditForm, MemberForm
from .members import (
    JoinProblem,
    NoSuchMember,
    cancel_member,
    delegation_of,
    edit_member,
    focal_delegation,
    join_delegation,
    leave_delegation,
    member_of,
    offer_to_join,
    places_used,
    read_join_offer,
    register_member,
)
from .services import delegation_members

bp = Blueprint("delegation", __name__)
# The private page names a member's delegation and links a focal point to their section.
bp.add_app_template_global(delegation_of, "delegation_of")
MAX_KEY_LENGTH = 500  # far longer than a real join key


def _focal_or_404(token: str):
    """The focal point behind the link and the delegation they lead; 404 for anyone else."""
    focal = registration_or_404(token)
    delegation = focal_delegation(focal)
    if delegation is None:
        abort(404)
    return focal, delegation


def _member_mailed(token: str, email: str):
    """The one answer to a member registered or offered to join: a mail went to the address."""
    flash(
        _(
            "A mail was sent to %(email)s. It holds the member's own private link, with which they see and change "
            "their registration.",
            email=email,
        ),
        "success",
    )
    return _section(token)


def _section(token: str):
    return redirect(url_for(".focal_section", token=token))


@bp.route("/r/<token:token>/delegation", methods=["GET", "POST"])
@public
def focal_section(token: str):
    """The focal point's delegation: its members with status and check-in, the places of the quota used and left,
    and the form to register a member. An address already registered gets an offer to join, and the page answers
    as for a new member."""
    focal, delegation = _focal_or_404(token)
    form = MemberForm.for_event(focal.event)  # the categories delegates choose; the visa dates against the event's
    status = 200
    if form.validate_on_submit():
        fields = {name: form.data[name] for name in DelegateDetails.__dataclass_fields__}
        try:
            register_member(focal, DelegateDetails(**fields), current_language(), form.submission.data)
        except DuplicateRegistration:
            # Answered as a new member is: the focal point learns nothing of the address's registration.
            if limits.lost_link_mail_allowed():  # no mail bomb through this form: the lost-link form's count
                offer_to_join(focal, fields["email"])
            return _member_mailed(token, fields["email"])
        except RegistrationRefused as refusal:  # the quota, the window, the capacity, a category
            (getattr(form, refusal.field).errors if refusal.field else form.form_errors).append(refusal.message)
        else:
            return _member_mailed(token, fields["email"])
        status = 400
    elif form.is_submitted():
        status = 400
    members = delegation_members(delegation)
    used = places_used(members)
    page = render_template(
        "delegation/section.html",
        registration=focal,
        event=focal.event,
        delegation=delegation,
        members=members,
        used=used,
        left=max(delegation.quota - used, 0),
        form=form,
        button=ConfirmForm(formdata=None),
    )
    return page, status


@bp.route("/r/<token:token>/delegation/members/<int:member_id>/edit", methods=["GET", "POST"])
@public
def edit_delegation_member(token: str, member_id: int):
    """The focal point changes a member's details (the email only its owner can change)."""
    focal, delegation = _focal_or_404(token)
    try:
        member = member_of(delegation, member_id)
    except NoSuchMember:
        abort(404)
    # The member's passport data is not shown to the focal point: its owner changes it on their own page.
    form = MemberEditForm.for_event(member.event_id, obj=member, assigned=assigned_category(member), asks_visa=False)
    status = 200
    if form.validate_on_submit():
        values = {
            name: form[name].data for name in DelegateDetails.__dataclass_fields__ if name not in ("email", "visa")
        }
        try:
            changed = edit_member(delegation, member.id, DelegateDetails(email=member.email, **values))
        except NoSuchMember:
            abort(404)
        except NotChangeable as refusal:
            flash(refusal.message, "error")
            return _section(token)
        except RegistrationRefused as refusal:
            (getattr(form, refusal.field).errors if refusal.field else form.form_errors).append(refusal.message)
        else:
            flash(
                _("The changes are saved; the member gets a mail that lists them.")
                if changed
                else _("Nothing was changed."),
                "success",
            )
            return _section(token)
        status = 400
    elif form.is_submitted():
        status = 400
    page = render_template(
        "delegation/edit_member.html", registration=focal, event=focal.event, member=member, form=form
    )
    return page, status


@bp.post("/r/<token:token>/delegation/members/<int:member_id>/cancel")
@public
def cancel_delegation_member(token: str, member_id: int):
    """The focal point cancels a member's registration; the member gets the cancellation mail."""
    _focal, delegation = _focal_or_404(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        cancel_member(delegation, member_id)
    except NoSuchMember:
        abort(404)
    except RegistrationRefused as refusal:
        flash(refusal.message, "error")
    else:
        flash(_("The member's registration is cancelled; they get a mail that says so."), "success")
    return _section(token)


@bp.route("/r/<token:token>/delegation/join/<key>", methods=["GET", "POST"])
@public
def join(token: str, key: str):
    """The offer to join a delegation, opened through the person's own link: nothing changes until they accept
    (mail scanners open links)."""
    registration = registration_or_404(token)
    if len(key) > MAX_KEY_LENGTH:
        abort(404)
    try:
        offer = read_join_offer(registration, key)
    except JoinProblem as problem:
        return render_template("registration/link_problem.html", message=problem.message), problem.status
    form = ConfirmForm()
    status = 200
    if form.validate_on_submit():
        try:
            delegation = join_delegation(registration.id, key)
        except JoinProblem as problem:
            form.form_errors.append(problem.message)
            status = problem.status
        except RegistrationRefused as refusal:  # the quota, or a registration that can no longer change
            form.form_errors.append(refusal.message)
            status = 409
        else:
            flash(_("You are now a member of the delegation %(name)s.", name=delegation.name), "success")
            return _private_page(registration)
    page = render_template(
        "delegation/join.html", registration=registration, event=registration.event, offer=offer, form=form, key=key
    )
    return page, status


@bp.route("/r/<token:token>/delegation/leave", methods=["GET", "POST"])
@public
def leave(token: str):
    """Ask first; then the member leaves their delegation (their registration stays as it is)."""
    registration = registration_or_404(token)
    if registration.delegation_id is None or registration.is_focal_point:
        return _private_page(registration)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            leave_delegation(registration.id)
        except RegistrationRefused as refusal:
            flash(refusal.message, "error")
        else:
            flash(_("You are no longer a member of the delegation. Your registration is unchanged."), "success")
        return _private_page(registration)
    delegation = delegation_of(registration)
    page = render_template(
        "delegation/leave.html", registration=registration, event=registration.event, delegation=delegation, form=form
    )
    return page


def _private_page(registration: Registration):
    return redirect(url_for("self_service.view_registration", token=registration.token))
