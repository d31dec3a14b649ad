"""Public pages: the list of events, one event, the registration form (the private pages: self_service_views.py)."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import stats
from ..auth.access import public
from ..events import event_by_slug
from ..extensions import csrf
from ..models import Status
from . import limits
from .forms import RegistrationForm, token_expired
from .services import (
    DelegateDetails,
    DuplicateRegistration,
    RegistrationClosed,
    RegistrationRefused,
    register_delegate,
    upcoming_events,
)

bp = Blueprint("registration", __name__)


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
    """The registration form; a valid submission redirects to the delegate's private page."""
    event = event_or_404(slug)
    state = event.registration_state()
    if state != "open":
        return render_template("registration/closed.html", event=event, state=state)
    form = RegistrationForm()
    status = 200
    already_registered = False
    if form.validate_on_submit():
        fields = {name: form.data[name] for name in DelegateDetails.__dataclass_fields__}
        try:
            registration = register_delegate(
                event.id,
                DelegateDetails(**fields),
                language=str(get_locale()),
                submission_key=form.submission.data,
            )
        except RegistrationClosed:
            return render_template("registration/closed.html", event=event, state="closed")
        except RegistrationRefused as refusal:
            already_registered = isinstance(refusal, DuplicateRegistration)
            if refusal.field:
                getattr(form, refusal.field).errors.append(refusal.message)
            else:
                form.form_errors.append(refusal.message)
        else:
            if registration.status == Status.WAITLISTED:
                flash(
                    _(
                        "Thank you, your registration has been received. There are not enough free seats at the "
                        "moment, so you are on the waiting list: number %(place)d. We will write to you as soon as a "
                        "seat is yours.",
                        place=registration.place_on_joining or stats.waitlist_position(registration),
                    ),
                    "success",
                )
            else:
                flash(_("Thank you, your registration has been received."), "success")
            return redirect(url_for(".view_registration", token=registration.token))
    elif token_expired(
        form,
        _(
            "This form had expired, so nothing was sent. Please check your details and press Register again. "
            "If you see this message again, please allow cookies for this site."
        ),
    ):
        status = 400
    page = render_template(
        "registration/register.html",
        event=event,
        form=form,
        summary=stats.event_summary(event),
        already_registered=already_registered,
    )
    return page, status
