"""The rules of messages to delegates, without HTTP: a draft saved once per idempotency key, confirmed once with
its recipients fixed at that moment, queued by the scheduler in batches that resume, and the daily cap."""

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.messages.audience import audience_from_filter, audience_from_ids, reach
from eventreg.messages.services import confirm_message, new_idempotency_key, save_draft
from eventreg.messages.texts import MESSAGE_MAIL, MessageRefused, MessageTexts
from eventreg.models import Event, Message, MessageRecipient, OutboxMessage
from eventreg.registration.privacy import erase_registration

TEXTS = MessageTexts(subject="Shuttle times", body="Dear {honorific} {family_name},\n\nThe shuttle leaves at 8.")


def _draft(event_id, audience, key=None, texts=TEXTS):
    event = db.session.get(Event, event_id)
    return save_draft(event, texts, audience, key or new_idempotency_key(), None)


def _outbox(message_id):
    return db.session.scalars(
        select(OutboxMessage.registration_id).where(OutboxMessage.delegate_message_id == message_id)
    ).all()


def test_a_confirmed_message_queues_one_mail_to_each_fixed_recipient_once(app, make_event, make_registration):
    event = make_event()
    ids = {country: make_registration(event, email=f"{country}@example.org", country=country)[0]
           for country in ("CN", "FR", "BR")}  # fmt: skip
    with app.test_request_context():
        audience = audience_from_filter(MultiDict({"country": "CN", "sort": "name"}), db.session.get(Event, event.id))
        assert audience == {"filter": {"country": "CN"}}
        assert reach(db.session.get(Event, event.id), audience).recipients == 1
        key = new_idempotency_key()
        draft = _draft(event.id, audience, key)
        again = _draft(event.id, audience, key)  # a retried POST of the same form
        assert again.id == draft.id
        assert db.session.scalar(select(func.count()).select_from(Message)) == 1
        # Registered after the organizer confirmed: not a recipient.
        assert not confirm_message(event.id, draft.id, None).already_sent
        draft_id = draft.id
    make_registration(event, email="late@example.org", country="CN")
    with app.test_request_context():
        draft = db.session.get(Message, draft_id)
        assert confirm_message(event.id, draft.id, None).already_sent
        run_due()
        run_due()
        assert _outbox(draft.id) == [ids["CN"]]
        kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.delegate_message_id == draft.id))
        assert list(kinds) == [MESSAGE_MAIL]


def test_the_send_resumes_where_it_stopped(app, make_event, make_registration):
    event = make_event()
    ids = [make_registration(event, email=f"d{n}@example.org")[0] for n in range(7)]
    with app.test_request_context():
        draft = _draft(event.id, audience_from_ids(ids))
        confirm_message(event.id, draft.id, None)
        assert db.session.scalar(select(func.count()).where(MessageRecipient.message_id == draft.id)) == 7
        run_due(batch=3)
        assert sorted(_outbox(draft.id)) == sorted(ids)


def test_erased_delegates_are_counted_apart_and_get_nothing(app, make_event, make_registration):
    event = make_event()
    kept = make_registration(event, email="kept@example.org")[0]
    gone = make_registration(event, email="gone@example.org")[0]
    with app.test_request_context():
        erase_registration(gone, actor=None)
        audience = audience_from_ids([kept, gone])
        assert reach(db.session.get(Event, event.id), audience).erased == 1
        draft = _draft(event.id, audience)
        assert confirm_message(event.id, draft.id, None).message.recipient_count == 1
        run_due()
        assert _outbox(draft.id) == [kept]


def test_the_daily_cap_refuses_a_fourth_message(app, make_event, make_registration):
    event = make_event()
    make_registration(event)
    with app.test_request_context():
        for _ in range(3):
            confirm_message(event.id, _draft(event.id, {"filter": {}}).id, None)
        fourth = _draft(event.id, {"filter": {}})
        with force_locale("en"), pytest.raises(MessageRefused, match="3 messages for today"):
            confirm_message(event.id, fourth.id, None)
        assert db.session.get(Message, fourth.id).state == "draft"


@pytest.mark.parametrize(
    ("texts", "field", "words"),
    [
        (MessageTexts(subject="Hello {given_nam}", body="x"), "subject", "{given_nam}"),
        (MessageTexts(subject="Hello", body="Dear {Given_name} {x}"), "body", "{Given_name}, {x}"),
        (MessageTexts(subject="Two\nlines", body="x"), "subject", "single line"),
        (MessageTexts(subject="Hi", body="x", versions={"fr": ("Salut {nom}", "x")}), "subject_fr", "{nom}"),
        (MessageTexts(subject="Hi", body="x", versions={"fr": ("Salut", "")}), "body_fr", "write the message"),
    ],
)
def test_texts_that_cannot_be_sent_are_refused_with_the_reason(app, make_event, texts, field, words):
    event = make_event()
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(MessageRefused) as refusal:
            _draft(event.id, {"filter": {}}, texts=texts)
        assert refusal.value.field == field
        assert words in refusal.value.message
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
