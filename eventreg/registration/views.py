"""Public pages: the list of events, one event, the registration form (the private pages: self_service_views.py)."""

from typing import NoReturn

from flask import Blueprint, abort, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import stats
from ..auth.access import public
from ..events.services import event_by_slug
from ..extensions import csrf
from ..languages import current_language
from ..mail.addresses import masked_address
from ..models import Admission, Registration
from . import limits
from .credentials import link_was_replaced
from .forms import RegistrationForm, token_expired
from .self_service import send_lost_link
from .services import (
    DelegateDetails,
    DuplicateRegistration,
    InvitationRequired,
    RegistrationClosed,
    RegistrationRefused,
    find_registration,
    register_delegate,
    upcoming_events,
)

bp = Blueprint("registration", __name__)

# The session key of the address (masked) that the last valid submission was answered to, and its event.
SUBMITTED_TO = "submitted_to"


@bp.get("/")
@public
def index():
    """The upcoming events."""
    return render_template("registration/index.html", events=upcoming_events())


def event_or_404(slug: str):
    """The event at `slug`, or a 404."""
    event = event_by_slug(slug)
    if event is None:
        abort(404)
    return event


def registration_or_404(token: str, *, say_replaced: bool = True) -> Registration:
    """The registration behind a private link; for a link that opens none, no_registration() answers (with
    `say_replaced` False, a plain 404 even for a replaced link: the ticket pages have always answered so)."""
    registration = find_registration(token)
    if registration is None:
        if not say_replaced:
            abort(404)
        no_registration(token)
    return registration


def no_registration(token: str) -> NoReturn:
    """Answer a private link that opens no registration: 410 "replaced" for a link that a change of email address
    replaced (it shows nothing else), else 404."""
    if link_was_replaced(token):
        abort(make_response(render_template("registration/replaced.html"), 410))
    abort(404)


@bp.get("/e/<slug:slug>")
@public
def show_event(slug: str):
    """One event: when, where, what, and the seats left."""
    event = event_or_404(slug)
    return render_template("registration/event.html", event=event, summary=stats.event_summary(event))


@bp.route("/e/<slug:slug>/register", methods=["GET", "POST"])
@public
@csrf.exempt  # the form checks its own token, so an expired one re-shows the form with what was typed
@limits.registration_per_ip
def register(slug: str):
    """The registration form. Every valid submission is answered the same way, a 303 to the "submitted" page: the
    outcome and the private link go only to the address, so whoever types someone else's address controls nothing,
    and the answer does not tell whether the address was registered already (it then gets the lost-link mail)."""
    event = event_or_404(slug)
    if event.admission == Admission.INVITATION:
        return by_invitation_only(event)
    state = event.registration_state()
    if state != "open":
        return render_template("registration/closed.html", event=event, state=state)
    form = RegistrationForm.for_event(event)
    status = 200
    if form.validate_on_submit():
        data = form.data  # built afresh on each read: every field's data, the visa sub-form's too
        fields = {name: data[name] for name in DelegateDetails.__dataclass_fields__}
        event_id, event_slug = event.id, event.slug
        try:
            register_delegate(
                event_id,
                DelegateDetails(**fields),
                language=current_language(),
                submission_key=form.submission.data,
            )
        except RegistrationClosed:
            return render_template("registration/closed.html", event=event, state="closed")
        except InvitationRequired:  # the organizers made the event by invitation while the form was open
            return by_invitation_only(event)
        except DuplicateRegistration:
            if limits.lost_link_mail_allowed():  # no mail bomb through this form: the lost-link form's count
                send_lost_link(event_id, fields["email"])
            return answer_submitted(event_id, event_slug, fields["email"])
        except RegistrationRefused as refusal:
            if refusal.field:
                getattr(form, refusal.field).errors.append(refusal.message)
            else:
                form.form_errors.append(refusal.message)
        else:
            return answer_submitted(event_id, event_slug, fields["email"])
    elif token_expired(
        form,
        _(
            "This form had expired, so nothing was sent. Please check your details and press Register again. "
            "If you see this message again, please allow cookies for this site."
        ),
    ):
        status = 400
    page = render_template("registration/register.html", event=event, form=form, summary=stats.event_summary(event))
    return page, status


def by_invitation_only(event):
    """The registration page of an event that admits only invited people: the event, the notice and whom to ask,
    no form; a POST (no invitation comes through this form) is refused with 403 and the same page."""
    refused = request.method == "POST"
    page = render_template(
        "registration/register.html", event=event, form=None, refused=refused, summary=stats.event_summary(event)
    )
    return page, 403 if refused else 200


def answer_submitted(event_id: int, slug: str, email: str):
    """The one answer to a valid submission: See Other to the "submitted" page, which names the address, masked.
    It takes the event's id and slug, not the event: after the registration's commit, reading the event object
    would load it again (one more query on the hot path of a rush)."""
    session[SUBMITTED_TO] = {"event": event_id, "address": masked_address(email)}
    return redirect(url_for("registration.submitted", slug=slug), 303)


@bp.get("/e/<slug:slug>/submitted")
@public
def submitted(slug: str):
    """Thank you: the outcome and the private link were sent to the address (partly masked)."""
    event = event_or_404(slug)
    sent = session.get(SUBMITTED_TO)
    address = sent.get("address") if isinstance(sent, dict) and sent.get("event") == event.id else None
    return render_template("registration/submitted.html", event=event, address=address)
