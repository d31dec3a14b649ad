"""The organizers' page of an event's categories."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import managed_event, requires
from ..languages import offered_languages
from ..models import Right
from .forms import categories_form, changes_from, initial_data
from .services import CategoryRefused, event_categories, next_position, save_categories, usage_counts

bp = Blueprint("categories", __name__, url_prefix="/organizer")


@bp.route("/events/<slug:slug>/categories", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def edit_categories(slug: str):
    """The event's categories: labels per language, colours, order, who sets each; add one, delete an unused one."""
    event = managed_event(slug)
    categories = event_categories(event.id)
    form = categories_form(tuple(offered_languages()))(data=initial_data(categories, next_position(event.id)))
    if form.validate_on_submit():
        try:
            save_categories(event, changes_from(form), current_user)
        except CategoryRefused as refusal:
            target = form.new.code if refusal.field == "code" else None
            (target.errors if target is not None else form.form_errors).append(refusal.message)
        else:
            flash(_("The categories have been saved."), "success")
            return redirect(url_for(".edit_categories", slug=slug))
    return render_template(
        "categories/edit.html",
        event=event,
        form=form,
        categories={str(category.id): category for category in categories},
        usage=usage_counts(event.id),
    )
