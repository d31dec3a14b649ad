"""A waiting delegate's place agrees with the event's waiting-list counter, also with an erased registration ahead:
an erased registration keeps counting in every total and keeps its place on the list (it is passed over when seats
free up, as a group too large for them is), so the places behind it are the ones the counter gives."""

from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.models import Event, OutboxMessage, Registration
from eventreg.registration.privacy import erase_registration
from eventreg.stats import waitlist_position, waitlist_positions


def confirmation_of(app, registration_id: int) -> str:
    """The registration's confirmation mail as the worker would compose it now (plain text)."""
    with app.app_context():
        query = select(OutboxMessage).where(
            OutboxMessage.registration_id == registration_id, OutboxMessage.kind == "confirmation"
        )
        return compose(db.session.scalar(query)).body


def test_the_place_told_counts_an_erased_registration_ahead_as_the_counter_does(
    app, client, make_event, make_registration
):
    event = make_event(capacity=1)
    make_registration(event, email="seated@example.org")
    erased_id, _ = make_registration(event, email="erased@example.org")
    with app.app_context():
        erase_registration(erased_id, actor="delegate")
    waiting_id, token = make_registration(event, email="waiting@example.org")
    with app.app_context():
        counter = db.session.get(Event, event.id).waitlisted  # the list's length: the newcomer's place
        place = waitlist_position(db.session.get(Registration, waiting_id))
        places = waitlist_positions(event.id, [erased_id, waiting_id])
    assert counter == 2  # the erased registration still counts, as in every total
    assert place == counter
    assert places == {erased_id: 1, waiting_id: 2}  # the attendee list and the API
    assert "You are number 2 on the waiting list." in client.get(f"/r/{token}").text
    assert "you are on the waiting list: number 2." in confirmation_of(app, waiting_id)
