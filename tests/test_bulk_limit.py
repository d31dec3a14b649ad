"""A bulk action takes at most MAX_BULK registrations: the form refuses more, and the service never takes more, so one
transaction never holds the event's lock for long."""

import pytest
from sqlalchemy import select

from eventreg.attendees.services import MAX_BULK, StatusAction, apply_bulk_action
from eventreg.extensions import db
from eventreg.models import Registration
from tests.test_registration_actions import flashes, mails, url

# Ids that no registration of a test has: far above the few a test makes.
ABSENT = 100_000


@pytest.fixture
def pending(app, make_event, make_registration):
    """An event needing approval, and three of its registrations, pending, in the order they were made."""
    event = make_event(requires_approval=True, capacity=100)
    ids = [make_registration(event, email=f"p{n}@example.org")[0] for n in range(3)]
    return event, ids


def statuses(app, ids) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Registration.status).where(Registration.id.in_(ids)).order_by("id")))


def absent_ids(count: int) -> list[int]:
    return list(range(ABSENT, ABSENT + count))


def test_the_service_takes_the_first_max_bulk_ids_and_leaves_the_rest(app, pending):
    event, ids = pending
    with app.app_context():
        outcome = apply_bulk_action(event.id, [ids[0], *absent_ids(MAX_BULK)], StatusAction.APPROVE)
    # The lowest MAX_BULK ids: the registration and MAX_BULK - 1 absent ones; the last absent id is not looked at.
    assert outcome.done == 1 and dict(outcome.skipped) == {"not_found": MAX_BULK - 1}
    assert statuses(app, ids) == ["confirmed", "pending", "pending"]


def test_registrations_beyond_the_limit_are_not_changed(app, pending, monkeypatch):
    monkeypatch.setattr("eventreg.attendees.services.MAX_BULK", 2)
    event, ids = pending
    with app.app_context():
        outcome = apply_bulk_action(event.id, list(reversed(ids)), StatusAction.APPROVE)
    assert outcome.done == 2 and not outcome.skipped
    assert statuses(app, ids) == ["confirmed", "confirmed", "pending"]
    assert [kind for kind, _ in mails(app, ids[2])] == ["confirmation"]  # no approval mail for the one left


def test_the_form_refuses_more_than_max_bulk_ticked_rows(app, logged_in, pending):
    event, ids = pending
    data = {"ids": [ids[0], *absent_ids(MAX_BULK)], "action": "approve", "page": "1"}
    response = logged_in.post(url(event, suffix="/bulk"), data=data, follow_redirects=True)
    assert response.status_code == 200
    assert flashes(response) == [f"Please choose at most {MAX_BULK:,} registrations at a time."]
    assert statuses(app, ids) == ["pending", "pending", "pending"]


def test_the_form_takes_max_bulk_ticked_rows(app, logged_in, pending):
    event, ids = pending
    data = {"ids": [ids[0], *absent_ids(MAX_BULK - 1)], "action": "approve", "page": "1"}
    response = logged_in.post(url(event, suffix="/bulk"), data=data, follow_redirects=True)
    assert flashes(response) == [f"1 approved and {MAX_BULK - 1} skipped (not in this event)"]
    assert statuses(app, ids) == ["confirmed", "pending", "pending"]
