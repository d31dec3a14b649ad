"""Messages to delegates: the compose page, preview, test send and confirmation.

The compose page is reached from the attendee list, with its filter in the query string (GET) or its ticked rows
(POST `ids`). The form carries that audience and an idempotency key in hidden fields, so every POST of one form
names one draft; "Continue" leads to the confirmation, which fixes the recipients and sends."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from ..attendees.forms import TickedRowsForm
from ..auth.access import current_organizer, managed_event, requires
from ..extensions import db
from ..forms import ConfirmForm
from ..languages import language_name, offered_languages
from ..models import Event, Message, MessageState, Registration, Right
from . import mails  # noqa: F401 - registers the outbox kinds of messages
from .audience import audience_from_filter, audience_from_ids, reach, recipients_clauses
from .forms import MessageTextsForm
from .limits import message_send_allowed
from .queries import audience_in_words
from .rendering import render_message
from .services import (
    MessageTestOutcome,
    confirm_message,
    message_in,
    new_idempotency_key,
    queue_test,
    save_draft,
)
from .texts import PLACEHOLDERS, MessageRefused

bp = Blueprint("messages", __name__, url_prefix="/organizer")

# The buttons of the compose form (its `action`); any other POST comes from the attendee list's ticked rows.
COMPOSE_ACTIONS = ("preview", "test", "continue")
# How many of the audience the preview offers to show the mail as (by name): enough to find a Chinese, a French
# and an Arabic reader, few enough for one select.
PREVIEW_CHOICES = 50


def _rate_limited() -> str:
    return _("You have sent several messages and tests in a short time. Please wait a while and try again.")


@bp.route("/events/<slug:slug>/messages/new", methods=["GET", "POST"])
@requires(Right.MESSAGE_DELEGATES)
def compose(slug: str):
    """Write a message to the delegates of the attendee list's filter (GET) or its ticked rows (POST `ids`); its
    own buttons (POST `action`) preview it, send a test, or continue to the confirmation."""
    event = managed_event(slug)
    if request.method == "POST" and request.form.get("action") in COMPOSE_ACTIONS:
        return _compose_posted(event)
    # Not read from the request: the list's POST of ticked rows would untick the options that are on by default.
    form = MessageTextsForm.for_languages(formdata=None)
    message = None
    try:
        if request.method == "POST":
            audience = _posted_audience(source="ids")
            key = new_idempotency_key()
        elif request.args.get("message"):
            message = _draft_of(event, request.args["message"])
            if message.state != MessageState.DRAFT:
                flash(_("This message has been sent; it can no longer be changed."), "error")
                return redirect(_sent_url(event, message))
            audience, key = message.audience or {}, message.idempotency_key
            form.fill_from(message.subject, message.body, message.versions, message.attach_ticket,
                           message.reply_to_contact)  # fmt: skip
        else:
            audience, key = audience_from_filter(request.args, event), new_idempotency_key()
    except MessageRefused as refusal:
        return render_template("messages/compose.html", event=event, form=None, problems=[refusal.message]), 400
    chosen = _number(request.args.get("delegate"))
    # Read once: the preview's select lists them, and the preview is shown as one of them.
    delegates = _preview_delegates(event, audience)
    previews = []
    if message is not None and "preview" in request.args:
        previews = _previews(message, _chosen_delegate(delegates, chosen))
    return _compose_page(event, form, audience, key, chosen=chosen, previews=previews, delegates=delegates)


def _compose_posted(event: Event):
    """A POST of the compose form: save the draft (once per key), then preview, test or continue."""
    form = MessageTextsForm.for_languages()
    key = request.form.get("key", "")
    try:
        audience = _posted_audience(source=request.form.get("audience"), event=event)
    except MessageRefused as refusal:
        return render_template("messages/compose.html", event=event, form=None, problems=[refusal.message]), 400
    chosen = _number(request.form.get("delegate"))
    if not form.validate_on_submit():
        return _compose_page(event, form, audience, key, chosen=chosen)
    organizer = current_organizer()
    try:
        message = save_draft(event, form.texts(), audience, key, organizer)
    except MessageRefused as refusal:
        problems = [] if form.show_refusal(refusal) else [refusal.message]
        return _compose_page(event, form, audience, key, chosen=chosen, problems=problems)
    if message.state != MessageState.DRAFT:  # a retried POST of a form whose message went out
        flash(_("This message was sent before; nothing was sent again."), "error")
        return redirect(_sent_url(event, message))
    action = request.form["action"]
    if action == "continue":
        return redirect(url_for(".confirm", slug=event.slug, message_id=message.id))
    if action == "test":
        delegate = _chosen_delegate(_preview_delegates(event, audience), chosen)
        # A repeated test of the same form costs nothing: the limit is asked only when a test is to be queued.
        outcome = queue_test(event, message, organizer, delegate, allowed=lambda: message_send_allowed(organizer))
        if outcome == MessageTestOutcome.LIMITED:
            flash(_rate_limited(), "error")
        elif outcome == MessageTestOutcome.REPEATED:
            flash(
                _("This test was sent to %(address)s a moment ago; it was not sent again.", address=organizer.email),
                "info",
            )
        else:
            flash(_("A test was sent to %(address)s.", address=organizer.email), "success")
        return redirect(url_for(".compose", slug=event.slug, message=message.id, **_delegate_arg(chosen)))
    return redirect(
        url_for(".compose", slug=event.slug, message=message.id, preview=1, _anchor="preview", **_delegate_arg(chosen))
    )


@bp.route("/events/<slug:slug>/messages/<int:message_id>/confirm", methods=["GET", "POST"])
@requires(Right.MESSAGE_DELEGATES)
def confirm(slug: str, message_id: int):
    """Ask before sending a draft, repeating how many delegates it reaches; then send it, once."""
    event = managed_event(slug)
    message = message_in(event, message_id)
    if message is None:
        abort(404)
    if message.state == MessageState.CANCELLED:
        flash(_("This message was cancelled; it cannot be sent."), "error")
        return redirect(_sent_url(event, message))
    form = ConfirmForm()
    if form.validate_on_submit():
        return _send(event, message)
    if message.state != MessageState.DRAFT:
        flash(_("This message has been sent; it can no longer be changed."), "error")
        return redirect(_sent_url(event, message))
    return render_template(
        "messages/confirm.html", event=event, message=message, reach=reach(event, message.audience or {}), form=form
    )


def _send(event: Event, message: Message):
    """The confirmation's POST: count it against the organizer's limit, then confirm_message()."""
    organizer = current_organizer()
    # A retried POST of a message already sent costs nothing: confirm_message() sends nothing again.
    if message.state == MessageState.DRAFT and not message_send_allowed(organizer):
        flash(_rate_limited(), "error")
        return redirect(url_for(".confirm", slug=event.slug, message_id=message.id))
    try:
        confirmation = confirm_message(event.id, message.id, organizer)
    except MessageRefused as refusal:
        flash(refusal.message, "error")
        return redirect(url_for(".confirm", slug=event.slug, message_id=message.id))
    if confirmation.already_sent:
        flash(_("This message was sent before; nothing was sent again."), "error")
    else:
        count = confirmation.message.recipient_count
        flash(
            ngettext(
                "The message is being sent to %(num)d delegate.",
                "The message is being sent to %(num)d delegates.",
                count,
            ),
            "success",
        )
    return redirect(_sent_url(event, confirmation.message))


def _compose_page(
    event: Event, form, audience: dict, key: str, *, chosen=None, previews=(), problems=(), delegates=None
):
    """The compose page: what the audience is and reaches, the form, and the previews asked for (`delegates`: the
    audience's first recipients, when the caller has read them already)."""
    return render_template(
        "messages/compose.html",
        event=event,
        form=form,
        audience=audience,
        audience_words=audience_in_words(event, audience),
        key=key,
        reach=reach(event, audience),
        delegates=_preview_delegates(event, audience) if delegates is None else delegates,
        chosen=chosen,
        previews=previews,
        problems=problems,
        placeholders=PLACEHOLDERS,
        language_name=language_name,
        list_url=url_for("attendees.list_registrations", slug=event.slug, **audience.get("filter", {})),
    )


def _posted_audience(source: str | None, event: Event | None = None) -> dict:
    """The audience a POST names: the ticked rows (`ids`) or the filter's hidden fields; MessageRefused if not
    understood (as the attendee list's own refusals, it is said, never guessed)."""
    if source == "ids":
        ticked = TickedRowsForm()
        if not ticked.validate():
            raise MessageRefused(
                "", " ".join(str(error) for error in ticked.ids.errors or [_("Please reload the page.")])
            )
        return audience_from_ids(ticked.ids.data)
    if source == "filter" and event is not None:
        return audience_from_filter(request.form, event)
    raise MessageRefused("", _("The form was not understood; please open it again."))


def _draft_of(event: Event, value: str) -> Message:
    """The event's message named in the query string (404 for another one)."""
    message = message_in(event, _number(value) or 0)
    if message is None:
        abort(404)
    return message


def _number(value) -> int | None:
    """A positive whole number from the request, or None (a row id is never larger than the database's)."""
    value = str(value or "")
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 9 else None


def _delegate_arg(chosen: int | None) -> dict:
    return {"delegate": chosen} if chosen else {}


def _preview_delegates(event: Event, audience: dict) -> list[Registration]:
    """The first recipients of the audience by name: who the preview and the test can show the mail as."""
    query = (
        select(Registration)
        .where(*recipients_clauses(event, audience))
        .order_by(Registration.name_key, Registration.id)
        .limit(PREVIEW_CHOICES)
    )
    return list(db.session.scalars(query))


def _chosen_delegate(delegates: list[Registration], chosen: int | None) -> Registration | None:
    """Among the audience's first recipients (_preview_delegates()), the one picked in the preview's select, else
    the first one by name (None when nobody is reached)."""
    return next((r for r in delegates if r.id == chosen), delegates[0] if delegates else None)


def _previews(message: Message, registration: Registration | None) -> list[tuple[str, object]]:
    """(which version, the mail as `registration` would receive it) for the default version and each language
    version of the message; the private link is a stand-in."""
    if registration is None:
        return []
    versions = [code for code in offered_languages() if code in (message.versions or {})]
    # The default version is read by every language without its own: preview it in the first of those.
    readers = [code for code in offered_languages() if code not in versions]
    previews = []
    if readers:
        default = readers[0] if registration.language in versions else registration.language
        label = _("Default version, as read in %(language)s", language=language_name(default))
        previews.append((label, render_message(message, registration, preview=True, language=default)))
    for code in versions:
        label = _("Version in %(language)s", language=language_name(code))
        previews.append((label, render_message(message, registration, preview=True, language=code)))
    return previews


def _sent_url(event: Event, message: Message) -> str:
    """The page of a message that went out (the Messages record)."""
    return url_for("message_records.show_message", slug=event.slug, message_id=message.id)
