"""Certificates of attendance: the delegate's download from their private page once checked in and the event has
started, and the organizers' mailing of certificates to every checked-in delegate."""

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import BooleanField
from wtforms.validators import InputRequired

from ..auth.access import managed_event, public, requires
from ..forms import Form
from ..models import Right
from ..registration.views import registration_or_404
from .certificates import (
    CertificatesRefused,
    certificate_counts,
    certificate_filename,
    certificate_pdf,
    certificate_refusal,
    event_started,
    queue_certificates,
)


class MailCertificatesForm(Form):
    """The organizer confirms the mailing with a tick: it sends mail to every checked-in delegate at once."""

    confirm = BooleanField(
        _l("Yes, mail the certificates"),
        validators=[InputRequired(_l("Please tick the box to confirm the mailing."))],
    )


bp = Blueprint("certificates", __name__)
# The private page (registration/view.html, through documents/_private_certificate.html) asks whether to offer it.
bp.add_app_template_global(certificate_refusal, "certificate_refusal")


@bp.get("/r/<token:token>/certificate.pdf")
@public
def own_certificate(token: str):
    """The delegate's certificate of attendance (PDF), once checked in and the event has started."""
    registration = registration_or_404(token)
    refusal = certificate_refusal(registration)
    if refusal is not None:
        page = render_template(
            "documents/certificate_refused.html", registration=registration, event=registration.event, reason=refusal
        )
        return page, 403
    response = Response(certificate_pdf(registration), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{certificate_filename(registration)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/organizer/events/<slug:slug>/certificates", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def mail_certificates(slug: str):
    """How many checked-in delegates have had their certificate mailed; mail it to all the others."""
    event = managed_event(slug)
    form = MailCertificatesForm()
    if form.validate_on_submit():
        try:
            queued = queue_certificates(event)
        except CertificatesRefused as refusal:
            flash(str(refusal.message), "error")
        else:
            if queued:
                flash(
                    ngettext(
                        "%(num)d certificate is queued for mailing.",
                        "%(num)d certificates are queued for mailing.",
                        queued,
                    ),
                    "success",
                )
            else:
                flash(_("Every checked-in delegate's certificate was already queued: nothing new to mail."), "info")
        return redirect(url_for(".mail_certificates", slug=slug))
    page = render_template(
        "documents/certificates.html",
        event=event,
        form=form,
        counts=certificate_counts(event),
        started=event_started(event),
    )
    return page, 422 if form.errors else 200
