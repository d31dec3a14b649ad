"""Messages on PostgreSQL, where requests run at once: a double-click on "Send" answers "sent before" (not a 500),
a compose POST racing the confirmation does not rewrite the message once it is sent, and two POSTs of the same
test at once queue one test."""

import threading
import time

import pytest
from sqlalchemy import func, select

from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.messages import services
from eventreg.messages.audience import audience_from_ids
from eventreg.messages.services import (
    MessageTestOutcome,
    confirm_message,
    message_in,
    new_idempotency_key,
    queue_test,
    save_draft,
)
from eventreg.messages.texts import MessageTexts
from eventreg.models import Event, Message, Organizer, OutboxMessage, Registration
from tests.conftest import (
    POSTGRES_URL,
    create_test_event,
    drop_tables,
    make_app,
    register_test_delegate,
    require_postgresql,
)

pytestmark = pytest.mark.postgresql

TEXTS = MessageTexts(subject="Shuttle", body="Leaves at 8.")


@pytest.fixture
def pg_app(tmp_path):
    require_postgresql().dispose()
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=POSTGRES_URL)
    yield app
    drop_tables(app)


def _draft(app, event, registration_id, key=None) -> int:
    with app.test_request_context():
        event_row = db.session.get(Event, event.id)
        return save_draft(event_row, TEXTS, audience_from_ids([registration_id]), key or new_idempotency_key(), None).id


def test_the_second_post_of_a_double_click_is_told_the_message_was_sent(pg_app):
    event = create_test_event(pg_app)
    registration_id, _token = register_test_delegate(pg_app, event, email="a@example.org")
    draft_id = _draft(pg_app, event, registration_id)
    with pg_app.test_request_context():  # the second POST: its view loaded the draft before the first one sent it
        held = message_in(db.session.get(Event, event.id), draft_id)
        assert held.state == "draft"

        def first_post():
            with pg_app.test_request_context():
                assert not confirm_message(event.id, draft_id, None).already_sent

        thread = threading.Thread(target=first_post)
        thread.start()
        thread.join()
        assert confirm_message(event.id, draft_id, None).already_sent


def test_a_compose_post_racing_the_confirmation_leaves_the_sent_text(pg_app, monkeypatch):
    event = create_test_event(pg_app)
    registration_id, _token = register_test_delegate(pg_app, event, email="a@example.org")
    key = new_idempotency_key()
    draft_id = _draft(pg_app, event, registration_id, key)
    real_record = services.audit.record

    def slow_record(*args, **kwargs):
        real_record(*args, **kwargs)
        time.sleep(1.0)  # the confirmation's transaction stays open a while

    monkeypatch.setattr(services.audit, "record", slow_record)

    def confirm():
        with pg_app.test_request_context():
            confirm_message(event.id, draft_id, None)

    thread = threading.Thread(target=confirm)
    thread.start()
    time.sleep(0.3)
    with pg_app.test_request_context():  # the "Preview" POST of the same form, from another tab
        changed = MessageTexts(subject="CHANGED", body="Other text.")
        save_draft(db.session.get(Event, event.id), changed, audience_from_ids([registration_id]), key, None)
    thread.join()
    with pg_app.app_context():
        message = db.session.get(Message, draft_id)
        assert (message.state, message.subject) == ("confirmed", "Shuttle")


def test_two_posts_of_the_same_test_at_once_queue_one_test(pg_app, monkeypatch):
    event = create_test_event(pg_app)
    registration_id, _token = register_test_delegate(pg_app, event, email="a@example.org")
    draft_id = _draft(pg_app, event, registration_id)
    with pg_app.test_request_context():
        organizer_id = create_organizer("admin@example.org", "correct horse battery", "admin").id
    real_record = services.audit.record

    def slow_record(*args, **kwargs):
        real_record(*args, **kwargs)
        time.sleep(1.0)  # the first POST's transaction stays open a while after it queued its test

    monkeypatch.setattr(services.audit, "record", slow_record)
    outcomes = []

    def post_test():
        with pg_app.test_request_context():
            event_row = db.session.get(Event, event.id)
            outcomes.append(
                queue_test(
                    event_row,
                    message_in(event_row, draft_id),
                    db.session.get(Organizer, organizer_id),
                    db.session.get(Registration, registration_id),
                )
            )

    first = threading.Thread(target=post_test)
    first.start()
    time.sleep(0.3)
    post_test()  # the double click's second POST, while the first one's transaction is open
    first.join()
    assert sorted(outcomes) == sorted([MessageTestOutcome.QUEUED, MessageTestOutcome.REPEATED])
    with pg_app.app_context():
        tests = select(func.count()).where(OutboxMessage.kind == "message_test")
        assert db.session.scalar(tests) == 1
