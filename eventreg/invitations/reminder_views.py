"""The organizers' invitation reminders: sent now to a selection, or scheduled before registration closes."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from ..auth.access import current_organizer, managed_event, requires
from ..converters import MAX_ID
from ..forms import ConfirmForm, Form
from ..models import Right
from .forms import MAX_SELECTED
from .reminders import (
    MAX_DAYS_BEFORE,
    MIN_DAYS_BEFORE,
    ReminderRefused,
    add_reminder,
    audience,
    remind_now,
    remove_reminder,
    scheduled_reminders,
)

bp = Blueprint("invitation_reminders", __name__, url_prefix="/organizer")

# The list's filter fields a reminder without chosen rows reads, and passes back to the list.
FILTER_FIELDS = ("status", "q", "delegation")
DAYS_MESSAGE = _l("Please give a number of days from %(low)d to %(high)d.", low=MIN_DAYS_BEFORE, high=MAX_DAYS_BEFORE)


class AddReminderForm(Form):
    """A reminder some days before registration closes."""

    days_before = IntegerField(
        _l("Days before registration closes"),
        validators=[InputRequired(DAYS_MESSAGE), NumberRange(MIN_DAYS_BEFORE, MAX_DAYS_BEFORE, DAYS_MESSAGE)],
    )


def _chosen_ids() -> list[int] | None:
    """The invitation ids ticked on the list (`ids`, repeated); None when one is not a plausible id."""
    ids = []
    for value in request.form.getlist("ids"):
        if not value.isdigit() or not 0 < int(value) <= MAX_ID:
            return None
        ids.append(int(value))
    return ids


@bp.post("/events/<slug:slug>/invitations/remind")
@requires(Right.MANAGE_EVENTS)
def remind(slug: str):
    """Remind the ticked invitations, or every unanswered one the list's filter shows, at once; back to the list."""
    event = managed_event(slug)
    filters = {name: request.form.get(name, "").strip()[:200] for name in FILTER_FIELDS}
    back = url_for("invitations.list_invitations", slug=slug, **{k: v for k, v in filters.items() if v})
    if not ConfirmForm().validate_on_submit():
        flash(_("The form had expired; nothing was sent. Please try again."), "error")
        return redirect(back)
    ids = _chosen_ids()
    if ids is None:
        flash(_("The selection was not understood; nothing was sent. Please tick the invitations again."), "error")
        return redirect(back)
    if len(ids) > MAX_SELECTED:  # as the list's own actions: a bounded IN list
        flash(_("Please choose at most %(max)d invitations at a time.", max=MAX_SELECTED), "error")
        return redirect(back)
    try:
        count = remind_now(event, audience(ids=ids, **filters), current_organizer())
    except ReminderRefused as refusal:
        flash(refusal.message, "error")
        return redirect(back)
    if count:
        flash(ngettext("%(num)d invitee who has not answered will be reminded.",
                       "%(num)d invitees who have not answered will be reminded.", count), "success")  # fmt: skip
    else:
        flash(_("Nobody was reminded: none of these invitations is waiting for an answer."), "error")
    return redirect(back)


@bp.route("/events/<slug:slug>/invitations/reminders", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def schedule(slug: str):
    """The event's invitation reminders, with their times, states and counts; add one some days before
    registration closes, or remove one that has not gone out."""
    event = managed_event(slug)
    form = AddReminderForm()
    remove_form = ConfirmForm(prefix="remove")
    if request.method == "POST" and "remove" in request.form:
        if remove_form.validate_on_submit() and request.form["remove"].isdigit():
            try:
                remove_reminder(event, int(request.form["remove"]))
                flash(_("The reminder was removed."), "success")
            except ReminderRefused as refusal:
                flash(refusal.message, "error")
        else:
            flash(_("The form had expired; nothing was removed. Please try again."), "error")
        return redirect(url_for(".schedule", slug=slug))
    if form.validate_on_submit():
        try:
            add_reminder(event, form.days_before.data, current_organizer())
        except ReminderRefused as refusal:
            form.days_before.errors.append(refusal.message)
        else:
            flash(_("The reminder is scheduled."), "success")
            return redirect(url_for(".schedule", slug=slug))
    return render_template(
        "invitations/reminders.html",
        event=event,
        form=form,
        remove_form=remove_form,
        reminders=scheduled_reminders(event),
    ), (400 if form.errors else 200)
