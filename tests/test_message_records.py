"""The record of messages: the Messages page counts each message's mails as the outbox holds them, a message's page
lists its recipients and resends its failed mails (they arrive once the server takes them), a registration's history
names the message it received, the audit log shows the send, and check-in staff see none of it."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.mail.worker import deliver_due
from eventreg.messages.audience import audience_from_ids
from eventreg.messages.reminders import add_reminder
from eventreg.messages.services import confirm_message, new_idempotency_key, save_draft
from eventreg.messages.texts import MessageTexts
from eventreg.models import Event, Organizer, OutboxMessage, event_organizer, utcnow
from tests.conftest import create_test_event, register_test_delegate

PASSWORD = "correct horse battery"
TEXTS = MessageTexts(
    subject="Shuttle times",
    body="Dear {honorific} {family_name},\n\nThe shuttle leaves at 8 <b>sharp</b>.",
    versions={"fr": ("Horaires des navettes", "Bonjour {family_name},\n\nLa navette part à 8 h.")},
)
REFUSED = "gone@example.org"


def visible(html: str) -> str:
    """A page's text as a reader sees it: tags removed, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def row_of(page: str, message_id: int) -> str:
    """The Messages page's row of one message."""
    return re.search(rf'<tr data-message="{message_id}".*?</tr>', page, re.S).group(0)


def figure(row: str, name: str) -> int:
    """One count of a row on the Messages page."""
    return int(re.search(rf'class="num count-{name}">([\d,]+)<', row).group(1).replace(",", ""))


def login(app, email: str, role: str = "admin", event=None):
    """A client logged in as a new account of `role`, assigned to `event`."""
    with app.app_context():
        organizer = create_organizer(email, PASSWORD, role)
        if event is not None:
            db.session.execute(event_organizer.insert().values(event_id=event.id, organizer_id=organizer.id))
            db.session.commit()
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def send_message(app, event, registration_ids, texts=TEXTS, author="admin@example.org") -> int:
    """Write and confirm a message to these registrations as `author`, through the services; its id."""
    with app.test_request_context():
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == author))
        draft = save_draft(
            db.session.get(Event, event.id),
            texts,
            audience_from_ids(registration_ids),
            new_idempotency_key(),
            organizer,
        )
        confirm_message(event.id, draft.id, organizer)
        return draft.id


def deliver(app) -> None:
    """What the worker does: queue the due scheduled mails, then send the due outbox mails."""
    with app.app_context():
        run_due()
        deliver_due()


@pytest.fixture
def refusing(smtp_server):
    """The SMTP server refuses REFUSED for good (550) while refusing[0] is true, and takes every other address."""
    state = [True]

    async def handle_rcpt(server, session, envelope, address, rcpt_options):
        if state[0] and address == REFUSED:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handle_RCPT = handle_rcpt
    return state


@pytest.fixture
def sent(smtp_app, smtp_server, refusing):
    """A message to three delegates (one in French, one whose address the server refuses) delivered, and an admin
    logged in."""
    event = create_test_event(smtp_app)
    client = login(smtp_app, "admin@example.org")
    ids = {
        "bai": register_test_delegate(smtp_app, event, email="bai@example.org")[0],
        "dupont": register_test_delegate(
            smtp_app, event, language="fr", email="dupont@example.org", given_name="Marie", family_name="Dupont"
        )[0],
        "gone": register_test_delegate(smtp_app, event, email=REFUSED, given_name="Ana", family_name="Silva")[0],
    }
    register_test_delegate(smtp_app, event, email="other@example.org", family_name="Other")  # not a recipient
    deliver(smtp_app)  # the confirmations of registration go first, out of the way
    smtp_server.envelopes.clear()
    message_id = send_message(smtp_app, event, list(ids.values()))
    deliver(smtp_app)
    return {"event": event, "client": client, "ids": ids, "message": message_id}


def test_the_messages_page_counts_the_mails_as_the_outbox_holds_them(smtp_app, smtp_server, sent):
    with smtp_app.app_context():
        states = dict(
            db.session.execute(
                select(OutboxMessage.state, func.count())
                .where(OutboxMessage.delegate_message_id == sent["message"])
                .group_by(OutboxMessage.state)
            ).all()
        )
    assert states == {"sent": 2, "failed": 1}
    assert sorted(rcpt for envelope in smtp_server.envelopes for rcpt in envelope.rcpt_tos) == [
        "bai@example.org",
        "dupont@example.org",
    ]
    page = sent["client"].get(f"/organizer/events/{sent['event'].slug}/messages").text
    row = row_of(page, sent["message"])
    assert (figure(row, "queued"), figure(row, "sent"), figure(row, "failed")) == (0, 2, 1)
    text = visible(row)
    assert "Shuttle times" in text and "Sent" in text and "admin@example.org" in text
    assert f'href="/organizer/events/{sent["event"].slug}/messages/{sent["message"]}"' in row
    # The links to write another message and to the reminders; the event nav marks the section.
    assert f'href="/organizer/events/{sent["event"].slug}/messages/new"' in page
    assert f'href="/organizer/events/{sent["event"].slug}/reminders"' in page
    assert 'aria-current="page">Messages</a>' in page


def test_the_message_page_lists_recipients_and_resends_the_failed_mail(smtp_app, smtp_server, sent, refusing):
    client, slug = sent["client"], sent["event"].slug
    url = f"/organizer/events/{slug}/messages/{sent['message']}"
    page = client.get(url).text
    recipients = page.split('id="recipients"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-registration="(\d+)".*?</tr>', recipients, re.S)
    assert sorted(int(number) for number in rows) == sorted(sent["ids"].values())
    silva = visible(re.search(rf'<tr data-registration="{sent["ids"]["gone"]}".*?</tr>', recipients, re.S).group(0))
    assert "Silva" in silva and "Failed" in silva and "550 5.1.1 no such user" in silva
    assert "Other" not in visible(recipients)
    # The organizer's text is shown as written: escaped, never as HTML; each language version beside the default.
    assert "The shuttle leaves at 8 &lt;b&gt;sharp&lt;/b&gt;." in page
    assert "Horaires des navettes" in page and "La navette part à 8 h." in page
    assert "3 delegates ticked on the attendee list." in visible(page)
    assert 'id="resend-failed"' in page

    refusing[0] = False  # the mailbox exists again
    response = client.post(f"{url}/resend")
    assert response.status_code == 302 and response.headers["Location"] == url
    assert "1 failed mail is queued again" in client.get(url).text
    deliver(smtp_app)
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes][2:] == [[REFUSED]]
    page = client.get(url).text
    assert 'id="resend-failed"' not in page
    assert re.search(r'id="message-sent">3<', page) and re.search(r'id="message-failed">0<', page)

    # A second resend finds nothing to queue and says so.
    client.post(f"{url}/resend")
    assert "nothing was queued again" in client.get(url).text
    audit = visible(client.get("/admin/audit").text)
    assert "Message sent to delegates" in audit
    assert "Failed mails of a message queued again" in audit
    assert audit.count("Failed mails of a message queued again") == 1


def test_a_registrations_history_shows_the_message_it_received(smtp_app, sent):
    slug = sent["event"].slug
    page = sent["client"].get(f"/organizer/events/{slug}/registrations/{sent['ids']['dupont']}").text
    history = page.split('id="history-heading"', 1)[1]
    link = f'<a href="/organizer/events/{slug}/messages/{sent["message"]}"><bdi>Horaires des navettes</bdi></a>'
    assert link in history  # the French version's subject: the one she received
    assert "Message from the organizers" in visible(history)
    other = sent["client"].get(f"/organizer/events/{slug}/registrations/{sent['ids']['bai']}").text
    assert "<bdi>Shuttle times</bdi></a>" in other.split('id="history-heading"', 1)[1]


def test_drafts_reminders_and_the_empty_page(app, make_event, make_registration):
    event = make_event(starts_at=utcnow() + timedelta(days=20))
    client = login(app, "admin@example.org")
    slug = event.slug
    assert "No message has been written" in client.get(f"/organizer/events/{slug}/messages").text
    registration_id = make_registration(event)[0]
    with app.test_request_context():
        organizer = db.session.scalar(select(Organizer))
        stored = db.session.get(Event, event.id)
        draft = save_draft(stored, TEXTS, audience_from_ids([registration_id]), new_idempotency_key(), organizer)
        reminder = add_reminder(stored, 7, MessageTexts(subject="In a week", body="See you soon."), organizer=organizer)
        draft_id, reminder_id = draft.id, reminder.id
    page = client.get(f"/organizer/events/{slug}/messages").text
    assert "No message has been written" not in page
    draft_row = row_of(page, draft_id)
    assert "Draft" in visible(draft_row)
    assert f'href="/organizer/events/{slug}/messages/{draft_id}/confirm"' in draft_row
    reminder_row = visible(row_of(page, reminder_id))
    assert "Reminder" in reminder_row and "In a week" in reminder_row and "Scheduled" in reminder_row
    assert "Due " in reminder_row
    shown = visible(client.get(f"/organizer/events/{slug}/messages/{reminder_id}").text)
    assert "Nobody has been sent this reminder yet." in shown and "Status: Confirmed" in shown


def test_a_message_of_another_event_is_not_found(app, make_event, make_registration):
    event, other = make_event(), make_event(title="Another Ceremony")
    client = login(app, "admin@example.org")
    message_id = send_message(app, other, [make_registration(other)[0]])
    assert client.get(f"/organizer/events/{other.slug}/messages/{message_id}").status_code == 200
    assert client.get(f"/organizer/events/{event.slug}/messages/{message_id}").status_code == 404
    assert client.post(f"/organizer/events/{event.slug}/messages/{message_id}/resend").status_code == 404
    assert client.get(f"/organizer/events/{event.slug}/messages/999999").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/messages"), ("get", "/messages/{id}"), ("post", "/messages/{id}/resend")],
)
def test_check_in_staff_are_refused(app, make_event, make_registration, method, path):
    event = make_event()
    login(app, "admin@example.org")
    message_id = send_message(app, event, [make_registration(event)[0]])
    desk = login(app, "desk@example.org", role="checkin", event=event)
    url = f"/organizer/events/{event.slug}" + path.format(id=message_id)
    assert getattr(desk, method)(url).status_code == 403


def test_the_event_nav_links_to_the_messages(app, make_event):
    event = make_event()
    organizer = login(app, "organizer@example.org", role="organizer", event=event)
    page = organizer.get(f"/organizer/events/{event.slug}/outbox").text
    assert f'<a href="/organizer/events/{event.slug}/messages">Messages</a>' in page
