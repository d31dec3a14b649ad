"""What the record says of event reminders: an audit entry when one goes out or is not sent, and the Messages
page, a reminder's page and the API telling scheduled, sent and not sent (the event had started) apart."""

from datetime import timedelta

from sqlalchemy import select, update

from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.models import AuditEntry, Event, utcnow
from tests.test_api import make_account
from tests.test_event_reminders import schedule


def _audit(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _api_reminder(app, event):
    headers = make_account(app, f"api-{utcnow().timestamp()}@example.org", events=[event])
    items = app.test_client().get(f"/api/v1/events/{event.slug}/messages", headers=headers).get_json()["items"]
    return next(item for item in items if item["kind"] == "reminder")


def test_a_reminder_that_goes_out_is_audited_with_its_count(app, make_event, make_registration, logged_in):
    event = make_event()
    make_registration(event, email="ana@example.org")
    make_registration(event, email="li@example.org")
    reminder_id, due = schedule(app, event)
    page = logged_in.get(f"/organizer/events/{event.slug}/messages/{reminder_id}").text
    assert "Scheduled" in page and 'id="message-confirmed"' not in page  # not "Sent" while it waits for its time
    assert _api_reminder(app, event)["schedule_state"] == "pending"
    with app.app_context():
        run_due(now=due)
    [entry] = _audit(app, "reminder.sent")
    assert entry.after == {"reminder": reminder_id, "days_before_start": 7, "recipients": 2}
    assert entry.organizer_id is None and entry.event_id == event.id
    page = logged_in.get(f"/organizer/events/{event.slug}/messages/{reminder_id}").text
    assert 'id="message-confirmed"' in page
    assert "Event reminder sent to delegates" in logged_in.get(f"/admin/audit?event={event.slug}").text


def test_a_reminder_not_sent_because_the_event_had_started_says_so(app, make_event, make_registration, logged_in):
    event = make_event()
    make_registration(event, email="ana@example.org")
    reminder_id, due = schedule(app, event)
    with app.app_context():  # the workers were down until after the start
        started = utcnow() - timedelta(hours=1)
        db.session.execute(
            update(Event).where(Event.id == event.id).values(starts_at=started, ends_at=started + timedelta(hours=3))
        )
        db.session.commit()
        run_due(now=due)
    [entry] = _audit(app, "reminder.not_sent")
    assert entry.after["reason"] == "event_started"
    for url in (f"/organizer/events/{event.slug}/messages", f"/organizer/events/{event.slug}/messages/{reminder_id}"):
        page = logged_in.get(url).text
        assert "Not sent" in page and "the event had started when it fell due" in page
        assert "Removed" not in page
    reminder = _api_reminder(app, event)
    assert (reminder["schedule_state"], reminder["not_sent_reason"]) == ("cancelled", "event_started")
