"""Messages to delegates: the Messages page, a message's page and the resend of its failed mails."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..auth.access import current_organizer, managed_event, requires
from ..forms import ConfirmForm
from ..models import MESSAGE_STATE_LABELS, Right
from ..pagination import last_page_if_beyond, requested_page
from .queries import (
    audience_in_words,
    message_counts,
    message_recipients,
    message_with_record,
    messages_of_event,
    resendable_count,
)
from .record import resend_failed_mails
from .reminders import reminder_state

bp = Blueprint("message_records", __name__, url_prefix="/organizer")


@bp.get("/events/<slug:slug>/messages")
@requires(Right.MESSAGE_DELEGATES)
def list_messages(slug: str):
    """The event's messages and reminders, newest first, each with its author, time, reach and mails by state."""
    event = managed_event(slug)
    messages = messages_of_event(event, requested_page(request.args))
    last = last_page_if_beyond(messages)
    if last is not None:
        return redirect(url_for(".list_messages", slug=slug, page=last if last > 1 else None))
    return render_template(
        "messages/list.html",
        event=event,
        messages=messages,
        counts=message_counts(event.id),
        state_labels=MESSAGE_STATE_LABELS,
        reminder_state=reminder_state,
    )


def _message_or_404(slug: str, message_id: int):
    """The event and its message (or reminder) with that id; 404 for one of another event."""
    event = managed_event(slug)
    message = message_with_record(event, message_id)
    if message is None:
        abort(404)
    return event, message


@bp.get("/events/<slug:slug>/messages/<int:message_id>")
@requires(Right.MESSAGE_DELEGATES)
def show_message(slug: str, message_id: int):
    """A message or reminder: its texts, options, audience, mails by state and a page of its recipients."""
    event, message = _message_or_404(slug, message_id)
    recipients = message_recipients(message, requested_page(request.args))
    last = last_page_if_beyond(recipients.registrations)
    if last is not None:
        return redirect(url_for(".show_message", slug=slug, message_id=message_id, page=last if last > 1 else None))
    return render_template(
        "messages/show.html",
        event=event,
        message=message,
        audience=audience_in_words(event, message.audience or {}),
        counts=message_counts(event.id, message.id)[message.id],
        resendable=resendable_count(message.id),
        recipients=recipients,
        state_labels=MESSAGE_STATE_LABELS,
        reminder_state=reminder_state,
        form=ConfirmForm(),
    )


@bp.post("/events/<slug:slug>/messages/<int:message_id>/resend")
@requires(Right.MESSAGE_DELEGATES)
def resend_failed(slug: str, message_id: int):
    """Queue the message's failed mails again."""
    event, message = _message_or_404(slug, message_id)
    if ConfirmForm().validate_on_submit():
        count = resend_failed_mails(event, message, current_organizer())
        if count:
            flash(
                ngettext(
                    "%(num)d failed mail is queued again; it goes out within a few seconds.",
                    "%(num)d failed mails are queued again; they go out within a few seconds.",
                    count,
                ),
                "success",
            )
        else:
            flash(_("No mail of this message has failed; nothing was queued again."), "error")
    return redirect(url_for(".show_message", slug=slug, message_id=message_id))
