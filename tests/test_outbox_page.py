"""The organizer's outbox page: mails by state with their errors and attempts, and failed mail resent."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import AuditEntry, OutboxAttempt, OutboxMessage, utcnow


def message_of(app, registration_id: int) -> OutboxMessage:
    with app.app_context():
        return db.session.scalar(select(OutboxMessage).where(OutboxMessage.registration_id == registration_id))


def fail(app, registration_id: int, error: str = "SMTPRecipientsRefused: gone@example.org: 550 5.1.1 no such user"):
    """Leave the registration's mail failed after one try, as the worker does on a 5xx reply."""
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.registration_id == registration_id))
        message.state, message.attempts, message.last_error = "failed", 1, error
        db.session.add(OutboxAttempt(message_id=message.id, outcome="failed", error=error))
        db.session.commit()
        return message.id


@pytest.fixture
def outbox_event(app, make_event, make_registration):
    """An event with one mail sent, one failed and one queued (for the delegates sent@, gone@ and later@)."""
    event = make_event()
    sent_id, _ = make_registration(event, email="sent@example.org")
    with app.app_context():
        deliver_due()  # the .eml file transport
    gone_id, _ = make_registration(event, email="gone@example.org", given_name="Gone")
    later_id, _ = make_registration(event, email="later@example.org")
    return event, {"sent": sent_id, "failed": gone_id, "queued": later_id, "failed_message": fail(app, gone_id)}


def test_the_outbox_shows_the_mails_by_state_with_errors_and_attempts(logged_in, outbox_event):
    event, _ids = outbox_event
    page = logged_in.get(f"/organizer/events/{event.slug}/outbox")
    assert page.status_code == 200
    for state in ("queued", "sent", "failed"):
        assert f'id="outbox-{state}" href="/organizer/events/{event.slug}/outbox?state={state}">1</a>' in page.text
    assert "550 5.1.1 no such user" in page.text
    assert "Every attempt" in page.text
    assert "Resend all 1 failed mail" in page.text or "Resend 1 failed mail" in page.text
    assert 'href="/organizer/events/' + event.slug + '/outbox"' in page.text  # the event's menu links here

    failed = logged_in.get(f"/organizer/events/{event.slug}/outbox?state=failed")
    assert "gone@example.org" in failed.text
    assert "sent@example.org" not in failed.text and "later@example.org" not in failed.text
    sent = logged_in.get(f"/organizer/events/{event.slug}/outbox?state=sent")
    assert "sent@example.org" in sent.text and "gone@example.org" not in sent.text
    assert logged_in.get(f"/organizer/events/{event.slug}/outbox?state=lost").status_code == 404


@pytest.mark.parametrize("page", ["2", "999999999999999999", "9" * 5000])
def test_a_page_past_the_end_of_the_outbox_leads_to_its_last_page(logged_in, outbox_event, page):
    event, _ids = outbox_event
    response = logged_in.get(f"/organizer/events/{event.slug}/outbox?state=failed&page={page}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organizer/events/{event.slug}/outbox?state=failed"
    assert "gone@example.org" in logged_in.get(response.headers["Location"]).text


@pytest.mark.parametrize("page", ["0", "-1", "-999999999999999999", "x", "1.5", "٣"])
def test_a_page_number_below_one_or_no_number_shows_the_first_page(logged_in, outbox_event, page):
    event, _ids = outbox_event
    response = logged_in.get(f"/organizer/events/{event.slug}/outbox?page={page}")
    assert response.status_code == 200
    assert "gone@example.org" in response.text and "sent@example.org" in response.text


def test_resending_one_failed_mail_queues_it_now_and_keeps_its_history(app, logged_in, outbox_event):
    event, ids = outbox_event
    response = logged_in.post(f"/organizer/events/{event.slug}/outbox/{ids['failed_message']}/resend")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organizer/events/{event.slug}/outbox"
    assert "The mail is queued again" in logged_in.get(response.headers["Location"]).text
    message = message_of(app, ids["failed"])
    assert message.state == "queued" and message.attempts == 0
    assert message.next_attempt_at <= utcnow()
    with app.app_context():
        newest = select(AuditEntry.action).where(AuditEntry.registration_id == ids["failed"])
        assert db.session.scalar(newest.order_by(AuditEntry.id.desc()).limit(1)) == "mail.resent"
        assert deliver_due().sent == 2  # the resent mail and the one that was queued
        outcomes = db.session.scalars(
            select(OutboxAttempt.outcome).where(OutboxAttempt.message_id == ids["failed_message"])
        ).all()
    assert outcomes == ["failed", "sent"]
    detail = logged_in.get(f"/organizer/events/{event.slug}/registrations/{ids['failed']}")
    assert "Failed mail queued again" in detail.text


def test_resend_all_resends_only_this_events_failed_mails(app, logged_in, outbox_event, make_event, make_registration):
    event, ids = outbox_event
    other = make_event(title="Other Ceremony")
    other_id, _ = make_registration(other, email="other@example.org")
    fail(app, other_id)
    second_id, _ = make_registration(event, email="second@example.org")
    fail(app, second_id)
    response = logged_in.post(f"/organizer/events/{event.slug}/outbox/resend-failed")
    assert response.status_code == 302
    assert "2 failed mails are queued again." in logged_in.get(response.headers["Location"]).text
    assert message_of(app, ids["failed"]).state == "queued"
    assert message_of(app, second_id).state == "queued"
    assert message_of(app, other_id).state == "failed"


def test_a_mail_of_another_event_cannot_be_resent_through_this_one(app, logged_in, outbox_event, make_event):
    _event, ids = outbox_event
    other = make_event(title="Other Ceremony")
    response = logged_in.post(f"/organizer/events/{other.slug}/outbox/{ids['failed_message']}/resend")
    assert response.status_code == 404
    assert message_of(app, ids["failed"]).state == "failed"


def test_a_mail_that_did_not_fail_is_not_resent(app, logged_in, outbox_event):
    event, ids = outbox_event
    sent = message_of(app, ids["sent"])
    response = logged_in.post(f"/organizer/events/{event.slug}/outbox/{sent.id}/resend", follow_redirects=True)
    assert "This mail had not failed" in response.text
    assert message_of(app, ids["sent"]).state == "sent"


def test_an_organizer_who_does_not_run_the_event_cannot_see_or_resend(app, client, make_organizer, outbox_event):
    event, ids = outbox_event
    email, password = make_organizer(email="other@example.org", role="organizer")
    client.post("/auth/login", data={"email": email, "password": password})
    assert client.get(f"/organizer/events/{event.slug}/outbox").status_code == 403
    assert client.post(f"/organizer/events/{event.slug}/outbox/resend-failed").status_code == 403
    assert message_of(app, ids["failed"]).state == "failed"


def test_the_registration_page_shows_its_mails_attempts_and_errors(app, logged_in, outbox_event):
    event, ids = outbox_event
    detail = logged_in.get(f"/organizer/events/{event.slug}/registrations/{ids['failed']}")
    assert "550 5.1.1 no such user" in detail.text
    assert '<dd class="mail-attempts">1</dd>' in detail.text
    assert "Failed: SMTPRecipientsRefused" in detail.text  # the attempt, as listed
    response = logged_in.post(f"/organizer/events/{event.slug}/outbox/{ids['failed_message']}/resend?back=registration")
    assert response.headers["Location"] == f"/organizer/events/{event.slug}/registrations/{ids['failed']}"

    with app.app_context():
        message = db.session.get(OutboxMessage, ids["failed_message"])
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        deliver_due()
    detail = logged_in.get(f"/organizer/events/{event.slug}/registrations/{ids['failed']}")
    assert '<dd class="mail-attempts">2</dd>' in detail.text
    assert "· Sent" in detail.text


@pytest.mark.browser
def test_the_outbox_in_a_real_browser_passes_axe_and_resends_with_csrf(live_server, browser_page):
    """CSRF is on in the live server: the Resend button's form carries its token."""
    from playwright.sync_api import expect

    from eventreg.auth.services import create_organizer
    from tests.conftest import create_test_event, register_test_delegate
    from tests.test_accessibility import violations

    app, base_url = live_server
    page = browser_page
    event = create_test_event(app)
    registration_id, _ = register_test_delegate(app, event, email="gone@example.org", native_name="ليلى حداد")
    message_id = fail(app, registration_id)
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery")
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email", exact=True).fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Log in", exact=True).click()

    page.goto(f"{base_url}/organizer/events/{event.slug}/outbox")
    expect(page.locator("#outbox-failed")).to_have_text("1")
    page.get_by_text("Every attempt").click()
    expect(page.locator("ol.attempts")).to_contain_text("550 5.1.1 no such user")
    assert violations(page) == []
    page.locator(f'tr[data-message="{message_id}"]').get_by_role("button", name="Resend").click()
    expect(page.get_by_text("The mail is queued again")).to_be_visible()
    expect(page.locator("#outbox-queued")).to_have_text("1")
    expect(page.locator("#outbox-failed")).to_have_text("0")
    assert violations(page) == []
