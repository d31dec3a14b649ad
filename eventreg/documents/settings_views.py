"""An event's document settings: the letterhead (host organisation, address, logo, signatory and signature), the
visa letter's template(s), and the custom label sheet for badges."""

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.access import managed_event, requires
from ..errors import CSRF_MESSAGE
from ..extensions import csrf
from ..languages import offered_languages
from ..models import Right
from .images import event_image, max_bytes
from .letter_template import LETTER_PLACEHOLDERS
from .settings import SettingsRefused, document_settings, save_settings
from .settings_forms import DocumentSettingsForm, initial_data

UPLOAD_ROOM = 256 * 1024  # the form's text beside the two images

bp = Blueprint("document_settings", __name__, url_prefix="/organizer")


@bp.route("/events/<slug:slug>/documents/settings", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
@csrf.exempt  # the global check would read the body under the site's 1 MiB limit; the form checks its own token
def edit_settings(slug: str):
    """The event's letterhead, visa letter templates and custom label sheet."""
    event = managed_event(slug)
    settings = document_settings(event)
    languages = offered_languages()
    # Room for two images at their limit and the text, before anything reads the body.
    request.max_content_length = 2 * max_bytes() + UPLOAD_ROOM
    try:
        form = DocumentSettingsForm(data=initial_data(settings), languages=languages)
    except RequestEntityTooLarge:
        form = DocumentSettingsForm(formdata=None, data=initial_data(settings), languages=languages)
        form.form_errors.append(_("The images are too large: at most %(size)d KB each.", size=max_bytes() // 1024))
        return _page(event, settings, form, {}), 413
    if form.validate_on_submit():
        try:
            save_settings(event, form.change(request.files), current_user, languages)
        except SettingsRefused as refusal:
            target = form._fields.get(refusal.field) if refusal.field not in (None, "label_sheet") else None
            if refusal.field in ("logo", "signature", "label_sheet"):
                form.form_errors.append(refusal.message)
                upload_errors = {refusal.field: refusal.message}
            else:
                upload_errors = {}
                (target.errors if target is not None else form.form_errors).append(refusal.message)
            settings = document_settings(event)
            return _page(event, settings, form, upload_errors), 422
        flash(_("The document settings have been saved."), "success")
        return redirect(url_for(".edit_settings", slug=slug))
    if "csrf_token" in form.errors:  # exempt from the global check, so the page says it (the summary skips it)
        form.form_errors.append(CSRF_MESSAGE)
        return _page(event, settings, form, {}), 400  # as the global check answers a form without its token
    return _page(event, settings, form, {}), 422 if form.errors else 200


def _page(event, settings, form, upload_errors):
    return render_template(
        "documents/settings.html",
        event=event,
        settings=settings,
        form=form,
        placeholders=LETTER_PLACEHOLDERS,
        upload_errors=upload_errors,
        max_kb=max_bytes() // 1024,
    )


@bp.get("/events/<slug:slug>/documents/images/<int:image_id>")
@requires(Right.MANAGE_EVENTS)
def show_image(slug: str, image_id: int):
    """One of the event's stored images (the logo, the signature), for the settings page's preview."""
    event = managed_event(slug)
    image = event_image(event, image_id)
    if image is None:
        abort(404)
    response = send_file(io.BytesIO(image.data), mimetype=image.content_type, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
