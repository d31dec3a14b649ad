"""An event's outbox for its organizers: what is queued, sent and failed, with the errors; failed mail resent."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..attendees.queries import MAIL_LABELS
from ..auth.access import managed_event, requires
from ..forms import ConfirmForm
from ..models import OutboxState, Right
from ..pagination import last_page_if_beyond, requested_page
from .outbox_queries import outbox_counts, outbox_message_of, outbox_page, resend_failed, tested_messages

bp = Blueprint("outbox", __name__, url_prefix="/organizer")

# The kinds of mail about an invitation, named in the list until their subject is known (it is once they are sent).
INVITATION_MAIL_LABELS = {"invitation": _l("Invitation"), "invitation_reminder": _l("Invitation reminder")}


def _state_filter() -> str | None:
    """The state the list shows (?state=queued|sent|failed), None for all; 404 for anything else."""
    state = request.args.get("state") or None
    if state is not None and state not in {s.value for s in OutboxState}:
        abort(404)
    return state


@bp.get("/events/<slug:slug>/outbox")
@requires(Right.MANAGE_EVENTS)
def event_outbox(slug: str):
    """The event's mails: counts by state and a page of them, newest first, with errors and attempts; a page past
    the end leads to the last one."""
    event = managed_event(slug)
    state = _state_filter()
    messages = outbox_page(event.id, state, requested_page(request.args))
    last = last_page_if_beyond(messages)
    if last is not None:
        return redirect(url_for(".event_outbox", slug=slug, state=state, page=last if last > 1 else None))
    return render_template(
        "organizer/outbox.html",
        event=event,
        state=state,
        counts=outbox_counts(event.id),
        messages=messages,
        tested=tested_messages(messages.items),
        form=ConfirmForm(),
        mail_labels=MAIL_LABELS | INVITATION_MAIL_LABELS,
    )


@bp.post("/events/<slug:slug>/outbox/<int:message_id>/resend")
@requires(Right.MANAGE_EVENTS)
def resend_message(slug: str, message_id: int):
    """Queue one failed mail again."""
    event = managed_event(slug)
    # About one of the event's registrations or invitations, or a test of one of its messages; else 404.
    message = outbox_message_of(event.id, message_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        if resend_failed(event.id, message_id):
            flash(_("The mail is queued again; it goes out within a few seconds."), "success")
        else:
            flash(_("This mail had not failed; nothing was queued again."), "error")
    if request.args.get("back") == "registration":  # the button on the registration's own page
        return redirect(url_for("attendees.registration_detail", slug=slug, registration_id=message.registration_id))
    return redirect(url_for(".event_outbox", slug=slug, state=request.args.get("state") or None))


@bp.post("/events/<slug:slug>/outbox/resend-failed")
@requires(Right.MANAGE_EVENTS)
def resend_all_failed(slug: str):
    """Queue every failed mail of the event again."""
    event = managed_event(slug)
    if ConfirmForm().validate_on_submit():
        count = resend_failed(event.id)
        flash(
            ngettext("%(num)d failed mail is queued again.", "%(num)d failed mails are queued again.", count), "success"
        )
    return redirect(url_for(".event_outbox", slug=slug))
