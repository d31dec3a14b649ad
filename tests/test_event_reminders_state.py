"""Where an event reminder stands (scheduled, being sent, sent, not sent and why) is read in one place,
messages.reminders.reminder_state(): the reminders page, the Messages page, the reminder's page and the API all
say the same for each state."""

import lxml.html
import pytest
from sqlalchemy import update

from eventreg.extensions import db
from eventreg.messages.reminders import ReminderState, add_reminder, reminder_state, remove_reminder
from eventreg.messages.texts import MessageTexts
from eventreg.models import Event, Message, ScheduledMail, utcnow
from tests.test_api import make_account

# A reminder's situation: (its days before the start, what its scheduled mail's columns are set to) and what every
# page and the API say of it: (state, why not sent, label, the hint beside it).
SITUATIONS = {
    "pending": (1, {}, ("pending", "", "Scheduled", "")),
    "sending": (2, {"state": "sending", "queued": 1}, ("sending", "", "Being sent", "")),
    "done": (3, {"state": "done", "queued": 2}, ("done", "", "Sent", "")),
    "removed": (4, None, ("cancelled", "removed", "Not sent", "removed by an organizer")),
    "event_started": (
        5,
        {"state": "cancelled", "details": {"cancelled_reason": "event_started"}},
        ("cancelled", "event_started", "Not sent", "the event had started when it fell due"),
    ),
}


@pytest.fixture
def reminders(app, make_event):
    """An event with one reminder in each situation, set as the scheduler and the reminders page leave them: the
    removed one removed by remove_reminder(), the others' scheduled mails written as the scheduler writes them."""
    event = make_event()
    ids = {}
    with app.app_context():
        for name, (days, columns, _expected) in SITUATIONS.items():
            texts = MessageTexts(subject=f"Reminder {name}", body="See you.")
            message = add_reminder(db.session.get(Event, event.id), days, texts)
            ids[name] = message.id
            if columns is None:
                remove_reminder(db.session.get(Event, event.id), message.id)
            elif columns:
                finished = {"finished_at": utcnow()} if columns["state"] != "sending" else {"claimed_at": utcnow()}
                db.session.execute(
                    update(ScheduledMail)
                    .where(ScheduledMail.id == message.scheduled_mail_id)
                    .values(**columns, **finished)
                )
                db.session.commit()
    return event, ids


def _text(element) -> str:
    return " ".join(element.text_content().split())


@pytest.mark.parametrize("name", SITUATIONS)
def test_reminder_state_reads_each_situation(app, reminders, name):
    _event, ids = reminders
    state, reason, _label, _hint = SITUATIONS[name][2]
    with app.app_context():
        message = db.session.get(Message, ids[name])
        assert reminder_state(message, db.session.get(ScheduledMail, message.scheduled_mail_id)) == ReminderState(
            state, reason
        )


def test_every_page_and_the_api_say_the_same_of_each_reminder(app, reminders, logged_in):
    event, ids = reminders
    slug = event.slug
    headers = make_account(app, "api@example.org", events=[event])
    api = {
        item["id"]: item
        for item in app.test_client().get(f"/api/v1/events/{slug}/messages", headers=headers).json["items"]
    }
    reminders_page = lxml.html.document_fromstring(logged_in.get(f"/organizer/events/{slug}/reminders").text)
    messages_page = lxml.html.document_fromstring(logged_in.get(f"/organizer/events/{slug}/messages").text)
    for name, (_days, _columns, (state, reason, label, hint)) in SITUATIONS.items():
        message_id = ids[name]
        assert (api[message_id]["schedule_state"], api[message_id]["not_sent_reason"]) == (state, reason or None)
        [row] = reminders_page.xpath(f'//tr[@data-reminder="{message_id}"]')
        assert f"reminder-{state}" in row.classes
        [listed] = messages_page.xpath(f'//tr[@data-message="{message_id}"]')
        own_page = lxml.html.document_fromstring(logged_in.get(f"/organizer/events/{slug}/messages/{message_id}").text)
        [shown] = own_page.xpath('//*[@id="message-state"]')
        for where, element in (("reminders page", row.xpath("td")[3]), ("Messages page", listed.xpath("td")[1])):
            text = _text(element)
            assert text.startswith(label), (name, where, text)
            assert (hint in text) if hint else text in (label, f"{label} to 1 delegate", f"{label} to 2 delegates")
        assert _text(shown) == (f"{label} ({hint})" if hint else label), name
    assert "Removed" not in _text(messages_page.xpath('//table[@id="messages"]')[0])


def test_a_sent_reminders_page_says_when_it_went_out(app, reminders, logged_in):
    event, ids = reminders
    for name in SITUATIONS:
        page = lxml.html.document_fromstring(logged_in.get(f"/organizer/events/{event.slug}/messages/{ids[name]}").text)
        assert bool(page.xpath('//*[@id="message-confirmed"]')) == (name == "done"), name
