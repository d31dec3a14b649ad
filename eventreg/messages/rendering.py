"""How a message to delegates is written for each one: the version in their language, its placeholders filled with
their values, its markup (messages/markup.py) rendered to the text and HTML parts inside the layout of every mail;
and the outbox composer of the three kinds of message mail (messages/mails.py registers it)."""

from dataclasses import dataclass

from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ..extensions import db
from ..languages import default_language, mail_language, text_direction
from ..locale_formats import current_locale
from ..mail.addresses import smtp_address
from ..mail.compose import right_to_left_text
from ..mail.messages import CONTROL_CHARACTERS, EncodedMessage
from ..models import HONORIFIC_LABELS, Event, Message, OutboxMessage, Registration
from ..placeholders import fill
from ..templating import event_time
from ..tickets.codes import grouped_code, has_ticket
from ..tickets.mail import TicketMessage, current_ticket
from .markup import to_html, to_text
from .texts import TEST_MAIL

TEMPLATE = "email/message"


@dataclass(frozen=True)
class RenderedMail:
    """A message as one delegate receives it: the language it is written in, the subject (one line), and the
    plain-text and HTML parts (whole documents, in the mail layout)."""

    language: str
    subject: str
    text: str
    html: str


def placeholder_values(event: Event, registration: Registration | None, *, html: bool, preview: bool) -> dict:
    """The value of each placeholder for `registration`, in the current locale (callers force the delegate's).

    With `preview` the private link is a sentence that stands for it: the real token never reaches an organizer.
    Without a registration (a test send with no delegate chosen) the delegate's values are sample words that say
    what they stand for. For the text part and the subject (`html` False) every value is on one line, so none can
    end the Subject header or break the text; the HTML part gets them as they are, and the markup escapes them.
    """
    values = {
        "event_title": event.title,
        "event_start": event_time(event.starts_at, event),
        "venue": ", ".join(part for part in (event.venue, event.city) if part),
    }
    if registration is None:
        values.update(
            honorific=_("(honorific)"),
            given_name=_("(given name)"),
            family_name=_("(family name)"),
            private_link=_("(the delegate's private link)"),
            checkin_code=_("(the delegate's check-in code)"),
        )
    else:
        honorific = registration.honorific
        values.update(
            honorific=str(HONORIFIC_LABELS.get(honorific, honorific)) if honorific else "",
            given_name=registration.given_name or "",
            family_name=registration.family_name or "",
            private_link=(
                _("(this delegate's private link)")
                if preview
                else url_for("self_service.view_registration", token=registration.token, _external=True)
            ),
            checkin_code=grouped_code(registration.checkin_code) if has_ticket(registration.status) else "",
        )
    if not html:
        values = {name: CONTROL_CHARACTERS.sub(" ", value).strip() for name, value in values.items()}
    return values


def render_message(
    message: Message,
    registration: Registration | None,
    *,
    preview: bool = False,
    language: str | None = None,
    ticket=None,
) -> RenderedMail:
    """The mail `registration` receives for `message`, in their language (the version written for it, else the
    default one), or in `language` (to preview each version for one delegate). With `preview` the private link is a
    stand-in (for organizers' eyes). Without a registration, sample values, in `language` or the default language.
    `ticket` (tickets/mail.py TicketParts) adds the ticket's paragraphs."""
    if registration is not None and registration.erased_at is not None:
        raise ValueError("an erased registration receives no message")
    event = db.session.get(Event, message.event_id)
    wanted = language or (registration.language if registration is not None else default_language())
    with force_locale(mail_language(wanted)):
        locale = current_locale()
        subject, body = message.version_for(str(locale))
        text_values = placeholder_values(event, registration, html=False, preview=preview)
        html_values = placeholder_values(event, registration, html=True, preview=preview)
        context = {
            "event": event,
            "registration": registration,
            "private_link": text_values["private_link"] if registration is not None and not preview else "",
            "ticket": ticket if ticket is not None and ticket.qr_png else None,
            "ticket_later": False,
            "calendar_method": ticket.method if ticket is not None else None,
        }
        text = render_template(f"{TEMPLATE}.txt", body=to_text(body, text_values), **context)
        if text_direction(locale) == "rtl":
            text = right_to_left_text(text)
        html = render_template(f"{TEMPLATE}.html", body=to_html(body, html_values), **context)
        subject = CONTROL_CHARACTERS.sub(" ", fill(subject, text_values)).strip()
        return RenderedMail(str(locale), subject, text, html)


def compose_message_mail(outbox: OutboxMessage) -> EncodedMessage:
    """The mail of an outbox row of a message: to the delegate (kinds "message" and "event_reminder"), or a test
    to the organizer ("message_test", rendered as a preview for the delegate it names, if any, with "[Test]" before
    the subject). One recipient; Reply-To the event's contact unless the message says otherwise; the delegate's
    current ticket when the message carries it and they hold one."""
    message = db.session.get(Message, outbox.delegate_message_id)
    if message is None:
        raise ValueError(f"outbox message {outbox.id} names no message to delegates")
    event = db.session.get(Event, message.event_id)
    test = outbox.kind == TEST_MAIL
    if test:
        registration_id = (outbox.details or {}).get("registration_id")
        registration = db.session.get(Registration, registration_id) if registration_id else None
        if registration is not None and (registration.erased_at is not None or registration.event_id != event.id):
            registration = None  # erased since the test was asked for: sample values instead
        recipient = outbox.recipient
    else:
        registration = outbox.registration
        if registration is None or registration.erased_at is not None or not outbox.recipient:
            # Erasure cancels the queued mails; a row that escaped it fails here, without an address to send to.
            raise ValueError(f"outbox message {outbox.id}: the registration was erased, nothing is sent")
        recipient = (registration.display_name, outbox.recipient)
    ticket = current_ticket(registration, outbox) if message.attach_ticket and registration is not None else None
    rendered = render_message(message, registration, preview=test, ticket=ticket)
    subject = rendered.subject
    if test:
        with force_locale(rendered.language):
            subject = _("[Test] %(subject)s", subject=subject)
    fields = {
        "subject": subject,
        "recipients": [recipient],
        "body": rendered.text,
        "html": rendered.html,
        "reply_to": smtp_address(event.contact_email) if message.reply_to_contact else None,
    }
    return TicketMessage(**fields, ticket=ticket) if ticket else EncodedMessage(**fields)
