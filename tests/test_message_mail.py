"""A message to delegates as each one receives it, through the outbox and a real SMTP server: their language's
version, their own values in the placeholders, escaped in the HTML part, one recipient per mail, the Reply-To, the
ticket, and the organizer's test send."""

import email
import email.policy

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

import eventreg.messages.mails  # noqa: F401 - registers the kinds of message mail, as the compose views do
from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.mail.worker import deliver_due
from eventreg.messages.rendering import compose_message_mail, render_message
from eventreg.messages.services import confirm_message, new_idempotency_key, queue_test, save_draft
from eventreg.messages.texts import MessageTexts
from eventreg.models import Event, Message, Organizer, OutboxMessage, OutboxState, Registration
from eventreg.registration.privacy import erase_registration
from tests.conftest import create_test_event, private_token, register_test_delegate

TEXTS = MessageTexts(
    subject="Shuttle for {given_name}",
    body="Dear {honorific} {family_name},\n\nThe shuttle leaves at 8.\n**Bring your passport.**\n\n"
    "Your registration: {private_link}",
    versions={"fr": ("Navette pour {given_name}", "Cher {honorific} {family_name},\n\nLa navette part à 8 h.")},
)


def parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def html_of(mail) -> str:
    return mail.get_body(("html",)).get_content()


def register(app, event, email_address, **fields) -> int:
    """A registration's id; its own mails (the confirmation) are taken out of the queue, so only the message's
    mails reach the SMTP server."""
    registration_id, _token = register_test_delegate(app, event, email=email_address, **fields)
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(state=OutboxState.CANCELLED))
        db.session.commit()
    return registration_id


def change(app, registration_id, **columns) -> None:
    """Write columns as a row written otherwise than through the forms could hold them."""
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.id == registration_id).values(**columns))
        db.session.commit()


def send(app, event, texts=TEXTS, audience=None) -> int:
    """Save, confirm and deliver a message as the organizer's pages do; its id."""
    with app.test_request_context():
        draft = save_draft(
            db.session.get(Event, event.id), texts, audience or {"filter": {}}, new_idempotency_key(), None
        )
        confirm_message(event.id, draft.id, None)
        message_id = draft.id
    deliver(app)
    return message_id


def deliver(app) -> None:
    with app.app_context():
        run_due()
        deliver_due()


def by_recipient(smtp_server) -> dict[str, email.message.EmailMessage]:
    mails = {}
    for envelope in smtp_server.envelopes:
        [address] = envelope.rcpt_tos
        assert address not in mails
        mails[address] = parse(envelope)
    return mails


ADDRESSES = {"en": "ada@example.org", "fr": "marie@example.org", "zh_Hans": "chunli@example.org"}


def test_each_delegate_gets_their_languages_version_with_their_own_values(smtp_app, smtp_server):
    event = create_test_event(smtp_app, capacity=2)
    ids = {
        "en": register(smtp_app, event, ADDRESSES["en"], language="en", honorific="Dr.", given_name="Ada",
                       family_name="Lovelace", native_name=""),
        "fr": register(smtp_app, event, ADDRESSES["fr"], language="fr", honorific="Prof.", given_name="Marie",
                       family_name="Curie", native_name=""),
        "zh_Hans": register(smtp_app, event, ADDRESSES["zh_Hans"], language="zh_Hans"),  # waitlisted: no code
    }  # fmt: skip
    send(smtp_app, event)
    mails = by_recipient(smtp_server)
    assert sorted(mails) == sorted(ADDRESSES.values())
    en, fr, zh = mails[ADDRESSES["en"]], mails[ADDRESSES["fr"]], mails[ADDRESSES["zh_Hans"]]
    assert en["Subject"] == "Shuttle for Ada"
    assert "Dear Dr. Lovelace," in text_of(en)
    assert "Bring your passport." in text_of(en) and "**" not in text_of(en)
    assert "<strong>Bring your passport.</strong>" in html_of(en)
    assert fr["Subject"] == "Navette pour Marie"
    assert "Cher Pr Curie," in text_of(fr)  # the honorific in French too
    assert "shuttle" not in text_of(fr)
    assert zh["Subject"] == "Shuttle for Chunli"  # no Chinese version: the default one
    assert "Dear 教授 Bai," in text_of(zh)  # the default text, the honorific in Chinese
    assert 'lang="zh-Hans"' in html_of(zh)  # the layout in the delegate's language
    for language, registration_id in ids.items():
        mail = mails[ADDRESSES[language]]
        assert len(mail["To"].addresses) == 1
        token = private_token(smtp_app, registration_id)
        link = f"https://register.example.org/r/{token}"
        assert link in text_of(mail)
        assert f'<a href="{link}"' in html_of(mail)
        page = smtp_app.test_client().get(link)
        assert page.status_code == 200
        assert ADDRESSES[language] in page.text  # the link opens this delegate's own registration
        others = [address for address in ADDRESSES.values() if address != ADDRESSES[language]]
        raw = next(e.content for e in smtp_server.envelopes if e.rcpt_tos == [ADDRESSES[language]])
        assert not any(address.encode() in raw for address in others)


@pytest.mark.parametrize(
    ("given_name", "in_html", "not_in_html"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;", "<img src=x"),
        ('"><script>alert(1)</script>', "&lt;script&gt;", "<script>"),
        ("**Eve**", "**Eve**", "<strong>Eve</strong>"),
        ("https://evil.example/x", "https://evil.example/x", 'href="https://evil.example'),
    ],
)
def test_placeholder_values_are_escaped_in_the_html_part_and_plain_in_the_text(
    smtp_app, smtp_server, given_name, in_html, not_in_html
):
    event = create_test_event(smtp_app)
    registration_id = register(smtp_app, event, "eve@example.org")
    change(smtp_app, registration_id, given_name=given_name)
    send(smtp_app, event, MessageTexts(subject="Hello", body="Dear {given_name}, welcome."))
    [envelope] = smtp_server.envelopes
    mail = parse(envelope)
    assert in_html in html_of(mail)
    assert not_in_html not in html_of(mail)
    assert f"Dear {given_name}, welcome." in text_of(mail)


@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\r", "\u2028"])
def test_a_name_with_a_line_break_cannot_add_a_header(smtp_app, smtp_server, line_break):
    event = create_test_event(smtp_app)
    registration_id = register(smtp_app, event, "eve@example.org")
    change(smtp_app, registration_id, given_name=f"Eve{line_break}Bcc: victim@example.org")
    send(smtp_app, event, MessageTexts(subject="Hello {given_name}", body="Dear {given_name},"))
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["eve@example.org"]
    mail = parse(envelope)
    assert mail["Bcc"] is None
    assert mail["Subject"] == "Hello Eve Bcc: victim@example.org"
    assert [address.addr_spec for address in mail["To"].addresses] == ["eve@example.org"]
    headers = envelope.content.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc") for line in headers.split(b"\r\n"))


@pytest.mark.parametrize(("reply_to_contact", "reply_to"), [(True, "protocol@example.org"), (False, None)])
def test_replies_go_to_the_events_contact_unless_unticked(smtp_app, smtp_server, reply_to_contact, reply_to):
    event = create_test_event(smtp_app, contact_email="protocol@example.org")
    register(smtp_app, event, "eve@example.org")
    send(smtp_app, event, MessageTexts(subject="Hello", body="Hi.", reply_to_contact=reply_to_contact))
    [envelope] = smtp_server.envelopes
    mail = parse(envelope)
    assert (mail["Reply-To"].addresses[0].addr_spec if mail["Reply-To"] else None) == reply_to


def attachments(mail) -> list[str]:
    return [part.get_content_type() for part in mail.walk() if not part.is_multipart()]


def test_the_ticket_goes_to_the_confirmed_delegate_and_not_to_the_waitlisted_one(smtp_app, smtp_server):
    event = create_test_event(smtp_app, capacity=1)
    confirmed = register(smtp_app, event, "seated@example.org")
    register(smtp_app, event, "waiting@example.org")
    send(smtp_app, event, MessageTexts(subject="Hello", body="Your code: {checkin_code}", attach_ticket=True))
    mails = by_recipient(smtp_server)
    with smtp_app.app_context():
        code = db.session.get(Registration, confirmed).checkin_code
    seated, waiting = mails["seated@example.org"], mails["waiting@example.org"]
    assert "text/calendar" in attachments(seated) and "image/png" in attachments(seated)
    assert "event.ics" in seated.as_string()
    assert code[:5] in text_of(seated)
    assert attachments(waiting) == ["text/plain", "text/html"]
    assert text_of(waiting).splitlines()[0].rstrip() == "Your code:"  # no code before the seat is confirmed


def test_without_attach_ticket_nobody_gets_the_ticket(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    register(smtp_app, event, "seated@example.org")
    send(smtp_app, event, MessageTexts(subject="Hello", body="Hi."))
    [envelope] = smtp_server.envelopes
    assert attachments(parse(envelope)) == ["text/plain", "text/html"]


def test_an_arabic_delegate_reads_the_mail_right_to_left(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    register(smtp_app, event, "amal@example.org", language="ar", given_name="Amal", family_name="Saad")
    send(smtp_app, event, MessageTexts(subject="Hello", body="Dear {given_name},\n\nWelcome."))
    [envelope] = smtp_server.envelopes
    mail = parse(envelope)
    assert 'dir="rtl"' in html_of(mail)
    assert "\u200fDear Amal," in text_of(mail)


def organizer(app, address="organizer@example.org") -> Organizer:
    with app.app_context():
        create_organizer(address, "correct horse battery", "organizer")
    return address


@pytest.mark.parametrize("with_delegate", [True, False])
def test_the_test_send_reaches_the_organizer_without_the_delegates_private_link(smtp_app, smtp_server, with_delegate):
    event = create_test_event(smtp_app)
    registration_id = register(smtp_app, event, "marie@example.org", language="fr", given_name="Marie")
    address = organizer(smtp_app)
    texts = MessageTexts(subject="Shuttle for {given_name}", body="Your link: {private_link}", attach_ticket=True)
    with smtp_app.test_request_context():
        draft = save_draft(db.session.get(Event, event.id), texts, {"filter": {}}, new_idempotency_key(), None)
        chosen = db.session.get(Registration, registration_id) if with_delegate else None
        queue_test(db.session.get(Event, event.id), draft, db.session.scalar(select(Organizer)), chosen)
    deliver(smtp_app)
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == [address]
    mail = parse(envelope)
    token = private_token(smtp_app, registration_id)
    assert token.encode() not in envelope.content
    assert b"marie@example.org" not in envelope.content
    assert "/r/" not in text_of(mail)
    if with_delegate:  # in Marie's language, French
        with smtp_app.test_request_context(), force_locale("fr"):
            subject, stand_in = (
                gettext("[Test] %(subject)s", subject="Shuttle for Marie"),
                gettext("(this delegate's private link)"),
            )
        assert stand_in != "(this delegate's private link)"  # the French catalog has it
        assert mail["Subject"] == subject
        assert stand_in in text_of(mail)
    else:
        assert mail["Subject"] == "[Test] Shuttle for (given name)"
        assert "(the delegate's private link)" in text_of(mail)


def test_a_delegate_erased_after_the_send_gets_nothing_and_the_worker_goes_on(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    kept = register(smtp_app, event, "kept@example.org")
    gone = register(smtp_app, event, "gone@example.org")
    with smtp_app.test_request_context():
        draft = save_draft(db.session.get(Event, event.id), TEXTS, {"filter": {}}, new_idempotency_key(), None)
        confirm_message(event.id, draft.id, None)
        draft_id = draft.id
        run_due()
        erase_registration(gone, actor=None)
        # A row that escaped the erasure's cancelling: composing it fails cleanly, with nothing to send.
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.registration_id == gone, OutboxMessage.delegate_message_id == draft.id)
            .values(state=OutboxState.QUEUED)
        )
        db.session.commit()
        escaped = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.registration_id == gone, OutboxMessage.delegate_message_id == draft.id
            )
        )
        with pytest.raises(ValueError, match="erased"):
            compose_message_mail(escaped)
        deliver_due()
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes if b"shuttle" in envelope.content] == [
        ["kept@example.org"]
    ]
    with smtp_app.app_context():
        assert db.session.get(Message, draft_id).recipient_count == 2
        assert db.session.get(Registration, kept).erased_at is None


@pytest.mark.parametrize(
    ("language", "subject", "lang"),
    [
        (None, "Navette pour Marie", "fr"),
        ("en", "Shuttle for Marie", "en"),
        ("zh_Hans", "Shuttle for Marie", "zh-Hans"),
    ],
)
def test_the_preview_shows_each_version_as_the_delegate_reads_it_without_their_link(app, language, subject, lang):
    event = create_test_event(app)
    registration_id = register(app, event, "marie@example.org", language="fr", given_name="Marie")
    token = private_token(app, registration_id)
    with app.test_request_context():
        draft = save_draft(db.session.get(Event, event.id), TEXTS, {"filter": {}}, new_idempotency_key(), None)
        registration = db.session.get(Registration, registration_id)
        mail = render_message(draft, registration, preview=True, language=language)
    assert mail.subject == subject
    assert f'lang="{lang}"' in mail.html
    assert token not in mail.html and token not in mail.text
    assert "/r/" not in mail.html
