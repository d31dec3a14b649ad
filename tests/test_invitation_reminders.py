"""Invitation reminders: sent now or scheduled before registration closes, to the invitees who have not answered
when they go out, each once; refused or cancelled once registration has closed; and their organizer pages."""

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from eventreg.events.services import update_event
from eventreg.extensions import db
from eventreg.invitations.reminders import (
    REMINDER,
    ReminderRefused,
    add_reminder,
    audience,
    remind_now,
    remove_reminder,
)
from eventreg.mail.schedule import reschedule_event, run_due
from eventreg.mail.worker import run_worker
from eventreg.models import AuditEntry, Delegation, Event, Invitation, OutboxMessage, ScheduledMail, utcnow
from tests.conftest import create_test_event

ANSWERED = ("registered", "declined")
UNANSWERED = ("not_sent", "sent", "opened", "failed")


def invite(app, event, address, status="sent", **fields) -> int:
    """An invitation of `event` to `address` in `status`; its id."""
    with app.app_context():
        invitation = Invitation(event_id=event.id, email=address, status=status, **fields)
        db.session.add(invitation)
        db.session.commit()
        return invitation.id


def invite_one_of_each(app, event) -> dict[str, int]:
    """One invitation in each status, to <status>@example.org; their ids by status."""
    return {status: invite(app, event, f"{status}@example.org", status) for status in (*UNANSWERED, *ANSWERED)}


def reminded(app) -> list[str]:
    """The addresses of the queued reminders, sorted."""
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.kind == REMINDER)
        messages = db.session.scalars(query).all()
        assert all(m.invitation_id is not None and m.registration_id is None for m in messages)
        return sorted(m.recipient for m in messages)


def with_event(app, event_id):
    return db.session.get(Event, event_id)


def remind(app, event, **chosen) -> int:
    with app.app_context():
        return remind_now(with_event(app, event.id), audience(**chosen))


def run(app, **kwargs):
    with app.app_context():
        return run_due(**kwargs)


def reminders(app) -> list[ScheduledMail]:
    with app.app_context():
        rows = db.session.scalars(select(ScheduledMail).order_by(ScheduledMail.id)).all()
        db.session.expunge_all()
        return rows


def test_a_reminder_goes_only_to_the_invitees_who_have_not_answered_each_once(app, make_event):
    event = make_event()
    invite_one_of_each(app, event)
    assert remind(app, event) == 4
    assert run(app).queued == 4
    assert reminded(app) == sorted(f"{status}@example.org" for status in UNANSWERED)
    assert run(app).queued == 0  # once: a second pass finds the reminder done
    [reminder] = reminders(app)
    assert (reminder.state, reminder.queued, reminder.kind) == ("done", 4, REMINDER)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "invitation.reminded"))
        assert entry.after == {"audience": {}, "count": 4} and entry.event_id == event.id


def test_who_is_reminded_is_decided_when_it_goes_out(app, make_event):
    event = make_event(registration_closes_at=utcnow() + timedelta(days=20))
    ids = invite_one_of_each(app, event)
    with app.app_context():
        due_at = add_reminder(with_event(app, event.id), 14).due_at
        db.session.execute(update(Invitation).where(Invitation.id == ids["sent"]).values(status="registered"))
        db.session.commit()
    assert run(app).queued == 0  # not due yet
    assert run(app, now=due_at + timedelta(minutes=1)).queued == 3
    assert reminded(app) == ["failed@example.org", "not_sent@example.org", "opened@example.org"]


def test_a_reminder_due_while_the_workers_were_down_goes_out_when_they_are_back(app, make_event):
    event = make_event(registration_closes_at=utcnow() + timedelta(days=20))
    invite(app, event, "late@example.org")
    with app.app_context():
        due_at = add_reminder(with_event(app, event.id), 14).due_at
    assert run(app, now=due_at + timedelta(days=5)).queued == 1
    assert reminded(app) == ["late@example.org"]


def test_a_scheduled_reminder_found_due_after_registration_closed_is_cancelled(app, make_event):
    event = make_event(registration_closes_at=utcnow() + timedelta(days=20))
    invite(app, event, "late@example.org")
    with app.app_context():
        due_at = add_reminder(with_event(app, event.id), 3).due_at
        # the workers were down until after registration closed
        db.session.execute(update(Event).where(Event.id == event.id).values(registration_closes_at=utcnow()))
        db.session.commit()
    assert run(app, now=due_at).cancelled == 1
    assert reminded(app) == []
    [reminder] = reminders(app)
    assert reminder.state == "cancelled" and reminder.details == {"cancelled_reason": "registration_closed"}


def test_no_reminder_now_once_registration_has_closed(app, make_event):
    event = make_event(registration_closes_at=utcnow() + timedelta(days=1))
    invite(app, event, "late@example.org")
    with app.app_context():
        db.session.execute(
            update(Event).where(Event.id == event.id).values(registration_closes_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    with pytest.raises(ReminderRefused, match="Registration has closed"):
        remind(app, event)
    assert reminders(app) == []


def test_a_reminder_to_chosen_invitations_reaches_only_the_unanswered_among_them(app, make_event):
    event = make_event()
    ids = invite_one_of_each(app, event)
    assert remind(app, event, ids=[ids["sent"], ids["registered"], ids["failed"]]) == 2
    run(app)
    assert reminded(app) == ["failed@example.org", "sent@example.org"]


def test_a_reminder_to_the_lists_filter_reaches_what_the_list_shows(app, make_event):
    event = make_event()
    invite_one_of_each(app, event)
    with app.app_context():
        delegation = Delegation(event_id=event.id, name="Academy of Sciences of Cuba", country="CU")
        db.session.add(delegation)
        db.session.commit()
        delegation_id = delegation.id
    invite(app, event, "ana@example.org", given_name="Ana", family_name="Pérez", delegation_id=delegation_id)
    invite(app, event, "luis@example.org", "declined", given_name="Luis", delegation_id=delegation_id)
    assert remind(app, event, status="opened") == 1
    assert remind(app, event, status="declined") == 0
    assert remind(app, event, delegation=str(delegation_id)) == 1
    assert remind(app, event, q="perez") == 1  # accents ignored, as the list searches
    assert remind(app, event, q="NOT_SENT@") == 1
    run(app)
    assert reminded(app) == ["ana@example.org", "ana@example.org", "not_sent@example.org", "opened@example.org"]


def test_scheduled_reminders_are_due_days_before_registration_closes_and_follow_its_changes(app, make_event):
    closes = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    event = make_event(registration_closes_at=closes)
    with app.app_context():
        stored = with_event(app, event.id)
        add_reminder(stored, 14)
        add_reminder(stored, 3)
    assert [r.due_at for r in reminders(app)] == [closes - timedelta(days=14), closes - timedelta(days=3)]
    with app.app_context():
        stored = with_event(app, event.id)
        stored.registration_closes_at = closes + timedelta(days=7)
        reschedule_event(stored)
        db.session.commit()
    assert [r.due_at for r in reminders(app)] == [closes - timedelta(days=7), closes + timedelta(days=4)]


def test_changing_the_events_closing_date_in_its_settings_moves_its_pending_reminders(app, make_event):
    closes = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    starts = closes + timedelta(days=30)
    event = make_event(registration_closes_at=closes, starts_at=starts, ends_at=starts + timedelta(days=1))
    with app.app_context():
        add_reminder(with_event(app, event.id), 14)
    with app.app_context():
        update_event(with_event(app, event.id), registration_closes_at=closes + timedelta(days=7))
    assert [r.due_at for r in reminders(app)] == [closes - timedelta(days=7)]


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (0, "Choose from 1 to 90 days."),
        (91, "Choose from 1 to 90 days."),
        (40, "That time has already passed"),
        (14, "already scheduled"),
    ],
)
def test_a_scheduled_reminder_is_refused_out_of_range_past_or_twice(app, make_event, days, message):
    event = make_event(registration_closes_at=utcnow() + timedelta(days=30))
    with app.app_context():
        add_reminder(with_event(app, event.id), 14)
        with pytest.raises(ReminderRefused, match=message):
            add_reminder(with_event(app, event.id), days)
    assert len(reminders(app)) == 1


def test_a_pending_reminder_can_be_removed_but_not_one_that_went_out(app, make_event):
    event = make_event(registration_closes_at=utcnow() + timedelta(days=30))
    invite(app, event, "x@example.org")
    with app.app_context():
        first = add_reminder(with_event(app, event.id), 14).id
        remove_reminder(with_event(app, event.id), first)
        second = add_reminder(with_event(app, event.id), 14).id  # the same again, once the first is removed
    run(app, now=utcnow() + timedelta(days=17))
    with app.app_context(), pytest.raises(ReminderRefused, match="already gone out"):
        remove_reminder(with_event(app, event.id), second)
    states = [(r.state, r.details) for r in reminders(app)]
    assert states == [("cancelled", {"cancelled_reason": "removed"}), ("done", {})]
    assert reminded(app) == ["x@example.org"]


# ---- the mail itself, through the worker and a real SMTP server


def test_the_worker_sends_the_reminder_with_the_invitees_personal_link(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    invite(smtp_app, event, "fr@example.org", given_name="Marie", family_name="Curie")
    invite(smtp_app, event, "done@example.org", "registered")
    remind(smtp_app, event)
    with smtp_app.app_context():
        run_worker(once=True)
        token = db.session.scalar(select(Invitation).where(Invitation.email == "fr@example.org")).token
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["fr@example.org"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["Subject"] == "Reminder: your invitation to Inaugural Ceremony"
    assert mail["To"].addresses[0].display_name == "Marie Curie"
    assert f"/i/{token}" in mail.get_body(("plain",)).get_content()


# ---- the organizer pages


@pytest.fixture
def event_with_invitations(app, make_event):
    event = make_event(
        registration_closes_at=datetime(2040, 3, 1, 2, 0, tzinfo=UTC), timezone="Asia/Shanghai", starts_at=datetime(
            2040, 3, 10, 2, 0, tzinfo=UTC), ends_at=datetime(2040, 3, 10, 5, 0, tzinfo=UTC)
    )  # fmt: skip
    return event, invite_one_of_each(app, event)


def test_remind_chosen_rows_from_the_list(app, logged_in, event_with_invitations):
    event, ids = event_with_invitations
    url = f"/organizer/events/{event.slug}/invitations/remind"
    response = logged_in.post(url, data={"ids": [ids["sent"], ids["opened"], ids["declined"]], "status": "sent"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organizer/events/{event.slug}/invitations?status=sent"
    page = logged_in.get(response.headers["Location"]).text
    assert "2 invitees who have not answered will be reminded." in page
    run(app)
    assert reminded(app) == ["opened@example.org", "sent@example.org"]


def test_remind_everyone_the_filter_shows(app, logged_in, event_with_invitations):
    event, _ids = event_with_invitations
    url = f"/organizer/events/{event.slug}/invitations/remind"
    response = logged_in.post(url, data={"status": "", "q": "", "delegation": ""}, follow_redirects=True)
    assert "4 invitees who have not answered will be reminded." in response.text
    response = logged_in.post(url, data={"status": "registered"}, follow_redirects=True)
    assert "Nobody was reminded" in response.text
    assert len(reminders(app)) == 1


@pytest.mark.parametrize("ids", [["x"], ["-1"], ["99999999999"], ["1", ""]])
def test_a_selection_that_is_not_ids_sends_nothing(app, logged_in, event_with_invitations, ids):
    event, _ids = event_with_invitations
    url = f"/organizer/events/{event.slug}/invitations/remind"
    response = logged_in.post(url, data={"ids": ids}, follow_redirects=True)
    assert response.status_code == 200
    assert "The selection was not understood; nothing was sent." in response.text
    assert reminders(app) == []


def test_more_ticked_rows_than_the_list_allows_send_nothing(app, logged_in, event_with_invitations):
    event, _ids = event_with_invitations
    url = f"/organizer/events/{event.slug}/invitations/remind"
    response = logged_in.post(url, data={"ids": [str(n) for n in range(1, 1002)]}, follow_redirects=True)
    assert "Please choose at most 1,000 invitations at a time." in response.text
    assert reminders(app) == []


def test_the_schedule_page_adds_lists_and_removes_reminders(app, logged_in, event_with_invitations):
    event, _ids = event_with_invitations
    url = f"/organizer/events/{event.slug}/invitations/reminders"
    page = logged_in.get(url)
    assert page.status_code == 200 and "No reminder yet." in page.text
    assert "Registration closes Thursday, 1 March 2040, 10:00 (UTC+08:00)." in page.text
    response = logged_in.post(url, data={"days_before": "14"})
    assert response.status_code == 302 and response.headers["Location"] == url
    page = logged_in.get(url).text
    assert "The reminder is scheduled." in page
    assert "Thursday, 16 February 2040, 10:00 (UTC+08:00)" in page  # 14 days before, in Beijing's time
    assert "14 days before registration closes" in page and "Scheduled" in page
    [reminder] = reminders(app)
    response = logged_in.post(url, data={"remove": str(reminder.id)}, follow_redirects=True)
    assert "The reminder was removed." in response.text and "removed by an organizer" in response.text
    assert reminders(app)[0].state == "cancelled"


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "Please give a number of days from 1 to 90."),
        ("91", "Please give a number of days from 1 to 90."),
        ("", "Please give a number of days from 1 to 90."),
        ("soon", "Please give a number of days from 1 to 90."),
    ],
)
def test_the_schedule_page_refuses_a_bad_number_of_days(app, logged_in, event_with_invitations, days, message):
    event, _ids = event_with_invitations
    response = logged_in.post(f"/organizer/events/{event.slug}/invitations/reminders", data={"days_before": days})
    assert response.status_code == 400
    assert message in response.text
    assert reminders(app) == []


def test_removing_another_events_reminder_is_refused(app, logged_in, make_event, event_with_invitations):
    event, _ids = event_with_invitations
    other = make_event(title="Other ceremony", registration_closes_at=utcnow() + timedelta(days=30))
    with app.app_context():
        other_reminder = add_reminder(with_event(app, other.id), 5).id
    url = f"/organizer/events/{event.slug}/invitations/reminders"
    response = logged_in.post(url, data={"remove": str(other_reminder)}, follow_redirects=True)
    assert "There is no such reminder in this event." in response.text
    assert reminders(app)[0].state == "pending"


def test_check_in_staff_may_not_remind(app, client, make_organizer, event_with_invitations):
    event, _ids = event_with_invitations
    email_address, password = make_organizer(email="desk@example.org", role="checkin")
    client.post("/auth/login", data={"email": email_address, "password": password})
    assert client.post(f"/organizer/events/{event.slug}/invitations/remind").status_code == 403
    assert client.get(f"/organizer/events/{event.slug}/invitations/reminders").status_code == 403
    assert reminders(app) == []
