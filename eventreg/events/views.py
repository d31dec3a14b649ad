"""Organizers create events and change their settings; the slug, and so every link, never changes."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import stats
from ..auth.access import managed_event, requires
from ..models import Right
from ..registration.capacity import promotion_message
from .forms import EventForm, EventSettingsForm, form_values
from .notices import event_change_rows
from .rules import EventError, with_local_times
from .services import create_event, update_event

bp = Blueprint("events", __name__, url_prefix="/organizer")
bp.add_app_template_global(event_change_rows, "event_change_rows")  # for templates/email/event_changed.*


def _show_error(form: EventForm, error: EventError) -> None:
    """Put a rule's message beside the field it is about, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors.append(str(error))
    else:
        form.form_errors.append(str(error))


@bp.route("/events/new", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def new_event():
    """Create an event; an organizer who creates one runs it."""
    form = EventForm()
    if form.validate_on_submit():
        try:
            event = create_event(organizer=current_user, **with_local_times(form.details()), **form.guest_list())
        except EventError as error:
            _show_error(form, error)
        else:
            flash(_("The event has been created. Its public page is ready."), "success")
            return redirect(url_for("organizer.dashboard", slug=event.slug))
    return render_template("organizer/event_form.html", form=form, event=None)


@bp.route("/events/<slug:slug>/settings", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def settings(slug: str):
    """Change an event's details; its address stays the same."""
    event = managed_event(slug)
    form = EventSettingsForm(data=form_values(event))
    if form.validate_on_submit():
        try:
            update = update_event(
                event,
                organizer=current_user,
                tell_delegates=form.tell_delegates.data,
                **with_local_times(form.details()),
                **form.guest_list(),
            )
        except EventError as error:
            _show_error(form, error)
        else:
            saved = _("The event's settings have been saved.") if update.changed else _("Nothing was changed.")
            flash(saved, "success")
            if update.promoted:
                flash(promotion_message(len(update.promoted)), "success")
            if update.told:  # an event nobody registered for yet has nobody to tell
                flash(_told_message(update.told), "success")
            _warn_if_over_capacity(event)
            return redirect(url_for("events.settings", slug=slug))
    return render_template("organizer/event_form.html", form=form, event=event)


def _told_message(count: int) -> str:
    """What an organizer is told after a new date, time or place was queued for the delegates."""
    return ngettext(
        "%(num)d delegate will be told of the new date, time or place by email.",
        "%(num)d delegates will be told of the new date, time or place by email.",
        count,
    )


def _warn_if_over_capacity(event) -> None:
    """Say so when the capacity is now below the seats already taken: nobody is removed, nobody new gets in."""
    if event.capacity is None:
        return
    taken = stats.seats_taken(event.id)
    if taken > event.capacity:
        flash(
            _(
                "The capacity (%(capacity)d) is below the %(taken)d seats already taken. Nobody is removed; "
                "new registrations join the waiting list until enough seats are free.",
                capacity=event.capacity,
                taken=taken,
            ),
            "error",
        )
