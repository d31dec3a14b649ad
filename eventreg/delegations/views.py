"""The organizers' delegation pages: the list with its counts, one delegation with its members, focal points and
invitations, and the forms that change them."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.access import managed_event, requires
from ..forms import ConfirmForm
from ..models import Event, Right
from .forms import CandidateSearchForm, ChoiceForm, DelegationForm
from .services import (
    DelegationRefused,
    NoSuchDelegation,
    candidates,
    delegation_in,
    delegation_invitations,
    delegation_members,
    delegation_rows,
    delete_delegation,
    save_delegation,
    set_invitation,
    set_membership,
)

bp = Blueprint("delegations", __name__, url_prefix="/organizer")


def _list_page(event: Event, form: DelegationForm, status: int = 200):
    page = render_template(
        "delegations/list.html", event=event, rows=delegation_rows(event), form=form, current=request.endpoint
    )
    return page, status


@bp.get("/events/<slug:slug>/delegations")
@requires(Right.MANAGE_EVENTS)
def list_delegations(slug: str):
    """The event's delegations with quota, registered, confirmed and checked in, and a form to add one."""
    return _list_page(managed_event(slug), DelegationForm())


@bp.post("/events/<slug:slug>/delegations")
@requires(Right.MANAGE_EVENTS)
def create_delegation(slug: str):
    """Add a delegation; a refused form is shown again on the list."""
    event = managed_event(slug)
    form = DelegationForm()
    if form.validate_on_submit():
        try:
            delegation = save_delegation(event, None, form.name.data, form.country.data or "", form.quota.data)
        except DelegationRefused as refusal:
            getattr(form, refusal.field or "name").errors.append(refusal.message)
        else:
            flash(_("The delegation %(name)s is added.", name=delegation.name), "success")
            return redirect(url_for(".edit_delegation", slug=slug, delegation_id=delegation.id))
    return _list_page(event, form, 400)


def _delegation_or_404(slug: str, delegation_id: int):
    event = managed_event(slug)
    try:
        return event, delegation_in(event, delegation_id)
    except NoSuchDelegation:
        abort(404)


@bp.route("/events/<slug:slug>/delegations/<int:delegation_id>", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def edit_delegation(slug: str, delegation_id: int):
    """One delegation: its name, country and quota; its members and focal points; its invitations; a search for
    registrations and invitations to add."""
    event, delegation = _delegation_or_404(slug, delegation_id)
    form = DelegationForm(obj=delegation)
    status = 200
    if form.validate_on_submit():
        try:
            save_delegation(event, delegation.id, form.name.data, form.country.data or "", form.quota.data)
        except DelegationRefused as refusal:
            getattr(form, refusal.field or "name").errors.append(refusal.message)
        else:
            flash(_("The delegation is saved."), "success")
            return redirect(url_for(".edit_delegation", slug=slug, delegation_id=delegation_id))
    if form.errors:
        status = 400
    search = CandidateSearchForm(request.args)
    registrations, invitations = candidates(event, search.q.data or "") if search.validate() else ([], [])
    page = render_template(
        "delegations/edit.html",
        event=event,
        delegation=delegation,
        form=form,
        members=delegation_members(delegation),
        invited=delegation_invitations(delegation),
        search=search,
        found_registrations=registrations,
        found_invitations=invitations,
        button=ConfirmForm(formdata=None),
        current="delegations.list_delegations",
    )
    return page, status


@bp.post("/events/<slug:slug>/delegations/<int:delegation_id>/delete")
@requires(Right.MANAGE_EVENTS)
def remove_delegation(slug: str, delegation_id: int):
    """Delete a delegation that has no registration and no invitation."""
    event, delegation = _delegation_or_404(slug, delegation_id)
    if ConfirmForm().validate_on_submit():
        try:
            delete_delegation(event, delegation.id)
        except DelegationRefused as refusal:
            flash(refusal.message, "error")
            return redirect(url_for(".edit_delegation", slug=slug, delegation_id=delegation_id))
        flash(_("The delegation is deleted."), "success")
    return redirect(url_for(".list_delegations", slug=slug))


def _change(slug: str, delegation_id: int, form, change, item_id, *, member: bool, focal: bool, done: str):
    """Apply one change of membership and go back to the delegation's page, saying what happened. The event and
    the delegation are looked up first, so an organizer who does not run the event gets a 403, whatever they sent;
    `item_id` is the id, or a function that reads it from the validated form."""
    event, delegation = _delegation_or_404(slug, delegation_id)
    if not form.validate_on_submit():
        abort(400)
    item_id = item_id() if callable(item_id) else item_id
    if item_id is None:
        abort(404)
    try:
        change(event, delegation.id, item_id, member=member, focal=focal)
    except NoSuchDelegation:
        abort(404)
    except DelegationRefused as refusal:
        flash(refusal.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for(".edit_delegation", slug=slug, delegation_id=delegation_id))


@bp.post("/events/<slug:slug>/delegations/<int:delegation_id>/members")
@requires(Right.MANAGE_EVENTS)
def add_member(slug: str, delegation_id: int):
    """Attach a registration of the event to the delegation, as a focal point or a member."""
    form = ChoiceForm()
    focal = bool(form.focal.data)
    done = _("The focal point is set.") if focal else _("The registration is added to the delegation.")
    return _change(slug, delegation_id, form, set_membership, form.chosen_id, member=True, focal=focal, done=done)


@bp.post("/events/<slug:slug>/delegations/<int:delegation_id>/members/<int:registration_id>/remove")
@requires(Right.MANAGE_EVENTS)
def remove_member(slug: str, delegation_id: int, registration_id: int):
    """Take a registration out of the delegation (it stays registered)."""
    done = _("The registration is no longer part of the delegation; it stays registered.")
    return _change(
        slug, delegation_id, ConfirmForm(), set_membership, registration_id, member=False, focal=False, done=done
    )


@bp.post("/events/<slug:slug>/delegations/<int:delegation_id>/invitations")
@requires(Right.MANAGE_EVENTS)
def add_invitation(slug: str, delegation_id: int):
    """Name the delegation on an invitation, as its focal point or a member."""
    form = ChoiceForm()
    done = _("The invitation now names this delegation.")
    focal = bool(form.focal.data)
    return _change(slug, delegation_id, form, set_invitation, form.chosen_id, member=True, focal=focal, done=done)


@bp.post("/events/<slug:slug>/delegations/<int:delegation_id>/invitations/<int:invitation_id>/remove")
@requires(Right.MANAGE_EVENTS)
def remove_invitation(slug: str, delegation_id: int, invitation_id: int):
    """Take the delegation off an invitation."""
    done = _("The invitation no longer names this delegation.")
    return _change(
        slug, delegation_id, ConfirmForm(), set_invitation, invitation_id, member=False, focal=False, done=done
    )
