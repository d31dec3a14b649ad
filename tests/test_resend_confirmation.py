"""An organizer's "Resend confirmation" on a registration's page: the confirmation with the current ticket, sent
through a real SMTP server, audited, and limited per registration in Redis (RESEND_CONFIRMATION_LIMIT)."""

import pytest
from sqlalchemy import select

from eventreg.attendees.services import StatusAction, apply_action, edit_registration
from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import AuditEntry, OutboxMessage, Registration
from eventreg.registration.privacy import erase_registration
from eventreg.tickets.codes import grouped_code
from tests.conftest import create_test_event, delegate, register_test_delegate
from tests.test_exports import login
from tests.test_rate_limits import limited, store  # noqa: F401 - fixtures: rate limits on, counted in Redis
from tests.test_ticket_mail import parse, qr_of, text_of


@pytest.fixture
def limited_app(limited):  # noqa: F811 - the fixture imported above
    """Rate limits on (in Redis), two resends an hour."""
    return limited(RESEND_CONFIRMATION_LIMIT="2 per hour")


def page(event, registration_id: int) -> str:
    return f"/organizer/events/{event.slug}/registrations/{registration_id}"


def current(app, registration_id: int) -> Registration:
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        db.session.expunge(registration)
        return registration


def resend(client, event, registration_id: int):
    """Press the button; the page it leads back to."""
    response = client.post(page(event, registration_id) + "/resend-confirmation")
    assert response.status_code == 302
    assert response.headers["Location"] == page(event, registration_id)
    return client.get(response.headers["Location"])


def test_the_resent_confirmation_carries_the_current_ticket_and_is_audited(smtp_app, smtp_server):
    event = create_test_event(smtp_app, capacity=10)
    registration_id, _token = register_test_delegate(smtp_app, event, email="first@example.org")
    first_code = current(smtp_app, registration_id).checkin_code
    with smtp_app.app_context():
        # A corrected address and two accompanying persons: a new check-in code, and a ticket that admits three.
        edit_registration(event.id, registration_id, delegate(email="second@example.org", accompanying=2))
        deliver_due()
    smtp_server.envelopes.clear()
    registration = current(smtp_app, registration_id)
    assert registration.checkin_code != first_code
    client = login(smtp_app)

    shown = client.get(page(event, registration_id)).text
    assert grouped_code(registration.checkin_code) in shown and "Resend confirmation" in shown
    after = resend(client, event, registration_id)
    assert "The confirmation is queued again, with the current ticket" in after.text
    with smtp_app.app_context():
        assert deliver_due().sent == 1
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["second@example.org"]
    mail = parse(envelope.content)
    assert mail["Subject"] == f"Your registration for {event.title}"
    assert qr_of(mail) == registration.checkin_code
    assert grouped_code(registration.checkin_code) in text_of(mail)
    assert "you and the 2 persons accompanying you" in " ".join(text_of(mail).split())
    with smtp_app.app_context():
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert (entry.action, entry.registration_id, entry.actor) == (
            "registration.confirmation_resent",
            registration_id,
            "admin@example.org",
        )


def test_resending_is_limited_per_registration(limited_app):
    event = create_test_event(limited_app, capacity=10)
    registration_id, _token = register_test_delegate(limited_app, event, email="one@example.org")
    other_id, _token = register_test_delegate(limited_app, event, email="other@example.org")
    client = login(limited_app)
    for _ in range(2):
        assert "The confirmation is queued again" in resend(client, event, registration_id).text
    refused = resend(client, event, registration_id)
    assert "The confirmation of this registration was sent again several times lately; try again later." in refused.text
    # Another registration has its own count.
    assert "The confirmation is queued again" in resend(client, event, other_id).text
    with limited_app.app_context():
        kinds = db.session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.registration_id == registration_id)
        ).all()
        assert kinds == ["confirmation"] * 3  # the first one and two resent


@pytest.mark.parametrize("end", ["erased", "cancelled"])
def test_no_confirmation_for_an_erased_or_cancelled_registration(limited_app, end):
    event = create_test_event(limited_app, capacity=10)
    registration_id, _token = register_test_delegate(limited_app, event)
    with limited_app.app_context():
        if end == "erased":
            erase_registration(registration_id, actor=None)
        else:
            apply_action(event.id, registration_id, StatusAction.CANCEL)
        mails_before = db.session.scalars(select(OutboxMessage.id)).all()
    client = login(limited_app)
    assert "Resend confirmation" not in client.get(page(event, registration_id)).text
    refused = resend(client, event, registration_id).text
    expected = "there is no address to write to" if end == "erased" else "already cancelled or rejected"
    assert expected in refused
    with limited_app.app_context():
        assert db.session.scalars(select(OutboxMessage.id)).all() == mails_before
        assert "registration.confirmation_resent" not in db.session.scalars(select(AuditEntry.action)).all()


def test_resending_is_a_post_only_button(limited_app):
    event = create_test_event(limited_app)
    registration_id, _token = register_test_delegate(limited_app, event)
    client = login(limited_app)
    assert client.get(page(event, registration_id) + "/resend-confirmation").status_code == 405
