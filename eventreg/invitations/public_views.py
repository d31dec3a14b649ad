"""The invitee's pages, opened by their personal link: register, decline, accept later."""

from contextlib import nullcontext

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ..auth.access import public
from ..extensions import csrf
from ..languages import LANGUAGE_COOKIE, current_language, offered_languages
from ..mail.compose import invitee_name
from ..models import Event, Invitation, InvitationStatus
from ..registration import limits
from ..registration.forms import token_expired
from ..registration.self_service import send_lost_link
from ..registration.services import (
    DelegateDetails,
    DuplicateRegistration,
    RegistrationClosed,
    RegistrationRefused,
)
from ..registration.views import answer_submitted
from . import mails  # noqa: F401 - registers the invitation mails' kinds before the app serves or sends
from .links import (
    InvitationAnswered,
    active_registration_of,
    decline_invitation,
    find_invitation,
    mark_opened,
    register_invitee,
)
from .public_forms import DeclineForm, InvitationForm

bp = Blueprint("invitation", __name__)
bp.register_error_handler(429, limits.too_many_requests)


def _invitation_or_404(token: str) -> Invitation:
    """The invitation behind a personal link, or a 404 (the same for a wrong token as for none)."""
    invitation = find_invitation(token)
    if invitation is None:
        abort(404)
    return invitation


def _in_invitation_language(invitation: Invitation):
    """The invitation's language for the page, unless the reader chose one with the switcher (their cookie wins)."""
    if request.cookies.get(LANGUAGE_COOKIE) in offered_languages() or invitation.language not in offered_languages():
        return nullcontext()
    return force_locale(invitation.language)


@bp.route("/i/<token:token>", methods=["GET", "POST"])
@public
@csrf.exempt  # the form checks its own token, so an expired one re-shows the form with what was typed
@limits.registration_per_ip
def open_invitation(token: str):
    """The invitation: the registration form pre-filled with what the organizers know, and a way to decline;
    the invitee's registration once they have one."""
    invitation = _invitation_or_404(token)
    with _in_invitation_language(invitation):
        return _invitation_page(invitation, token)


def _invitation_page(invitation: Invitation, token: str):
    """open_invitation's answer, in the page's language."""
    event = invitation.event  # read before a commit expires the invitation (its relationships load no SQL)
    registration = active_registration_of(invitation)
    if registration is not None:
        # The invitation link went to the invited address, as the confirmation did: while the registration still
        # belongs to that address, it may lead to the registration's private page; after a change of address the
        # private link belongs to the new address only, so the page points to the lost-link form instead.
        own_link = registration.email_key == invitation.email_key
        return render_template(
            "invitation/registered.html", event=event, invitation=invitation, registration=registration, own=own_link
        )
    if request.method == "GET":
        mark_opened(invitation)
    state = event.registration_state()
    form = InvitationForm(invitation)
    status = 200
    if state == "open" and form.validate_on_submit():
        fields = {name: form.data.get(name) for name in DelegateDetails.__dataclass_fields__}
        fields.update(email=invitation.email, category=invitation.category or form.category.data)
        try:
            register_invitee(invitation, DelegateDetails(**fields), current_language(), form.submission.data)
        except RegistrationClosed:
            state = "closed"
        except DuplicateRegistration:
            # Registered already without the invitation: as the public form, the address gets its link again. Only
            # the holder of the invitation (sent to that address) can ask, so the per-IP limit of this page is the
            # bound (the lost-link form's per-address count reads a typed address, which this form has not).
            send_lost_link(event.id, invitation.email)
            return answer_submitted(event.id, event.slug, invitation.email)
        except RegistrationRefused as refusal:
            field = getattr(form, refusal.field, None) if refusal.field else None
            (field.errors if field is not None else form.form_errors).append(refusal.message)
            status = 400
        else:
            return answer_submitted(event.id, event.slug, invitation.email)
    elif state == "open" and token_expired(
        form,
        _(
            "This form had expired, so nothing was sent. Please check your details and press Register again. "
            "If you see this message again, please allow cookies for this site."
        ),
    ):
        status = 400
    return _page(event, invitation, token, state, form, DeclineForm()), status


def _page(event: Event, invitation: Invitation, token: str, state: str, form, decline_form):
    """The invitation page: its state, the form while registration is open, the decline."""
    return render_template(
        "invitation/invitation.html",
        event=event,
        invitation=invitation,
        name=invitee_name(invitation),
        token=token,
        state=state,
        form=form,
        decline_form=decline_form,
        declined=invitation.status == InvitationStatus.DECLINED,
    )


@bp.post("/i/<token:token>/decline")
@public
@limits.registration_per_ip
def decline(token: str):
    """Decline the invitation, with an optional reason; the link still lets the invitee accept later."""
    invitation = _invitation_or_404(token)
    with _in_invitation_language(invitation):
        event = invitation.event
        form = DeclineForm()
        if not form.validate_on_submit():
            state = event.registration_state()
            invitation_form = InvitationForm(invitation, formdata=None)
            return _page(event, invitation, token, state, invitation_form, form), 400
        try:
            decline_invitation(invitation.id, form.reason.data or "")
        except InvitationAnswered:
            flash(_("You are registered through this invitation. Cancel your registration from its own page."), "error")
        else:
            flash(_("You have declined the invitation. Thank you for letting the organizers know."), "success")
        return redirect(url_for(".open_invitation", token=token), 303)
