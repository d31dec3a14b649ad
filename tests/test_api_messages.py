"""GET /api/v1/events/<slug>/messages: the event's messages and reminders with their mails counted by state, as
the outbox holds them after a real delivery, in the shape openapi.json documents."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.mail.worker import deliver_due
from eventreg.messages.audience import audience_from_ids
from eventreg.messages.reminders import add_reminder
from eventreg.messages.services import confirm_message, new_idempotency_key, queue_test, save_draft
from eventreg.messages.texts import MessageTexts
from eventreg.models import Event, Organizer, utcnow
from tests.conftest import create_test_event, register_test_delegate
from tests.test_api import check, make_account

PATH = "/events/{slug}/messages"
REFUSED = "gone@example.org"


@pytest.fixture
def world(smtp_app, smtp_server):
    """An event whose message went to three delegates (the server refuses one address for good), with a reminder
    and a draft; the tokens of its organizer, of another event's organizer and of check-in staff."""

    async def handle_rcpt(server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handle_RCPT = handle_rcpt
    event = create_test_event(smtp_app, starts_at=utcnow() + timedelta(days=20))
    other = create_test_event(smtp_app, title="Another Ceremony")
    headers = make_account(smtp_app, "organizer@example.org", events=[event])
    ids = [
        register_test_delegate(smtp_app, event, email=address)[0]
        for address in ("bai@example.org", "dupont@example.org", REFUSED)
    ]
    with smtp_app.test_request_context():
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == "organizer@example.org"))
        stored = db.session.get(Event, event.id)
        texts = MessageTexts(subject="Shuttle times", body="The shuttle leaves at 8.")
        sent = save_draft(stored, texts, audience_from_ids(ids), new_idempotency_key(), organizer)
        confirm_message(event.id, sent.id, organizer)
        queue_test(stored, sent, organizer, None)  # a test to the organizer: not one of the delegates' mails
        reminder = add_reminder(stored, 7, MessageTexts(subject="In a week", body="See you."), organizer=organizer)
        draft = save_draft(stored, texts, audience_from_ids(ids[:1]), new_idempotency_key(), organizer)
        message_ids = {"sent": sent.id, "reminder": reminder.id, "draft": draft.id}
        run_due()
        deliver_due()
    desk = make_account(smtp_app, "desk@example.org", events=[event])
    with smtp_app.app_context():  # a role without the API right: its token, made while it had one, is refused
        db.session.scalar(select(Organizer).where(Organizer.email == "desk@example.org")).role = "checkin"
        db.session.commit()
    return {
        "event": event,
        "other": other,
        "ids": message_ids,
        "organizer": headers,
        "stranger": make_account(smtp_app, "stranger@example.org", events=[other]),
        "desk": desk,
    }


def url(event) -> str:
    return "/api/v1" + PATH.format(slug=event.slug)


def test_the_api_lists_messages_with_their_counts(smtp_app, world):
    response = smtp_app.test_client().get(url(world["event"]), headers=world["organizer"])
    check(response, PATH, 200)
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 50, 3, 1)
    items = {item["id"]: item for item in body["items"]}
    sent = items[world["ids"]["sent"]]
    assert sent["kind"] == "message" and sent["state"] == "confirmed" and sent["subject"] == "Shuttle times"
    assert sent["recipient_count"] == 3
    assert sent["counts"] == {"queued": 0, "sent": 2, "failed": 1}
    assert sent["confirmed_at"] is not None and sent["due_at"] is None
    reminder = items[world["ids"]["reminder"]]
    assert reminder["kind"] == "reminder" and reminder["subject"] == "In a week"
    assert reminder["due_at"] is not None and reminder["counts"] == {"queued": 0, "sent": 0, "failed": 0}
    draft = items[world["ids"]["draft"]]
    assert draft["state"] == "draft" and draft["confirmed_at"] is None and draft["recipient_count"] == 0
    # Newest first.
    assert [item["id"] for item in body["items"]] == sorted(items, reverse=True)


@pytest.mark.parametrize(("page", "shown", "count"), [("2", 2, 0), ("0", 1, 3), ("x", 1, 3), ("9" * 30, 1000000, 0)])
def test_pages_are_clamped(smtp_app, world, page, shown, count):
    response = smtp_app.test_client().get(f"{url(world['event'])}?page={page}", headers=world["organizer"])
    check(response, PATH, 200)
    assert (response.get_json()["page"], len(response.get_json()["items"])) == (shown, count)


def test_per_page_pages_through_the_messages(smtp_app, world):
    """A client asking for 2 a page gets every message once, newest first, over two pages that both say 2."""
    client, seen = smtp_app.test_client(), []
    for page in (1, 2):
        response = client.get(f"{url(world['event'])}?per_page=2&page={page}", headers=world["organizer"])
        check(response, PATH, 200)
        body = response.get_json()
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 2, 3, 2)
        seen += [item["id"] for item in body["items"]]
    assert seen == sorted(world["ids"].values(), reverse=True)


@pytest.mark.parametrize(
    ("who", "event", "status"), [(None, "event", 401), ("desk", "event", 403), ("stranger", "event", 403)]
)
def test_who_may_not_read_them_is_refused(smtp_app, world, who, event, status):
    headers = world[who] if who else {}
    check(smtp_app.test_client().get(url(world[event]), headers=headers), PATH, status)


def test_no_such_event(smtp_app, world):
    response = smtp_app.test_client().get("/api/v1/events/no-such-event/messages", headers=world["organizer"])
    check(response, PATH, 404)
