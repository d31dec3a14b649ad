"""Composing a queued mail at send time: its subject, its text and HTML from the template pair, in the recipient's
language, with the ticket when it carries one."""

import flask_mail
from flask import render_template, url_for
from flask_babel import force_locale, gettext

from ..languages import mail_language, text_direction
from ..locale_formats import current_locale
from ..models import Invitation, OutboxMessage, Registration
from ..stats import waitlist_position
from ..tickets.mail import TicketMessage, ticket_context, ticket_parts
from .addresses import default_sender_address, smtp_address
from .messages import EncodedMessage
from .queue import ATTACHMENTS, COMPOSERS, ERASURE_NOTICE, INVITATION_KINDS, KINDS, SUBJECTS

# Mails to an address that no longer stands for the person: the erasure notice, and the notice to a former address
# that the registration moved to another one. They carry no name, no private link, no ticket.
NOTICES_WITHOUT_PERSON = (ERASURE_NOTICE, "address_changed")
RIGHT_TO_LEFT_MARK = "\u200f"


def right_to_left_text(body: str) -> str:
    """A plain-text part in a language written right to left, each line begun with U+200F RIGHT-TO-LEFT MARK.

    A mail program lays out each line of a text part in the direction of its first strong letter: a line that begins
    with a Latin name, an event title, an address or a link would be set left to right, on the wrong side, with its
    punctuation moved. The invisible mark makes every line right to left, as dir="rtl" does for the HTML part; what
    the line holds keeps its own order inside it (a link stays a link).
    """
    return "\n".join(RIGHT_TO_LEFT_MARK + line if line.strip() else line for line in body.split("\n"))


def _subject(kind: str, registration: Registration, status: str) -> str:
    event = registration.event
    if kind in SUBJECTS:
        return SUBJECTS[kind](event.title, status)
    if kind == "confirmation" and status == "pending":
        return gettext("Registration received, awaiting approval: %(title)s", title=event.title)
    if kind == "confirmation" and status == "waitlisted":
        return gettext("You are on the waiting list: %(title)s", title=event.title)
    if kind == "promoted" and status == "pending":
        return gettext("A seat is free, your registration awaits approval: %(title)s", title=event.title)
    if kind == "promoted":
        return gettext("A seat is free, your registration is confirmed: %(title)s", title=event.title)
    if kind == "changed":
        return gettext("Your registration was updated: %(title)s", title=event.title)
    if kind == "event_changed":
        return gettext("New date, time or place: %(title)s", title=event.title)
    if kind == "address_changed":
        return gettext("The email address of a registration was changed: %(title)s", title=event.title)
    if kind == "email_change":
        return gettext("Confirm your new email address for %(title)s", title=event.title)
    if kind == "lost_link":
        return gettext("Your registration link for %(title)s", title=event.title)
    if kind == "approved":
        return gettext("Your registration is approved: %(title)s", title=event.title)
    if kind == "rejected":
        return gettext("Your registration was not accepted: %(title)s", title=event.title)
    if kind == "cancelled":
        return gettext("Your registration is cancelled: %(title)s", title=event.title)
    if kind == ERASURE_NOTICE:
        return gettext("Your personal data was erased: %(title)s", title=event.title)
    return gettext("Your registration for %(title)s", title=event.title)


def compose(message: OutboxMessage) -> flask_mail.Message:
    """Render a queued message in the delegate's language, with absolute links and a stable Message-ID; a ticket
    (QR code and calendar entry) goes with it when the registration has one (see tickets/mail.py)."""
    if message.kind in INVITATION_KINDS:
        return compose_invitation_mail(message)
    if message.kind in COMPOSERS:
        mail_message = COMPOSERS[message.kind](message)
        mail_message.msgId = message.message_id or outbox_message_id(message)
        return mail_message
    registration = message.registration
    event = registration.event
    details = message.details or {}
    # The status when the mail was queued (older messages have none: then the current one).
    status = details.get("status", registration.status)
    context = {
        "registration": registration,
        "event": event,
        "event_url": url_for("registration.show_event", slug=event.slug, _external=True),
        "details": details,
        "status": status,
    }
    if message.kind in NOTICES_WITHOUT_PERSON:
        # Nothing of the person goes to this address but the event: no name, no private link, no ticket.
        ticket = None
        recipient = message.recipient
    else:
        private_url = url_for("self_service.view_registration", token=registration.token, _external=True)
        ticket = ticket_parts(message, status)
        recipient = (registration.display_name, message.recipient)
        context["private_url"] = private_url
        # The place now, while still waiting; None once the registration has moved on.
        context["waitlist_position"] = waitlist_position(registration)
        context.update(ticket_context(message, ticket, status))
    with force_locale(mail_language(registration.language)):  # a language no longer offered: the default
        template = KINDS[message.kind]
        subject = _subject(message.kind, registration, status)
        body = render_template(f"{template}.txt", **context)
        if text_direction(current_locale()) == "rtl":
            body = right_to_left_text(body)
        html = render_template(f"{template}.html", **context)
        files = ATTACHMENTS[message.kind](message) if message.kind in ATTACHMENTS else []
    fields = {
        "subject": subject,
        "recipients": [recipient],
        "body": body,
        "html": html,
        "reply_to": smtp_address(event.contact_email),
        "files": files,
    }
    mail_message = TicketMessage(**fields, ticket=ticket) if ticket else EncodedMessage(**fields)
    mail_message.msgId = message.message_id or outbox_message_id(message)
    return mail_message


def invitee_name(invitation: Invitation) -> str:
    """An invitee's name as a salutation writes it: the registration's rule (family name first in CJK scripts,
    the honorific before), applied to what the invitation knows."""
    person = Registration(
        honorific=invitation.honorific, given_name=invitation.given_name, family_name=invitation.family_name
    )
    return person.display_name


def compose_invitation_mail(message: OutboxMessage) -> flask_mail.Message:
    """Render a mail about an invitation (the invitation, a reminder) in the invitee's language: the event, the
    organizers' paragraph and the personal link."""
    invitation = message.invitation
    event = invitation.event
    details = message.details or {}
    name = invitee_name(invitation)
    context = {
        "invitation": invitation,
        "event": event,
        "name": name,
        "event_url": url_for("registration.show_event", slug=event.slug, _external=True),
        "invitation_url": url_for("invitation.open_invitation", token=invitation.token, _external=True),
        "note": event.invitation_note,
        "details": details,
    }
    with force_locale(mail_language(invitation.language)):
        template = KINDS[message.kind]
        subject = SUBJECTS[message.kind](event.title, details.get("status", ""))
        body = render_template(f"{template}.txt", **context)
        if text_direction(current_locale()) == "rtl":
            body = right_to_left_text(body)
        html = render_template(f"{template}.html", **context)
    mail_message = EncodedMessage(
        subject=subject,
        recipients=[(name, message.recipient) if name else message.recipient],
        body=body,
        html=html,
        reply_to=smtp_address(event.contact_email),
    )
    mail_message.msgId = message.message_id or outbox_message_id(message)
    return mail_message


def outbox_message_id(message: OutboxMessage) -> str:
    """One Message-ID per outbox row, kept across retries, so a repeated send can be recognised."""
    domain = default_sender_address().rpartition("@")[2] or "localhost"
    return f"<outbox-{message.id}-{int(message.created_at.timestamp())}@{domain}>"
