"""Invitation mails through the outbox to a real SMTP server: the invitee's language, the organizers' paragraph
and the personal link; the invitation's status from the outcome; the lost-link form resends an invitation; the
Outbox page lists and resends invitation mails."""

import email
import email.policy

from sqlalchemy import select, update

from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.invitations.mails import INVITATION, INVITATION_REMINDER
from eventreg.mail.compose import RIGHT_TO_LEFT_MARK
from eventreg.mail.queue import queue_invitation_mail
from eventreg.mail.worker import deliver_due
from eventreg.models import Invitation, OutboxMessage
from tests.conftest import create_test_event
from tests.test_invitation_link import load, make_invitation


def parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def queue(app, invitation_id: int, kind: str = INVITATION) -> int:
    with app.app_context():
        message = queue_invitation_mail(kind, db.session.get(Invitation, invitation_id))
        db.session.commit()
        return message.id


def deliver(app):
    with app.app_context():
        return deliver_due()


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        messages = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return messages


def organizer_client(app):
    """A client of `app` logged in as an admin."""
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery", "admin")
    client = app.test_client()
    login = client.post("/auth/login", data={"email": "admin@example.org", "password": "correct horse battery"})
    assert login.status_code == 302
    return client


def parts(message) -> tuple[str, str]:
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    return text.replace("\r\n", "\n"), html


def test_an_invitation_arrives_in_the_invitees_language_with_the_link(smtp_app, smtp_server):
    event = create_test_event(smtp_app, admission="invitation", invitation_note="Robes <b>required</b>.\nNo guests.")
    invitation_id, token = make_invitation(smtp_app, event, language="fr")
    queue(smtp_app, invitation_id)
    assert load(smtp_app, invitation_id).status == "not_sent"
    assert deliver(smtp_app).sent == 1
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["layla.haddad@example.org"]
    message = parse(envelope)
    text, html = parts(message)
    link = f"https://register.example.org/i/{token}"
    assert link in text and f'href="{link}"' in html
    assert "Bonjour Dr. Layla Haddad," in text  # the catalog's French greeting, by name
    assert "Début" in text and 'lang="fr"' in html
    assert "Robes <b>required</b>.\nNo guests." in text
    assert "Robes &lt;b&gt;required&lt;/b&gt;.<br>No guests." in html  # the organizers' paragraph, escaped
    assert "Inaugural Ceremony" in message["Subject"]
    assert message["Reply-To"] == "office@example.org"
    sent = load(smtp_app, invitation_id)
    assert sent.status == "sent" and sent.sent_at is not None
    [row] = outbox(smtp_app)
    assert (row.invitation_id, row.registration_id, row.state) == (invitation_id, None, "sent")


def test_a_reminder_says_it_is_one_and_leaves_an_opened_invitation_opened(smtp_app, smtp_server):
    event = create_test_event(smtp_app, admission="invitation")
    invitation_id, token = make_invitation(smtp_app, event)
    smtp_app.test_client().get(f"/i/{token}")
    queue(smtp_app, invitation_id, INVITATION_REMINDER)
    deliver(smtp_app)
    text, html = parts(parse(smtp_server.envelopes[0]))
    assert "A reminder: we have not had your answer to this invitation yet." in text
    assert "A reminder: we have not had your answer to this invitation yet." in html
    assert load(smtp_app, invitation_id).status == "opened"


def test_arabic_text_lines_are_right_to_left(smtp_app, smtp_server):
    event = create_test_event(smtp_app, admission="invitation")
    invitation_id, _token = make_invitation(smtp_app, event, language="ar")
    queue(smtp_app, invitation_id)
    deliver(smtp_app)
    text, html = parts(parse(smtp_server.envelopes[0]))
    assert all(line.startswith(RIGHT_TO_LEFT_MARK) for line in text.splitlines() if line.strip())
    assert 'dir="rtl"' in html


def refuse(smtp_server):
    async def no_such_user(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 no such user"

    smtp_server.handle_RCPT = no_such_user


def test_a_refused_invitation_is_marked_failed_and_can_be_resent_from_the_outbox(smtp_app, smtp_server):
    refuse(smtp_server)
    event = create_test_event(smtp_app, admission="invitation")
    invitation_id, _token = make_invitation(smtp_app, event)
    message_id = queue(smtp_app, invitation_id)
    assert deliver(smtp_app).failed == 1
    assert load(smtp_app, invitation_id).status == "failed"

    client = organizer_client(smtp_app)
    page = client.get(f"/organizer/events/{event.slug}/outbox")
    assert f'data-message="{message_id}"' in page.text
    assert "layla.haddad@example.org" in page.text and "550 5.1.1 no such user" in page.text
    assert f'href="/organizer/events/{event.slug}/invitations/{invitation_id}"' in page.text
    response = client.post(f"/organizer/events/{event.slug}/outbox/{message_id}/resend")
    assert response.status_code == 302
    [row] = outbox(smtp_app)
    assert row.state == "queued"


def test_an_answered_invitation_keeps_its_answer_whatever_the_mail_does(smtp_app, smtp_server):
    refuse(smtp_server)
    event = create_test_event(smtp_app, admission="invitation")
    invitation_id, _token = make_invitation(smtp_app, event)
    with smtp_app.app_context():
        db.session.execute(update(Invitation).values(status="declined"))
        db.session.commit()
    queue(smtp_app, invitation_id, INVITATION_REMINDER)
    deliver(smtp_app)
    assert load(smtp_app, invitation_id).status == "declined"


def test_the_lost_link_form_resends_an_invitation(smtp_app, smtp_server):
    event = create_test_event(smtp_app, admission="invitation")
    invitation_id, token = make_invitation(smtp_app, event)
    client = smtp_app.test_client()
    answers = []
    for address in ("layla.haddad@example.org", "nobody@example.org"):
        response = client.post(f"/e/{event.slug}/lost-link", data={"email": address}, follow_redirects=True)
        answers.append(response.text.replace(address, "ADDRESS"))
    assert answers[0] == answers[1]  # the same answer whatever the address
    [row] = outbox(smtp_app)
    assert (row.kind, row.invitation_id) == ("invitation", invitation_id)
    deliver(smtp_app)
    text, _html = parts(parse(smtp_server.envelopes[0]))
    assert f"https://register.example.org/i/{token}" in text
