"""Certificates of attendance: a PDF on the event's letterhead, in the delegate's language, for a delegate who was
checked in once the event has started; downloaded from the private page, or mailed to every checked-in delegate
through the outbox (the PDF is rendered when the mail is sent)."""

from dataclasses import dataclass

from babel.dates import format_interval
from flask import render_template
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..extensions import db
from ..languages import bcp47, mail_language, text_direction
from ..locale_formats import date_locale
from ..mail.messages import Attachment
from ..mail.queue import add_kind, queue_mail
from ..models import Event, OutboxMessage, OutboxState, Registration, utcnow
from ..registration.capacity import lock_event
from .engine import image_url, render_pdf, static_url
from .settings import document_settings

CERTIFICATE_MAIL = "certificate"


class CertificatesRefused(Exception):
    """Certificates cannot be mailed now; the message says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class CertificateCounts:
    """How far the mailing of an event's certificates is."""

    checked_in: int  # delegates checked in (erased ones not counted)
    mailed: int  # of them, those a certificate mail was queued for


def event_started(event: Event) -> bool:
    """Whether the event has started (certificates exist from then on)."""
    return event.starts_at <= utcnow()


def certificate_refusal(registration: Registration) -> str | None:
    """Why this delegate cannot have a certificate (yet), or None when they can."""
    if registration.erased_at is not None:
        return str(_l("This registration's personal data was erased."))
    if not event_started(registration.event):
        return str(_l("Certificates of attendance can be downloaded once the event has started."))
    if registration.checked_in_at is None:
        return str(_l("A certificate of attendance is available once you have been checked in at the event."))
    return None


def event_dates(event: Event) -> str:
    """The event's days as the current language writes a range ("17–18 March 2031"), in the event's time zone."""
    starts, ends = event.local(event.starts_at).date(), event.local(event.ends_at).date()
    return format_interval(starts, ends, skeleton="yMMMMd", locale=date_locale())


def certificate_filename(registration: Registration) -> str:
    """The PDF's file name (ASCII: it goes into headers as it is)."""
    return f"certificate-{registration.event.slug}-{registration.id}.pdf"


def certificate_pdf(registration: Registration) -> bytes:
    """The delegate's certificate of attendance as PDF, in their language, on the event's letterhead."""
    event = registration.event
    settings = document_settings(event)
    language = mail_language(registration.language)
    with force_locale(language):
        html = render_template(
            "documents/certificate.html",
            registration=registration,
            event=event,
            settings=settings,
            dates=event_dates(event),
            lang=bcp47(language),
            dir=text_direction(language),
            stylesheet=static_url("css/documents.css"),
            logo_url=image_url(settings.logo_id) if settings.logo_id else None,
            signature_url=image_url(settings.signature_id) if settings.signature_id else None,
        )
    return render_pdf(html)


def _checked_in(event_id: int):
    return select(Registration.id).where(
        Registration.event_id == event_id, Registration.checked_in_at.is_not(None), Registration.erased_at.is_(None)
    )


def _mailed(event_id: int):
    # A mail cancelled with its check-in does not count: checked in again, the delegate gets one.
    return select(OutboxMessage.registration_id).where(
        OutboxMessage.kind == CERTIFICATE_MAIL,
        OutboxMessage.registration_id.in_(_checked_in(event_id)),
        OutboxMessage.state != OutboxState.CANCELLED,
    )


def cancel_certificate_mails(registration_id: int) -> int:
    """Cancel the registration's certificate mails not sent yet, in the caller's transaction (its check-in was
    undone: the certificate would say it attended); how many."""
    return db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.registration_id == registration_id,
            OutboxMessage.kind == CERTIFICATE_MAIL,
            OutboxMessage.state == OutboxState.QUEUED,
        )
        .values(state=OutboxState.CANCELLED)
    ).rowcount


def certificate_counts(event: Event) -> CertificateCounts:
    """How many delegates were checked in, and how many of them a certificate mail was queued for."""
    checked_in = db.session.scalar(select(func.count()).select_from(_checked_in(event.id).subquery()))
    mailed = db.session.scalar(
        select(func.count(func.distinct(OutboxMessage.registration_id))).where(
            OutboxMessage.kind == CERTIFICATE_MAIL, OutboxMessage.registration_id.in_(_checked_in(event.id))
        )
    )
    return CertificateCounts(checked_in=checked_in or 0, mailed=mailed or 0)


def queue_certificates(event: Event) -> int:
    """Queue one certificate mail for each checked-in delegate who has none yet, in ONE transaction under the
    event's lock (a second press, or two organizers at once, queue nothing twice); returns how many were queued.
    Raises CertificatesRefused before the event starts."""
    try:
        locked = lock_event(event.id)
        if not event_started(locked):
            raise CertificatesRefused(_l("Certificates can be mailed once the event has started."))
        pending = select(Registration).where(
            Registration.id.in_(_checked_in(event.id)), Registration.id.not_in(_mailed(event.id))
        )
        queued = 0
        for registration in db.session.scalars(pending.order_by(Registration.id)):
            queue_mail(CERTIFICATE_MAIL, registration)
            queued += 1
        db.session.commit()
        return queued
    except BaseException:
        db.session.rollback()
        raise


def _certificate_subject(title: str, _status: str) -> str:
    return gettext("Your certificate of attendance: %(title)s", title=title)


def _certificate_attachment(message: OutboxMessage) -> list[Attachment]:
    """The certificate, rendered when the mail is sent (in the recipient's language, as the mail is)."""
    registration = message.registration
    return [Attachment(certificate_filename(registration), "application/pdf", certificate_pdf(registration))]


add_kind(CERTIFICATE_MAIL, "email/certificate", _certificate_subject, attachments=_certificate_attachment)
