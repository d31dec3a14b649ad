"""Test sends of messages on the event's Outbox page: listed with their state as a test of the message to the
organizer's address, counted, and resent when they failed; never on another event's page."""

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.messages.services import new_idempotency_key, queue_test, save_draft
from eventreg.messages.texts import MessageTexts
from eventreg.models import AuditEntry, Event, Organizer, OutboxAttempt, OutboxMessage, Registration

ERROR = "SMTPRecipientsRefused: admin@example.org: 550 5.1.1 mailbox full"


def queue_a_test(app, event, subject: str, registration_id: int | None = None) -> int:
    """A draft of `event` with `subject`, and a test of it sent by the admin organizer; the test mail's id."""
    with app.test_request_context():
        stored = db.session.get(Event, event.id)
        draft = save_draft(stored, MessageTexts(subject=subject, body="Leaves at 8."), {"filter": {}},
                           new_idempotency_key(), None)  # fmt: skip
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == "admin@example.org"))
        registration = db.session.get(Registration, registration_id) if registration_id else None
        queue_test(stored, draft, organizer, registration)
        return db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.delegate_message_id == draft.id).order_by(OutboxMessage.id)
        )


def fail(app, mail_id: int) -> None:
    """Leave the mail failed after one try, as the worker does on a 5xx reply."""
    with app.app_context():
        mail = db.session.get(OutboxMessage, mail_id)
        mail.state, mail.attempts, mail.last_error = "failed", 1, ERROR
        db.session.add(OutboxAttempt(message_id=mail.id, outcome="failed", error=ERROR))
        db.session.commit()


def outbox(client, event, query=""):
    return client.get(f"/organizer/events/{event.slug}/outbox" + (f"?{query}" if query else ""))


@pytest.fixture
def tested(app, logged_in, make_event, make_registration):
    """An event with one delegate (her confirmation mail sent) and a test of a message to her, queued; another
    event with a test of its own."""
    event = make_event()
    registration_id, _ = make_registration(event, email="bai@example.org")
    with app.app_context():
        deliver_due()
    other = make_event(title="Other Ceremony")
    return (
        event,
        queue_a_test(app, event, "Shuttle <times>", registration_id),
        other,
        queue_a_test(app, other, "Dinner"),
    )


def test_a_test_send_is_on_its_events_outbox_as_a_test_of_the_message(app, logged_in, tested):
    event, test_id, other, other_test_id = tested
    page = outbox(logged_in, event)
    assert f'<tr data-message="{test_id}" class="outbox-queued">' in page.text
    row = page.text.split(f'<tr data-message="{test_id}"')[1].split("</tr>")[0]
    assert "Test of the message “Shuttle &lt;times&gt;”" in row
    assert "To the organizer" in row and "admin@example.org" in row
    assert "Queued" in row
    assert f'id="outbox-queued" href="/organizer/events/{event.slug}/outbox?state=queued">1</a>' in page.text
    assert f'id="outbox-sent" href="/organizer/events/{event.slug}/outbox?state=sent">1</a>' in page.text
    assert f'data-message="{other_test_id}"' not in page.text and "Dinner" not in page.text
    assert f'data-message="{test_id}"' not in outbox(logged_in, event, "state=sent").text
    assert f'data-message="{test_id}"' in outbox(logged_in, event, "state=queued").text
    assert f'data-message="{other_test_id}"' in outbox(logged_in, other).text

    with app.app_context():
        deliver_due()  # the .eml file transport
    sent = outbox(logged_in, event, "state=sent")
    row = sent.text.split(f'<tr data-message="{test_id}"')[1].split("</tr>")[0]
    assert "Test of the message “Shuttle &lt;times&gt;”" in row and "Sent" in row


def test_a_failed_test_send_is_resent_as_the_other_mails_are(app, logged_in, tested):
    event, test_id, other, other_test_id = tested
    fail(app, test_id)
    fail(app, other_test_id)
    page = outbox(logged_in, event, "state=failed")
    row = page.text.split(f'<tr data-message="{test_id}"')[1].split("</tr>")[0]
    assert "550 5.1.1 mailbox full" in row and "Resend" in row
    assert f'id="outbox-failed" href="/organizer/events/{event.slug}/outbox?state=failed">1</a>' in page.text
    assert "Resend 1 failed mail" in page.text
    # Not through another event's page.
    assert logged_in.post(f"/organizer/events/{other.slug}/outbox/{test_id}/resend").status_code == 404
    response = logged_in.post(f"/organizer/events/{event.slug}/outbox/{test_id}/resend", follow_redirects=True)
    assert "The mail is queued again" in response.text
    with app.app_context():
        assert db.session.get(OutboxMessage, test_id).state == "queued"
        assert db.session.get(OutboxMessage, other_test_id).state == "failed"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mail.resent"))
        assert (entry.event_id, entry.registration_id, entry.before["mail"]) == (event.id, None, test_id)
    fail(app, test_id)
    resent = logged_in.post(f"/organizer/events/{event.slug}/outbox/resend-failed", follow_redirects=True)
    assert "1 failed mail is queued again." in resent.text
    with app.app_context():
        assert db.session.get(OutboxMessage, test_id).state == "queued"
        assert db.session.get(OutboxMessage, other_test_id).state == "failed"


def test_an_organizer_who_does_not_run_the_event_sees_no_test_send(app, client, tested, make_organizer):
    event, test_id, _other, _other_test_id = tested
    fail(app, test_id)
    client.post("/auth/logout")
    email, password = make_organizer(email="other@example.org", role="organizer")
    client.post("/auth/login", data={"email": email, "password": password})
    assert outbox(client, event).status_code == 403
    assert client.post(f"/organizer/events/{event.slug}/outbox/{test_id}/resend").status_code == 403
    with app.app_context():
        assert db.session.get(OutboxMessage, test_id).state == "failed"
