"""Messages to delegates: the event reminders in the event's settings, sent some days before the event starts."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, NumberRange

from ..auth.access import current_organizer, managed_event, requires
from ..categories.services import category_labels
from ..forms import ConfirmForm
from ..geo.countries import country_names
from ..models import STATUS_LABELS, Event, Right
from .forms import MessageTextsForm
from .queries import audience_in_words
from .reminders import (
    DEFAULT_FILTER,
    MAX_DAYS_BEFORE,
    MIN_DAYS_BEFORE,
    add_reminder,
    change_reminder,
    event_reminders,
    reminder_in,
    remove_reminder,
)
from .texts import PLACEHOLDERS, MessageRefused

bp = Blueprint("event_reminders", __name__, url_prefix="/organizer")

DAYS_MESSAGE = _l("Please give a number of days from %(low)d to %(high)d.", low=MIN_DAYS_BEFORE, high=MAX_DAYS_BEFORE)
ANY = _l("Any")
# The filter a reminder offers (kept small): the attendee list's status, category and country.
FILTER_FIELDS = ("status", "category", "country")


class ReminderForm(MessageTextsForm):
    """A reminder: its days before the start, its texts per language, who it goes to, its options."""

    days_before = IntegerField(
        _l("Days before the event starts"),
        validators=[InputRequired(DAYS_MESSAGE), NumberRange(MIN_DAYS_BEFORE, MAX_DAYS_BEFORE, DAYS_MESSAGE)],
    )
    status = SelectField(_l("Status"), default=DEFAULT_FILTER["status"])
    category = SelectField(_l("Category"), default="")
    country = SelectField(_l("Country or region"), default="")
    attach_ticket = BooleanField(
        _l("Attach each delegate's current ticket and calendar entry (when they have one)"), default=True
    )

    def offer(self, event: Event) -> "ReminderForm":
        """Fill the filter's choices with the event's categories and the countries, in the reader's language."""
        self.status.choices = [SelectChoice("", ANY), *(SelectChoice(str(k), v) for k, v in STATUS_LABELS.items())]
        self.category.choices = [SelectChoice("", ANY)] + [
            SelectChoice(code, label) for code, label in category_labels(event.id).items()
        ]
        self.country.choices = [SelectChoice("", ANY)] + [
            SelectChoice(code, name) for code, name in country_names().items()
        ]
        return self

    def audience_filter(self) -> dict:
        """The filter as chosen (empty values left out)."""
        return {name: self[name].data for name in FILTER_FIELDS if self[name].data}


@bp.get("/events/<slug:slug>/reminders")
@requires(Right.MESSAGE_DELEGATES)
def list_reminders(slug: str):
    """The event's reminders: when each is due, to whom, and whether it is scheduled, went out or was cancelled."""
    event = managed_event(slug)
    return render_template(
        "messages/reminders.html",
        event=event,
        reminders=event_reminders(event),
        remove_form=ConfirmForm(),
        audience_in_words=audience_in_words,
    )


@bp.route("/events/<slug:slug>/reminders/new", methods=["GET", "POST"], endpoint="add_reminder")
@requires(Right.MESSAGE_DELEGATES)
def add_reminder_page(slug: str):
    """Schedule a reminder some days before the event starts; back to the reminders."""
    event = managed_event(slug)
    form = ReminderForm.for_languages().offer(event)
    if form.validate_on_submit():
        try:
            add_reminder(event, form.days_before.data, form.texts(), form.audience_filter(), current_organizer())
        except MessageRefused as refusal:
            _show(form, refusal)
        else:
            flash(_("The reminder is scheduled."), "success")
            return redirect(url_for(".list_reminders", slug=slug))
    return _form_page(event, form, reminder=None)


@bp.route("/events/<slug:slug>/reminders/<int:reminder_id>/edit", methods=["GET", "POST"])
@requires(Right.MESSAGE_DELEGATES)
def edit_reminder(slug: str, reminder_id: int):
    """Change a reminder that has not gone out; one that went out is shown, with why it cannot be changed."""
    event = managed_event(slug)
    reminder = reminder_in(event, reminder_id)
    if reminder is None:
        abort(404)
    form = ReminderForm.for_languages().offer(event)
    if form.validate_on_submit():
        try:
            change_reminder(event, reminder_id, form.days_before.data, form.texts(), form.audience_filter())
        except MessageRefused as refusal:
            _show(form, refusal)
        else:
            flash(_("The reminder was changed."), "success")
            return redirect(url_for(".list_reminders", slug=slug))
    elif not form.is_submitted():
        message = reminder.message
        form.fill_from(message.subject, message.body, message.versions, message.attach_ticket,
                       message.reply_to_contact)  # fmt: skip
        form.days_before.data = reminder.scheduled.days_before
        chosen = (message.audience or {}).get("filter") or {}
        for name in FILTER_FIELDS:
            form[name].data = chosen.get(name, "")
    return _form_page(event, form, reminder=reminder)


@bp.post("/events/<slug:slug>/reminders/<int:reminder_id>/remove", endpoint="remove_reminder")
@requires(Right.MESSAGE_DELEGATES)
def remove_reminder_button(slug: str, reminder_id: int):
    """Remove a reminder that has not gone out; back to the reminders."""
    event = managed_event(slug)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form had expired; nothing was removed. Please try again."), "error")
    else:
        try:
            remove_reminder(event, reminder_id)
        except MessageRefused as refusal:
            flash(refusal.message, "error")
        else:
            flash(_("The reminder was removed."), "success")
    return redirect(url_for(".list_reminders", slug=slug))


def _show(form: ReminderForm, refusal: MessageRefused) -> None:
    """Put a refusal under its field (the filter's under the status), else at the top of the form."""
    if refusal.field == "filter":
        form.status.errors = [*form.status.errors, refusal.message]
    elif not form.show_refusal(refusal):
        form.form_errors.append(refusal.message)


def _form_page(event: Event, form: ReminderForm, reminder):
    """The add or edit page; 400 when the form was refused."""
    invalid = bool(form.errors or form.form_errors)
    return render_template(
        "messages/reminder_form.html", event=event, form=form, reminder=reminder, placeholders=PLACEHOLDERS
    ), (400 if invalid else 200)
