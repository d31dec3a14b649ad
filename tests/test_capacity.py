"""Registrations racing for the last seats never overbook: the event row is locked while seats are counted."""

import threading

from sqlalchemy import func, select

from eventreg import stats
from eventreg.extensions import db
from eventreg.models import Registration
from eventreg.registration.services import DuplicateRegistration, EventFull, register_delegate
from tests.conftest import delegate


def race(app, event, details_list):
    """Register every delegate at once from its own thread; return what each attempt ended with."""
    outcomes = [None] * len(details_list)
    start = threading.Barrier(len(details_list))

    def attempt(index, details):
        with app.app_context():
            start.wait()
            try:
                register_delegate(event.id, details, language="en")
                outcomes[index] = "registered"
            except (EventFull, DuplicateRegistration) as refusal:
                outcomes[index] = type(refusal).__name__
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=item) for item in enumerate(details_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_registrations_fill_the_event_exactly(app, make_event):
    event = make_event(capacity=10)
    details = [delegate(email=f"d{n}@example.org", accompanying=1) for n in range(12)]
    outcomes = race(app, event, details)
    assert outcomes.count("registered") == 5
    assert outcomes.count("EventFull") == 7
    with app.app_context():
        assert stats.seats_taken(event.id) == 10


def test_concurrent_submits_of_one_email_register_once(app, make_event):
    event = make_event()
    outcomes = race(app, event, [delegate(email="same@example.org")] * 8)
    assert outcomes.count("registered") == 1
    assert outcomes.count("DuplicateRegistration") == 7
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 1
