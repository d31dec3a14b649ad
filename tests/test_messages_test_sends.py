""" "Send a test to me" on the compose page: a double click (or a retried POST) of the same form queues one test,
a changed text or another delegate is a new test; the page reads the audience's first recipients once."""

import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import request
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.models import OutboxMessage, utcnow
from tests.conftest import create_test_event, drop_tables, make_app, register_test_delegate
from tests.test_messages_compose import PASSWORD, compose_url, count, posted, world  # noqa: F401 - a fixture
from tests.test_registration_actions import flashes

TEST_MAIL = OutboxMessage.kind == "message_test"
SENT = "A test was sent to admin@example.org."
REPEATED = "This test was sent to admin@example.org a moment ago; it was not sent again."
LIMITED = "You have sent several messages and tests in a short time. Please wait a while and try again."


def send_test(client, event, page, **changes) -> list[str]:
    """POST the compose form of `page` with "Send a test to me"; the flashes of the page it leads to."""
    return flashes(client.post(compose_url(event), data=posted(page, "test", **changes), follow_redirects=True))


def test_a_double_click_on_send_a_test_queues_one_test_and_says_so(app, logged_in, world):  # noqa: F811 - pytest hands in the imported fixture
    event, ids = world
    page = logged_in.get(compose_url(event, "country=CN"))
    assert send_test(logged_in, event, page) == [SENT]
    assert send_test(logged_in, event, page) == [REPEATED]  # the second POST of a double click
    assert count(app, OutboxMessage, TEST_MAIL) == 1
    # A changed text is a new test, and so is another delegate; each of them once.
    assert send_test(logged_in, event, page, subject="Shuttle at 8") == [SENT]
    assert send_test(logged_in, event, page, subject="Shuttle at 8") == [REPEATED]
    assert send_test(logged_in, event, page, subject="Shuttle at 8", delegate=str(ids["cn2"])) == [SENT]
    assert send_test(logged_in, event, page, subject="Shuttle at 8", delegate=str(ids["cn2"])) == [REPEATED]
    assert send_test(logged_in, event, page, subject="Shuttle at 8", attach_ticket="y", delegate=str(ids["cn2"])) == [
        SENT
    ]
    assert count(app, OutboxMessage, TEST_MAIL) == 4
    # Another compose form (another key) with the same texts is another message: its test is sent.
    other = logged_in.get(compose_url(event, "country=CN"))
    assert send_test(logged_in, event, other) == [SENT]
    assert count(app, OutboxMessage, TEST_MAIL) == 5


def test_the_same_test_asked_for_again_after_a_while_is_sent(app, logged_in, world):  # noqa: F811 - pytest hands in the imported fixture
    event, _ids = world
    page = logged_in.get(compose_url(event, "country=CN"))
    assert send_test(logged_in, event, page) == [SENT]
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    assert send_test(logged_in, event, page) == [SENT]
    assert count(app, OutboxMessage, TEST_MAIL) == 2


@contextmanager
def preview_lists_read(app):
    """A list that collects the statements reading the audience's first recipients by name (the preview's select)
    while the block runs, and every SELECT on registration beside it (for the report)."""
    statements = {"preview_list": 0, "registration_selects": 0}

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split())
        if text.startswith("SELECT") and "FROM registration" in text:
            statements["registration_selects"] += 1
            if "ORDER BY registration.name_key, registration.id" in text and "LIMIT" in text:
                statements["preview_list"] += 1

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", before_cursor_execute)


def test_the_preview_and_the_test_read_the_first_recipients_once(app, logged_in, world):  # noqa: F811 - pytest hands in the imported fixture
    event, ids = world
    page = logged_in.get(compose_url(event, "country=CN"))
    with preview_lists_read(app) as statements:
        response = logged_in.post(compose_url(event), data=posted(page, "preview", delegate=str(ids["cn2"])))
        assert response.status_code == 302
        preview = logged_in.get(response.headers["Location"])
    assert "Preview" in preview.text and 'id="preview"' in preview.text
    assert f'<option value="{ids["cn2"]}" selected>' in preview.text
    assert statements["preview_list"] == 1, statements
    with preview_lists_read(app) as statements:
        assert send_test(logged_in, event, page, subject="Another") == [SENT]
    assert statements["preview_list"] == 2, statements  # the test's POST once, the page it leads to once
    with app.app_context():
        details = db.session.scalar(select(OutboxMessage.details).where(TEST_MAIL))
    assert details["registration_id"] == ids["cn"]  # no delegate chosen: the first one by name (Bai before Li)


def test_a_repeated_test_does_not_count_against_the_send_limit(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, MESSAGE_SEND_LIMIT="2 per hour")
    try:
        event = create_test_event(app)
        register_test_delegate(app, event)
        with app.app_context():
            create_organizer("admin@example.org", PASSWORD, "admin")
        client = app.test_client()
        client.post("/auth/login", data={"email": "admin@example.org", "password": PASSWORD})
        page = client.get(compose_url(event))
        assert send_test(client, event, page) == [SENT]
        assert send_test(client, event, page) == [REPEATED]  # costs nothing
        assert send_test(client, event, page, subject="Second") == [SENT]
        assert send_test(client, event, page, subject="Third") == [LIMITED]
        assert send_test(client, event, page, subject="Second") == [REPEATED]  # still said, past the limit
        assert count(app, OutboxMessage, TEST_MAIL) == 2
    finally:
        drop_tables(app)


@pytest.mark.browser
def test_a_double_click_in_a_real_browser_sends_the_form_once(live_server, browser_page):
    """The site's forms.js (in base.html, so on the compose page) lets a form be submitted once per page: the second
    click of a double click, while the first POST is still on its way, sends nothing."""
    from playwright.sync_api import expect

    from tests.browser import log_in

    app, base_url = live_server
    page = browser_page
    event = create_test_event(app)
    register_test_delegate(app, event)
    with app.app_context():
        create_organizer("admin@example.org", PASSWORD, "admin")

    @app.before_request
    def slow_compose_post():  # a slow network: the first POST is answered after the second click
        if request.method == "POST" and request.path == compose_url(event):
            time.sleep(0.6)

    log_in(page, base_url, "admin@example.org", PASSWORD)
    page.goto(f"{base_url}{compose_url(event)}")
    page.locator("#subject").fill("Shuttle times")
    page.locator("#body").fill("The shuttle leaves at 8.")
    posts = []
    page.on("request", lambda sent: posts.append(sent.url) if sent.method == "POST" else None)
    page.evaluate(
        """async () => {
            const button = [...document.querySelectorAll("button")].find((b) => b.value === "test");
            button.click();
            await new Promise((resolve) => setTimeout(resolve, 200));
            button.click();
        }"""
    )
    page.wait_for_url("**/messages/new?message=*")
    page.wait_for_load_state()
    assert posts == [f"{base_url}{compose_url(event)}"]
    expect(page.get_by_text(SENT)).to_be_visible()
    assert count(app, OutboxMessage, TEST_MAIL) == 1
