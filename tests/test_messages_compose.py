"""The compose pages of a message to delegates, through HTTP: the reach of a filter or of ticked rows, refusals on
the page, a retried POST that sends nothing twice, who may use the pages, the rate limit, the daily cap, CSRF."""

import re

import pytest
from sqlalchemy import func, select

from eventreg.admin.services import assign_events
from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.models import ROLE_RIGHTS, Message, MessageRecipient, Organizer, OutboxMessage, Right, ScheduledMail
from eventreg.registration.privacy import erase_registration
from tests.conftest import create_test_event, drop_tables, make_app, register_test_delegate
from tests.test_registration_actions import flashes

PASSWORD = "correct horse battery"
TEXTS = {"subject": "Shuttle times", "body": "Dear {honorific} {family_name},\n\nThe shuttle leaves at 8."}


def compose_url(event, query=""):
    return f"/organizer/events/{event.slug}/messages/new" + (f"?{query}" if query else "")


def confirm_url(event, message_id):
    return f"/organizer/events/{event.slug}/messages/{message_id}/confirm"


def hidden(response, name) -> list[str]:
    """The values of the page's hidden inputs called `name`."""
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', response.text)


def posted(page, action, **changes) -> dict:
    """The compose form as the browser sends it from `page`: its hidden fields, the texts, and the button."""
    data = {"key": hidden(page, "key")[0], "audience": hidden(page, "audience")[0], "action": action, **TEXTS}
    data["reply_to_contact"] = "y"  # ticked by default
    for name in ("ids", "status", "country", "category", "q"):
        if hidden(page, name):
            data[name] = hidden(page, name)
    data.update(changes)
    return data


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def queued(app) -> list[int]:
    """The registrations that a message's mails are queued for, after the scheduler ran."""
    with app.app_context():
        run_due()
        query = select(OutboxMessage.registration_id).where(OutboxMessage.kind == "message").order_by("registration_id")
        return list(db.session.scalars(query))


@pytest.fixture
def world(app, make_event, make_registration):
    """An event with three delegates: two from China, one from France who reads French."""
    event = make_event()
    ids = {
        "cn": make_registration(event, email="cn@example.org", country="CN")[0],
        "cn2": make_registration(event, email="cn2@example.org", country="CN", given_name="Li", family_name="Wei")[0],
        "fr": make_registration(event, email="fr@example.org", country="FR", language="fr")[0],
    }
    return event, ids


def test_the_page_states_the_reach_of_a_filter(app, logged_in, world):
    event, ids = world
    with app.app_context():
        erase_registration(ids["cn2"], actor=None)
    response = logged_in.get(compose_url(event, "country=CN&sort=name"))
    assert response.status_code == 200
    assert "This message will reach 1 delegate." in response.text
    assert "1 matching delegate was erased and will receive nothing." in response.text
    assert "Country or region: China" in response.text
    assert "last mail failed" not in response.text
    assert hidden(response, "country") == ["CN"] and hidden(response, "sort") == []
    assert "{event_start}" in response.text  # the placeholders are listed


def test_the_page_states_the_reach_of_ticked_rows(app, logged_in, world):
    event, ids = world
    response = logged_in.post(compose_url(event), data={"ids": [ids["cn"], ids["fr"]], "action": "write"})
    assert response.status_code == 200
    assert "The 2 ticked delegates." in response.text
    assert "This message will reach 2 delegates." in response.text
    assert sorted(hidden(response, "ids")) == sorted([str(ids["cn"]), str(ids["fr"])])
    assert re.search(r'<input checked id="reply_to_contact"', response.text)  # on by default


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("status=maybe", "The filter status=maybe is not understood."),
        ("country=CN&country=FR", "The filter country is given 2 times."),
        ("category=nobody", "The filter category=nobody is not understood."),
    ],
)
def test_a_filter_that_is_not_understood_shows_its_message_and_no_form(logged_in, world, query, words):
    event, _ids = world
    response = logged_in.get(compose_url(event, query))
    assert response.status_code == 400
    assert words in response.text
    assert 'id="compose-form"' not in response.text


@pytest.mark.parametrize(
    ("ids", "words"),
    [([], "Please tick at least one delegate."), (["x1"], "The ticked rows were not understood.")],
)
def test_ticked_rows_that_are_not_understood_are_refused(logged_in, world, ids, words):
    event, _ids = world
    response = logged_in.post(compose_url(event), data={"ids": ids, "action": "write"})
    assert response.status_code == 400
    assert words in response.text


def test_continue_twice_and_confirm_twice_send_once(app, logged_in, world):
    event, ids = world
    page = logged_in.get(compose_url(event, "country=CN"))
    first = logged_in.post(compose_url(event), data=posted(page, "continue"))
    again = logged_in.post(compose_url(event), data=posted(page, "continue"))  # a double click
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    message_id = int(first.headers["Location"].split("/")[-2])
    confirm_page = logged_in.get(first.headers["Location"])
    assert "Send this message to 2 delegates?" in confirm_page.text
    sent = logged_in.post(confirm_url(event, message_id), follow_redirects=True)
    assert "The message is being sent to 2 delegates." in flashes(sent)
    retried = logged_in.post(confirm_url(event, message_id), follow_redirects=True)
    assert "This message was sent before; nothing was sent again." in flashes(retried)
    late = logged_in.post(compose_url(event), data=posted(page, "continue"), follow_redirects=True)
    assert "This message was sent before; nothing was sent again." in flashes(late)
    assert count(app, Message) == 1
    assert count(app, ScheduledMail, ScheduledMail.kind == "message") == 1
    assert count(app, MessageRecipient) == 2
    assert queued(app) == sorted([ids["cn"], ids["cn2"]])
    assert queued(app) == sorted([ids["cn"], ids["cn2"]])  # the scheduler again: nothing more
    # A sent message's pages no longer change it.
    reopened = logged_in.get(compose_url(event, f"message={message_id}"), follow_redirects=True)
    assert "This message has been sent; it can no longer be changed." in flashes(reopened)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"body": "Dear {given_nam},"}, "Unknown placeholder: {given_nam}."),
        ({"subject": "Hello {Venue}"}, "Unknown placeholder: {Venue}."),
        ({"subject_fr": "Bonjour {nom}", "body_fr": "x"}, "Unknown placeholder: {nom}."),
        ({"subject": "Two\nlines"}, "single line"),
        ({"subject": ""}, "Please write a subject."),
        ({"body_fr": "Seulement le texte"}, "Please write a subject."),
    ],
)
@pytest.mark.parametrize("action", ["continue", "preview", "test"])
def test_texts_that_cannot_be_sent_are_refused_on_the_page_and_nothing_is_saved(
    app, logged_in, world, changes, words, action
):
    event, _ids = world
    page = logged_in.get(compose_url(event, "status=confirmed"))
    response = logged_in.post(compose_url(event), data=posted(page, action, **changes))
    assert response.status_code == 200
    assert words in response.text.replace("&#39;", "'")
    assert 'class="error"' in response.text or "compose-problem" in response.text
    assert count(app, Message) == 0
    assert count(app, OutboxMessage, OutboxMessage.kind == "message_test") == 0


def test_a_test_goes_to_the_organizer_and_the_preview_shows_the_draft(app, logged_in, world):
    event, _ids = world
    page = logged_in.get(compose_url(event, "country=CN"))
    tested = logged_in.post(compose_url(event), data=posted(page, "test"), follow_redirects=True)
    assert flashes(tested) == ["A test was sent to admin@example.org."]
    with app.app_context():
        test = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "message_test"))
        assert test.recipient == "admin@example.org" and test.registration_id is None
    # The reopened draft keeps its key and texts: the next POST names the same message.
    assert hidden(tested, "key") == hidden(page, "key")
    assert "Shuttle times" in tested.text
    logged_in.post(compose_url(event), data=posted(page, "preview", subject="Shuttle at 8"))
    assert count(app, Message) == 1
    with app.app_context():
        assert db.session.scalar(select(Message.subject)) == "Shuttle at 8"


def test_check_in_staff_are_refused_every_messages_page(app, client, world, make_organizer):
    event, ids = world
    make_organizer("desk@example.org", PASSWORD, role="checkin")
    with app.app_context():
        desk = db.session.scalar(select(Organizer.id).where(Organizer.email == "desk@example.org"))
        assign_events(desk, {event.id})
    client.post("/auth/login", data={"email": "desk@example.org", "password": PASSWORD})
    page = client.get(f"/organizer/events/{event.slug}/registrations")
    assert page.status_code == 403  # the list itself, and so its links, are not theirs either
    assert client.get(compose_url(event, "country=CN")).status_code == 403
    assert client.post(compose_url(event), data={"ids": [ids["cn"]], "action": "write"}).status_code == 403
    assert client.post(compose_url(event), data={**TEXTS, "action": "continue"}).status_code == 403
    assert client.get(confirm_url(event, 1)).status_code == 403
    assert client.post(confirm_url(event, 1)).status_code == 403
    assert count(app, Message) == 0


def test_an_organizer_of_another_event_is_refused(app, client, logged_in, world, make_organizer, make_event):
    event, _ids = world
    page = logged_in.get(compose_url(event, "country=CN"))
    draft = logged_in.post(compose_url(event), data=posted(page, "continue"))
    message_id = int(draft.headers["Location"].split("/")[-2])
    other = make_event(title="Another ceremony")
    make_organizer("other@example.org", PASSWORD, role="organizer")
    with app.app_context():
        assign_events(db.session.scalar(select(Organizer.id).where(Organizer.email == "other@example.org")), {other.id})
    outsider = app.test_client()
    outsider.post("/auth/login", data={"email": "other@example.org", "password": PASSWORD})
    assert outsider.get(compose_url(event)).status_code == 403
    assert outsider.post(confirm_url(event, message_id)).status_code == 403
    # Their own event's pages do not reach the message of another event.
    assert outsider.get(confirm_url(other, message_id)).status_code == 404
    assert outsider.post(confirm_url(other, message_id)).status_code == 404
    assert outsider.get(compose_url(other, f"message={message_id}")).status_code == 404
    assert count(app, MessageRecipient) == 0


def test_the_organizers_list_links_to_the_compose_page(app, logged_in, world):
    event, _ids = world
    response = logged_in.get(f"/organizer/events/{event.slug}/registrations?country=CN&invited=no")
    assert 'id="write-to-ticked"' in response.text
    link = re.search(r'id="write-to-filter" href="([^"]*)"', response.text).group(1).replace("&amp;", "&")
    assert link.startswith(compose_url(event) + "?") and "country=CN" in link and "invited=no" in link
    composed = logged_in.get(link)
    assert "This message will reach 2 delegates." in composed.text
    assert "Registered without an invitation" in composed.text


def test_the_daily_cap_shows_its_message(app, logged_in, world):
    event, _ids = world
    app.config["MESSAGES_PER_EVENT_PER_DAY"] = 1
    locations = []
    for _ in range(2):
        page = logged_in.get(compose_url(event, "country=FR"))
        locations.append(logged_in.post(compose_url(event), data=posted(page, "continue")).headers["Location"])
    logged_in.post(locations[0], follow_redirects=True)
    refused = logged_in.post(locations[1], follow_redirects=True)
    assert flashes(refused) == ["This event has sent its 1 message for today. Please try again tomorrow."]
    assert "Send this message to 1 delegate?" in refused.text
    assert count(app, Message, Message.state == "confirmed") == 1


@pytest.fixture
def limited(tmp_path):
    """An app with the rate limits on, two sends an hour, and an event with one delegate; logged in."""
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, MESSAGE_SEND_LIMIT="2 per hour")
    event = create_test_event(app)
    register_test_delegate(app, event)
    with app.app_context():
        create_organizer("admin@example.org", PASSWORD, "admin")
    client = app.test_client()
    client.post("/auth/login", data={"email": "admin@example.org", "password": PASSWORD})
    yield app, client, event
    drop_tables(app)


def test_the_rate_limit_refuses_the_send_after_the_tests(limited):
    app, client, event = limited
    page = client.get(compose_url(event))
    for subject in ("First", "Second"):  # two tests of other texts (the same one again is not sent twice)
        sent = client.post(compose_url(event), data=posted(page, "test", subject=subject), follow_redirects=True)
        assert flashes(sent) == ["A test was sent to admin@example.org."]
    refused = client.post(compose_url(event), data=posted(page, "test"), follow_redirects=True)
    message = "You have sent several messages and tests in a short time. Please wait a while and try again."
    assert flashes(refused) == [message]
    location = client.post(compose_url(event), data=posted(page, "continue")).headers["Location"]
    confirmed = client.post(location, follow_redirects=True)
    assert flashes(confirmed) == [message]
    assert count(app, OutboxMessage, OutboxMessage.kind == "message_test") == 2
    assert count(app, MessageRecipient) == 0


def test_a_post_without_its_csrf_token_sends_nothing(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    try:
        event = create_test_event(app)
        register_test_delegate(app, event)
        with app.app_context():
            create_organizer("admin@example.org", PASSWORD, "admin")
        client = app.test_client()
        login = client.get("/auth/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]*)"', login.text).group(1)
        client.post("/auth/login", data={"email": "admin@example.org", "password": PASSWORD, "csrf_token": token})
        page = client.get(compose_url(event))
        token = hidden_token(page)
        assert client.post(compose_url(event), data=posted(page, "continue")).status_code == 400
        assert count(app, Message) == 0
        draft = client.post(compose_url(event), data={**posted(page, "continue"), "csrf_token": token})
        assert draft.status_code == 302
        assert client.post(draft.headers["Location"]).status_code == 400
        assert count(app, MessageRecipient) == 0
        assert client.post(draft.headers["Location"], data={"csrf_token": token}).status_code == 302
        assert count(app, MessageRecipient) == 1
    finally:
        drop_tables(app)


def hidden_token(response) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]*)"', response.text).group(1)


def test_a_role_without_the_right_to_message_delegates_sees_no_link_and_is_refused(
    app, client, world, make_organizer, monkeypatch
):
    event, ids = world
    # An organizer role that runs events but may not write to their delegates: the right alone decides.
    rights = ROLE_RIGHTS["organizer"] - {Right.MESSAGE_DELEGATES}
    monkeypatch.setitem(ROLE_RIGHTS, "organizer", rights)
    make_organizer("runner@example.org", PASSWORD, role="organizer")
    with app.app_context():
        runner = db.session.scalar(select(Organizer.id).where(Organizer.email == "runner@example.org"))
        assign_events(runner, {event.id})
    client.post("/auth/login", data={"email": "runner@example.org", "password": PASSWORD})
    listing = client.get(f"/organizer/events/{event.slug}/registrations")
    assert listing.status_code == 200
    assert "write-to-filter" not in listing.text and "write-to-ticked" not in listing.text
    assert client.get(compose_url(event, "country=CN")).status_code == 403
    assert client.post(compose_url(event), data={"ids": [ids["cn"]], "action": "write"}).status_code == 403
    assert client.get(confirm_url(event, 1)).status_code == 403
