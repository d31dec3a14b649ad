"""Event reminders: scheduled days before the event starts, sent by the worker once to each delegate who matches
their filter then and registered before their time, in the delegate's language; cancelled once the event has
started or when removed; moved with the start; and their pages in the event's settings."""

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from eventreg.admin.services import assign_events
from eventreg.events.services import update_event
from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.mail.worker import deliver_due
from eventreg.messages.reminders import EVENT_REMINDER, add_reminder, event_reminders, remove_reminder
from eventreg.messages.texts import REMINDER_MAIL, MessageRefused, MessageTexts
from eventreg.models import (
    ROLE_RIGHTS,
    AuditEntry,
    Event,
    Message,
    Organizer,
    OutboxMessage,
    Registration,
    Right,
    ScheduledMail,
    utcnow,
)
from tests.conftest import create_test_event, register_test_delegate

TEXTS = MessageTexts(
    subject="{event_title} in a week",
    body="Dear {given_name},\n\nBring your passport.",
    versions={"fr": ("{event_title} dans une semaine", "Chère ou cher {given_name},\n\nApportez votre passeport.")},
)


def _event(app, event_id) -> Event:
    return db.session.get(Event, event_id)


def schedule(app, event, days=7, texts=TEXTS, audience_filter=None) -> tuple[int, datetime]:
    """Add a reminder `days` before `event` starts; its message id and due time."""
    with app.app_context():
        message = add_reminder(_event(app, event.id), days, texts, audience_filter)
        return message.id, db.session.get(ScheduledMail, message.scheduled_mail_id).due_at


def set_registration(app, registration_id, **values) -> None:
    """Change a registration's columns directly (a status or creation time the test needs)."""
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.id == registration_id).values(**values))
        db.session.commit()


def clear_mailbox(app, smtp_server) -> None:
    """Deliver what registering queued (the confirmations), then forget it: the tests look at reminders only."""
    with app.app_context():
        deliver_due()
    smtp_server.envelopes.clear()


def run(app, now) -> None:
    """What the worker does on one pass: queue the due scheduled mails, then deliver the queue."""
    with app.app_context():
        run_due(now=now)
        deliver_due()


def queued_to(app) -> list[str]:
    """The addresses of the queued reminder mails, sorted."""
    with app.app_context():
        query = select(OutboxMessage.recipient).where(OutboxMessage.kind == REMINDER_MAIL)
        return sorted(db.session.scalars(query))


def received(smtp_server) -> dict[str, email.message.EmailMessage]:
    """The mails that arrived, by their one recipient."""
    mails = {}
    for envelope in smtp_server.envelopes:
        [address] = envelope.rcpt_tos
        assert address not in mails, f"{address} received two mails"
        mails[address] = email.message_from_bytes(envelope.content, policy=email.policy.default)
    return mails


def reminder_states(app, event) -> list[tuple[str, str]]:
    """(state, cancelled reason) of each reminder of `event`, as its pages show them."""
    with app.app_context():
        return [(r.state.name, r.state.not_sent_reason) for r in event_reminders(_event(app, event.id))]


# ---- sending, through the scheduler, the outbox and a real SMTP server


def test_the_confirmed_delegates_get_the_reminder_once_each_in_their_language(smtp_app, smtp_server):
    app = smtp_app
    event = create_test_event(app)
    register_test_delegate(app, event, email="ana@example.org", given_name="Ana")
    register_test_delegate(app, event, language="fr", email="marie@example.org", given_name="Marie")
    waiting, _token = register_test_delegate(app, event, email="wait@example.org")
    cancelled, _token = register_test_delegate(app, event, email="gone@example.org")
    set_registration(app, waiting, status="waitlisted")
    set_registration(app, cancelled, status="cancelled")
    clear_mailbox(app, smtp_server)
    _id, due = schedule(app, event)
    run(app, now=due - timedelta(seconds=1))
    assert smtp_server.envelopes == []  # not due yet
    run(app, now=due + timedelta(seconds=1))
    mails = received(smtp_server)
    assert sorted(mails) == ["ana@example.org", "marie@example.org"]
    assert mails["ana@example.org"]["Subject"] == "Inaugural Ceremony in a week"
    assert "Dear Ana," in mails["ana@example.org"].get_body(("plain",)).get_content()
    assert mails["marie@example.org"]["Subject"] == "Inaugural Ceremony dans une semaine"
    assert "Chère ou cher Marie," in mails["marie@example.org"].get_body(("plain",)).get_content()
    run(app, now=due + timedelta(minutes=5))  # a second pass: nothing twice
    assert len(smtp_server.envelopes) == 2
    assert reminder_states(app, event) == [("done", "")]
    with app.app_context():
        assert [r.sent_to for r in event_reminders(_event(app, event.id))] == [2]


def test_a_delegate_registered_after_the_reminders_time_does_not_get_it(smtp_app, smtp_server):
    app = smtp_app
    event = create_test_event(app)
    register_test_delegate(app, event, email="early@example.org")
    _id, due = schedule(app, event)
    late, _token = register_test_delegate(app, event, email="late@example.org")
    set_registration(app, late, created_at=due + timedelta(minutes=1))  # registered once its time had come
    clear_mailbox(app, smtp_server)
    run(app, now=due + timedelta(minutes=2))
    assert sorted(received(smtp_server)) == ["early@example.org"]


def test_a_reminder_due_while_the_workers_were_down_goes_out_when_they_are_back(smtp_app, smtp_server):
    app = smtp_app
    event = create_test_event(app)
    register_test_delegate(app, event, email="ana@example.org")
    clear_mailbox(app, smtp_server)
    _id, due = schedule(app, event)
    run(app, now=due + timedelta(days=5))  # still before the start
    assert sorted(received(smtp_server)) == ["ana@example.org"]


def test_a_reminder_found_due_once_the_event_has_started_is_cancelled(app, make_event, make_registration, logged_in):
    event = make_event()
    make_registration(event, email="ana@example.org")
    _id, due = schedule(app, event)
    with app.app_context():  # the workers were down until after the start
        started = utcnow() - timedelta(hours=1)
        db.session.execute(
            update(Event).where(Event.id == event.id).values(starts_at=started, ends_at=started + timedelta(hours=3))
        )
        db.session.commit()
    with app.app_context():
        assert run_due(now=due).cancelled == 1
    assert queued_to(app) == []
    assert reminder_states(app, event) == [("cancelled", "event_started")]
    page = logged_in.get(f"/organizer/events/{event.slug}/reminders").text
    assert "Not sent" in page and "the event had started when it fell due" in page


def test_a_removed_reminder_is_not_sent(app, make_event, make_registration, logged_in):
    event = make_event()
    make_registration(event, email="ana@example.org")
    message_id, due = schedule(app, event)
    response = logged_in.post(f"/organizer/events/{event.slug}/reminders/{message_id}/remove", follow_redirects=True)
    assert "The reminder was removed." in response.text and "removed by an organizer" in response.text
    with app.app_context():
        run_due(now=due + timedelta(days=1))
        assert db.session.get(Message, message_id).state == "cancelled"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reminder.removed"))
        assert entry.before["days_before_start"] == 7 and entry.event_id == event.id
    assert queued_to(app) == []
    assert reminder_states(app, event) == [("cancelled", "removed")]


def test_a_reminder_that_went_out_cannot_be_removed_or_changed(app, make_event, make_registration, logged_in):
    event = make_event()
    make_registration(event, email="ana@example.org")
    message_id, due = schedule(app, event)
    with app.app_context():
        run_due(now=due)
    with app.app_context(), pytest.raises(MessageRefused, match="already gone out"):
        remove_reminder(_event(app, event.id), message_id)
    url = f"/organizer/events/{event.slug}/reminders/{message_id}/edit"
    page = logged_in.get(url).text
    assert "can no longer be changed or removed" in page and "Save the reminder" not in page
    response = logged_in.post(url, data={"days_before": "3", "subject": "Changed", "body": "Changed", "status": ""})
    assert response.status_code == 400 and "already gone out" in response.text
    with app.app_context():
        assert db.session.get(Message, message_id).subject == "{event_title} in a week"


def test_the_filter_is_read_when_the_reminder_goes_out(app, make_event, make_registration):
    event = make_event()
    make_registration(event, email="cn@example.org", country="CN")
    fr, _token = make_registration(event, email="fr@example.org", country="FR")
    make_registration(event, email="observer@example.org", country="FR", category="observer")
    _id, due = schedule(app, event, audience_filter={"country": "FR", "category": "delegate"})
    set_registration(app, fr, status="cancelled")  # any status: the filter names none
    with app.app_context():
        run_due(now=due)
    assert queued_to(app) == ["fr@example.org"]


def test_changing_the_events_start_in_its_settings_moves_its_pending_reminders(app, make_event):
    starts = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=3))
    _id, due = schedule(app, event)
    assert due == starts - timedelta(days=7)
    later = starts + timedelta(days=10)
    with app.app_context():
        update_event(_event(app, event.id), starts_at=later, ends_at=later + timedelta(hours=3))
    with app.app_context():
        assert db.session.scalar(select(ScheduledMail.due_at)) == later - timedelta(days=7)


@pytest.mark.parametrize(
    ("days", "texts", "audience_filter", "field", "words"),
    [
        (0, TEXTS, None, "days_before", "from 1 to 90"),
        (91, TEXTS, None, "days_before", "from 1 to 90"),
        (40, TEXTS, None, "days_before", "already passed"),
        (7, TEXTS, None, "days_before", "7 days before the event starts is already scheduled"),
        (3, MessageTexts(subject="Hi", body="Dear {nom}"), None, "body", "{nom}"),
        (3, TEXTS, {"status": "gone"}, "filter", "status=gone"),
        (3, TEXTS, {"category": "nobody"}, "filter", "category=nobody"),
    ],
)
def test_a_reminder_is_refused_with_the_reason(app, make_event, days, texts, audience_filter, field, words):
    event = make_event()
    schedule(app, event, 7)
    with app.app_context(), pytest.raises(MessageRefused) as refusal:
        add_reminder(_event(app, event.id), days, texts, audience_filter)
    assert refusal.value.field == field and words in refusal.value.message
    with app.app_context():
        assert len(db.session.scalars(select(ScheduledMail).where(ScheduledMail.kind == EVENT_REMINDER)).all()) == 1


# ---- the organizer pages


@pytest.fixture
def beijing_event(make_event):
    """An event on 10 March 2040 at 10:00 in Beijing."""
    return make_event(
        starts_at=datetime(2040, 3, 10, 2, 0, tzinfo=UTC), ends_at=datetime(2040, 3, 10, 5, 0, tzinfo=UTC)
    )


def form_data(**changes) -> dict:
    """A valid add/edit form, with `changes`."""
    data = {"days_before": "7", "status": "confirmed", "category": "", "country": "", "attach_ticket": "y",
            "reply_to_contact": "y", "subject": "See you in {venue}",
            "body": "Dear {given_name},\n\nSee you."}  # fmt: skip
    data.update(changes)
    return data


def test_the_reminders_page_adds_lists_and_edits_reminders(app, logged_in, beijing_event):
    event = beijing_event
    settings = logged_in.get(f"/organizer/events/{event.slug}/settings").text
    assert f'href="/organizer/events/{event.slug}/reminders"' in settings
    url = f"/organizer/events/{event.slug}/reminders"
    assert "No reminder yet." in logged_in.get(url).text
    form = logged_in.get(f"{url}/new").text
    assert "{checkin_code}" in form and '<input checked id="attach_ticket"' in form
    assert '<option selected value="confirmed">' in form
    response = logged_in.post(f"{url}/new", data=form_data(country="CN", subject_fr="À bientôt"
                                                           , body_fr="Bonjour {given_name}"))  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"] == url
    page = logged_in.get(url).text
    assert "The reminder is scheduled." in page
    assert "7 days before the start" in page
    assert "Saturday, 3 March 2040, 10:00 (UTC+08:00)" in page  # in the event's time zone
    assert "Status: Confirmed; Country or region: China" in page and "Scheduled" in page
    assert "Ticket attached" in page and "1 language version" in page
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert message.versions == {"fr": {"subject": "À bientôt", "body": "Bonjour {given_name}"}}
        assert message.audience == {"filter": {"status": "confirmed", "country": "CN"}}
        message_id = message.id
    edit = f"{url}/{message_id}/edit"
    assert 'value="À bientôt"' in logged_in.get(edit).text
    response = logged_in.post(edit, data=form_data(days_before="3", status=""), follow_redirects=True)
    assert "The reminder was changed." in response.text
    assert "3 days before the start" in response.text
    assert "Every delegate of the event who is not erased." in response.text
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reminder.changed"))
        assert entry.before["days_before_start"] == 7 and entry.after["days_before_start"] == 3
        assert entry.after["reminder"] == message_id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"days_before": "0"}, "Please give a number of days from 1 to 90."),
        ({"days_before": "91"}, "Please give a number of days from 1 to 90."),
        ({"days_before": ""}, "Please give a number of days from 1 to 90."),
        ({"days_before": "soon"}, "Please give a number of days from 1 to 90."),
        ({"days_before": "14"}, "A reminder 14 days before the event starts is already scheduled."),
        ({"body": "Dear {nom}"}, "Unknown placeholder: {nom}."),
        ({"subject": ""}, "Please write a subject."),
        ({"status": "gone"}, "Not a valid choice"),
    ],
)
def test_the_form_refuses_bad_input_with_a_message(app, logged_in, beijing_event, changes, message):
    event = beijing_event
    schedule(app, event, 14)
    response = logged_in.post(f"/organizer/events/{event.slug}/reminders/new", data=form_data(**changes))
    assert response.status_code == 400
    assert message in response.text
    with app.app_context():
        assert len(db.session.scalars(select(Message)).all()) == 1


def test_a_time_already_past_is_refused_on_the_page(app, logged_in, make_event):
    event = make_event()  # starts in 30 days
    response = logged_in.post(f"/organizer/events/{event.slug}/reminders/new", data=form_data(days_before="40"))
    assert response.status_code == 400
    assert "That time has already passed: choose fewer days before the event starts." in response.text


def test_another_events_reminder_is_not_found(app, logged_in, beijing_event, make_event):
    other = make_event(title="Other ceremony")
    message_id, _due = schedule(app, other)
    url = f"/organizer/events/{beijing_event.slug}/reminders/{message_id}"
    assert logged_in.get(f"{url}/edit").status_code == 404
    response = logged_in.post(f"{url}/remove", follow_redirects=True)
    assert "There is no such reminder in this event." in response.text
    assert reminder_states(app, other) == [("pending", "")]


def test_check_in_staff_may_not_see_or_change_reminders(app, client, make_organizer, beijing_event):
    event = beijing_event
    message_id, _due = schedule(app, event)
    address, password = make_organizer(email="desk@example.org", role="checkin")
    client.post("/auth/login", data={"email": address, "password": password})
    url = f"/organizer/events/{event.slug}/reminders"
    assert client.get(url).status_code == 403
    assert client.get(f"{url}/new").status_code == 403
    assert client.post(f"{url}/new", data=form_data(days_before="3")).status_code == 403
    assert client.post(f"{url}/{message_id}/edit", data=form_data(days_before="3")).status_code == 403
    assert client.post(f"{url}/{message_id}/remove").status_code == 403
    assert reminder_states(app, event) == [("pending", "")]


@pytest.mark.parametrize("has_right", [True, False])
def test_only_organizers_with_the_message_delegates_right_may(app, client, make_organizer, beijing_event, monkeypatch,
                                                              has_right):  # fmt: skip
    event = beijing_event
    message_id, _due = schedule(app, event)
    address, password = make_organizer(email="org@example.org", role="organizer")
    with app.app_context():
        organizer_id = db.session.scalar(select(Organizer.id).where(Organizer.email == address))
        assign_events(organizer_id, {event.id})
    if not has_right:  # an organizer of the event whose role lacks only this right
        monkeypatch.setitem(ROLE_RIGHTS, "organizer", ROLE_RIGHTS["organizer"] - {Right.MESSAGE_DELEGATES})
    client.post("/auth/login", data={"email": address, "password": password})
    url = f"/organizer/events/{event.slug}/reminders"
    expected = 200 if has_right else 403
    assert client.get(url).status_code == expected
    assert client.get(f"{url}/new").status_code == expected
    assert client.get(f"{url}/{message_id}/edit").status_code == expected
    assert client.post(f"{url}/{message_id}/remove").status_code == (302 if has_right else 403)
    assert reminder_states(app, event) == ([("cancelled", "removed")] if has_right else [("pending", "")])
