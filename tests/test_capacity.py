"""Capacity: seats are counted on the locked event row, registrations beyond capacity wait in order, and freed
seats go to the waiting list in the same transaction."""

import email
import email.policy
import threading

import pytest
from sqlalchemy import func, select, update

from eventreg import stats
from eventreg.attendees.services import StatusAction, apply_action, apply_bulk_action
from eventreg.events.services import update_event
from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import AuditEntry, Event, OutboxMessage, Registration
from eventreg.registration.capacity import recount_seats
from eventreg.registration.services import DuplicateRegistration, EventFull, register_delegate
from tests.conftest import create_test_event, delegate, drop_tables, make_app, register_test_delegate


def race(app, event, details_list):
    """Register every delegate at once from its own thread; return what each attempt ended with."""
    outcomes = [None] * len(details_list)
    start = threading.Barrier(len(details_list))

    def attempt(index, details):
        with app.app_context():
            start.wait()
            try:
                outcomes[index] = register_delegate(event.id, details, language="en").status
            except DuplicateRegistration as refusal:
                outcomes[index] = type(refusal).__name__
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=item) for item in enumerate(details_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def statuses(app, event_id) -> dict[str, str]:
    """Each registration's email and status."""
    with app.app_context():
        query = select(Registration.email, Registration.status).where(Registration.event_id == event_id)
        return dict(db.session.execute(query).all())


def waiting_order(app, event_id) -> list[tuple[str, int]]:
    """The waiting list as delegates see it: (email, position), by position."""
    with app.app_context():
        query = select(Registration).where(Registration.event_id == event_id, Registration.status == "waitlisted")
        rows = [(r.email, stats.waitlist_position(r)) for r in db.session.scalars(query)]
    return sorted(rows, key=lambda row: row[1])


def counter(app, event_id) -> tuple[int, int]:
    """The event's seat counter and the seats recounted from its registrations; its waiting-list counter is
    checked against a count on the way."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        waiting = select(func.count()).where(Registration.event_id == event_id, Registration.status == "waitlisted")
        assert event.waitlisted == db.session.scalar(waiting)
        return event.seats_taken, stats.seats_taken(event_id)


def mail_kinds(app, email) -> list[str]:
    with app.app_context():
        query = (
            select(OutboxMessage.kind).join(Registration).where(Registration.email == email).order_by(OutboxMessage.id)
        )
        return list(db.session.scalars(query))


def test_concurrent_registrations_fill_the_event_and_the_rest_wait(app, make_event):
    event = make_event(capacity=10)
    details = [delegate(email=f"d{n}@example.org", accompanying=1) for n in range(12)]
    outcomes = race(app, event, details)
    assert outcomes.count("confirmed") == 5
    assert outcomes.count("waitlisted") == 7
    assert counter(app, event.id) == (10, 10)
    assert [position for _, position in waiting_order(app, event.id)] == list(range(1, 8))


def test_concurrent_submits_of_one_email_register_once(app, make_event):
    event = make_event()
    outcomes = race(app, event, [delegate(email="same@example.org")] * 8)
    assert outcomes.count("confirmed") == 1
    assert outcomes.count("DuplicateRegistration") == 7
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 1


def test_seats_count_the_delegate_and_accompanying_persons(app, make_event, make_registration):
    event = make_event(capacity=4)
    make_registration(event, email="a@example.org", accompanying=2)
    make_registration(event, email="b@example.org", accompanying=1)  # 3 + 2 > 4: waits
    make_registration(event, email="c@example.org")  # 1 seat still free: a later, smaller one fits
    assert statuses(app, event.id) == {
        "a@example.org": "confirmed",
        "b@example.org": "waitlisted",
        "c@example.org": "confirmed",
    }
    assert counter(app, event.id) == (4, 4)
    assert mail_kinds(app, "b@example.org") == ["confirmation"]


def test_pending_registrations_hold_their_seats_until_rejected(app, make_event, make_registration):
    event = make_event(capacity=1, requires_approval=True)
    first, _ = make_registration(event, email="a@example.org")
    make_registration(event, email="b@example.org")
    assert statuses(app, event.id) == {"a@example.org": "pending", "b@example.org": "waitlisted"}
    with app.app_context():
        apply_action(event.id, first, StatusAction.REJECT)
    # The promoted registration still needs the organizers' approval, and holds the seat meanwhile.
    assert statuses(app, event.id) == {"a@example.org": "rejected", "b@example.org": "pending"}
    assert mail_kinds(app, "b@example.org") == ["confirmation", "promoted"]
    assert counter(app, event.id) == (1, 1)


def test_a_cancellation_promotes_the_first_waiting_delegate_with_a_mail_and_an_audit_entry(
    app, make_event, make_registration
):
    event = make_event(capacity=2)
    first, _ = make_registration(event, email="a@example.org")
    make_registration(event, email="b@example.org")
    for n in range(3):
        make_registration(event, email=f"w{n}@example.org")
    assert waiting_order(app, event.id) == [("w0@example.org", 1), ("w1@example.org", 2), ("w2@example.org", 3)]
    with app.app_context():
        apply_action(event.id, first, StatusAction.CANCEL)
        promoted = db.session.scalar(select(Registration).where(Registration.email == "w0@example.org"))
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.registration_id == promoted.id))
        assert [(e.action, e.before, e.after) for e in entries] == [
            ("registration.created", None, {"status": "waitlisted"}),
            ("registration.promoted", {"status": "waitlisted"}, {"status": "confirmed"}),
        ]
    assert statuses(app, event.id)["w0@example.org"] == "confirmed"
    assert mail_kinds(app, "w0@example.org") == ["confirmation", "promoted"]
    assert waiting_order(app, event.id) == [("w1@example.org", 1), ("w2@example.org", 2)]
    assert counter(app, event.id) == (2, 2)


def test_a_party_too_big_for_the_freed_seats_keeps_its_place_and_the_next_that_fits_moves_up(
    app, make_event, make_registration
):
    event = make_event(capacity=3)
    first, _ = make_registration(event, email="a@example.org")
    make_registration(event, email="b@example.org", accompanying=1)
    make_registration(event, email="big@example.org", accompanying=2)
    make_registration(event, email="small@example.org")
    with app.app_context():
        apply_action(event.id, first, StatusAction.CANCEL)
    assert statuses(app, event.id)["small@example.org"] == "confirmed"
    assert waiting_order(app, event.id) == [("big@example.org", 1)]
    with app.app_context():
        update_event(db.session.get(Event, event.id), capacity=6)
    assert statuses(app, event.id)["big@example.org"] == "confirmed"
    assert counter(app, event.id) == (6, 6)


def test_raising_the_capacity_promotes_as_many_as_now_fit_in_order(app, make_event, make_registration):
    event = make_event(capacity=5)
    for n in range(20):
        make_registration(event, email=f"d{n:02}@example.org")
    with app.app_context():
        update_event(db.session.get(Event, event.id), capacity=15)
    now = statuses(app, event.id)
    assert [email for email, status in sorted(now.items()) if status == "confirmed"] == [
        f"d{n:02}@example.org" for n in range(15)
    ]
    assert [position for _, position in waiting_order(app, event.id)] == [1, 2, 3, 4, 5]
    assert waiting_order(app, event.id)[0] == ("d15@example.org", 1)
    assert counter(app, event.id) == (15, 15)


def test_removing_the_capacity_promotes_everyone(app, make_event, make_registration):
    event = make_event(capacity=3)
    for n in range(4):
        make_registration(event, email=f"d{n}@example.org", accompanying=n % 3)
    assert statuses(app, event.id)["d2@example.org"] == "waitlisted"
    with app.app_context():
        update_event(db.session.get(Event, event.id), capacity=None)
    assert set(statuses(app, event.id).values()) == {"confirmed"}
    assert counter(app, event.id) == (7, 7)


def test_lowering_the_capacity_keeps_every_seat_given_and_sends_newcomers_to_the_waiting_list(
    app, make_event, make_registration
):
    event = make_event(capacity=3)
    for n in range(3):
        make_registration(event, email=f"d{n}@example.org")
    with app.app_context():
        update_event(db.session.get(Event, event.id), capacity=1)
    make_registration(event, email="late@example.org")
    first = min(statuses(app, event.id))
    assert statuses(app, event.id)["late@example.org"] == "waitlisted"
    with app.app_context():
        registration = db.session.scalar(select(Registration).where(Registration.email == first))
        apply_action(event.id, registration.id, StatusAction.CANCEL)
    # Two seats are still taken against a capacity of one: nobody moves up yet.
    assert statuses(app, event.id)["late@example.org"] == "waitlisted"
    assert counter(app, event.id) == (2, 2)


def test_a_bulk_cancel_promotes_the_waiting_list_once_in_order(app, make_event, make_registration):
    event = make_event(capacity=3)
    ids = [make_registration(event, email=f"d{n}@example.org")[0] for n in range(3)]
    for n in range(4):
        make_registration(event, email=f"w{n}@example.org")
    with app.app_context():
        outcome = apply_bulk_action(event.id, ids[:2], StatusAction.CANCEL)
    assert outcome.done == 2
    now = statuses(app, event.id)
    assert (now["w0@example.org"], now["w1@example.org"], now["w2@example.org"]) == (
        "confirmed",
        "confirmed",
        "waitlisted",
    )
    assert waiting_order(app, event.id) == [("w2@example.org", 1), ("w3@example.org", 2)]
    assert counter(app, event.id) == (3, 3)


def test_cancelling_a_waiting_registration_moves_the_ones_behind_it_up(app, make_event, make_registration):
    event = make_event(capacity=1)
    make_registration(event, email="a@example.org")
    waiting = [make_registration(event, email=f"w{n}@example.org")[0] for n in range(3)]
    with app.app_context():
        apply_action(event.id, waiting[0], StatusAction.CANCEL)
    assert waiting_order(app, event.id) == [("w1@example.org", 1), ("w2@example.org", 2)]
    assert counter(app, event.id) == (1, 1)
    assert mail_kinds(app, "w0@example.org") == ["confirmation", "cancelled"]


@pytest.mark.parametrize("requires_approval", [False, True])
def test_the_counter_equals_the_recount_after_every_kind_of_change(
    app, make_event, make_registration, requires_approval
):
    event = make_event(capacity=6, requires_approval=requires_approval)
    ids = [make_registration(event, email=f"d{n}@example.org", accompanying=n % 3)[0] for n in range(6)]
    assert counter(app, event.id)[0] == counter(app, event.id)[1]
    with app.app_context():
        if requires_approval:
            apply_action(event.id, ids[0], StatusAction.APPROVE)
            apply_action(event.id, ids[1], StatusAction.REJECT)
        apply_action(event.id, ids[2], StatusAction.CANCEL)
        apply_bulk_action(event.id, ids, StatusAction.CANCEL)
    assert counter(app, event.id) == (0, 0)


def delivered(smtp_app, smtp_server) -> dict[str, tuple[str, str, str]]:
    """Send what is due through the real SMTP server; each recipient's (subject, text, html) of their last mail."""
    with smtp_app.app_context():
        deliver_due()
    mails = {}
    for envelope in smtp_server.envelopes:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        mails[envelope.rcpt_tos[0]] = (
            message["Subject"],
            message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content(),
        )
    return mails


def test_the_waiting_delegate_is_told_their_place_and_then_that_a_seat_is_theirs(smtp_app, smtp_server):
    event = create_test_event(smtp_app, capacity=1)
    first, _ = register_test_delegate(smtp_app, event, email="a@example.org")
    register_test_delegate(smtp_app, event, email="b@example.org")
    register_test_delegate(smtp_app, event, email="c@example.org")
    mails = delivered(smtp_app, smtp_server)
    subject, text, html = mails["c@example.org"]
    assert subject == "You are on the waiting list: Inaugural Ceremony"
    for part in (text, html):
        assert "you are on the waiting list: number 2." in part
    assert mails["a@example.org"][0] == "Your registration for Inaugural Ceremony"

    smtp_server.envelopes.clear()
    with smtp_app.app_context():
        apply_action(event.id, first, StatusAction.CANCEL)
    mails = delivered(smtp_app, smtp_server)
    assert set(mails) == {"a@example.org", "b@example.org"}
    subject, text, html = mails["b@example.org"]
    assert subject == "A seat is free, your registration is confirmed: Inaugural Ceremony"
    for part in (text, html):
        assert "a seat has become free at Inaugural Ceremony and it is yours" in part
        assert "/r/" in part


def test_recount_repairs_the_counter_after_writes_that_bypass_the_orm(app, make_event, make_registration):
    event = make_event(capacity=10)
    make_registration(event, email="a@example.org", accompanying=1)
    with app.app_context():
        # A bulk load or hand-written SQL passes the flush hook by.
        db.session.execute(
            update(Registration).where(Registration.event_id == event.id).values(accompanying=3),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
    assert counter(app, event.id) == (2, 4)
    with app.app_context():
        db.session.execute(recount_seats([event.id]))
        db.session.commit()
    assert counter(app, event.id) == (4, 4)


def test_without_the_lock_registering_still_works_one_at_a_time(tmp_path):
    """CAPACITY_LOCK=False is for the negative-control race test (tests/test_rush.py); it must not break anything
    else, so that the race, not an error, is what that test sees."""
    app = make_app(tmp_path, CAPACITY_LOCK=False)
    try:
        event = create_test_event(app, capacity=1)
        register_test_delegate(app, event, email="a@example.org")
        register_test_delegate(app, event, email="b@example.org")
        assert statuses(app, event.id) == {"a@example.org": "confirmed", "b@example.org": "waitlisted"}
    finally:
        drop_tables(app)


def test_mails_sent_late_tell_what_happened_at_their_moment(smtp_app, smtp_server):
    """The worker was down: the delegate joined the waiting list, was promoted and cancelled before any mail went."""
    event = create_test_event(smtp_app, capacity=1)
    first, _ = register_test_delegate(smtp_app, event, email="a@example.org")
    waiting, _ = register_test_delegate(smtp_app, event, email="b@example.org")
    with smtp_app.app_context():
        apply_action(event.id, first, StatusAction.CANCEL)
        apply_action(event.id, waiting, StatusAction.CANCEL)
        deliver_due()
    told = [
        (message["Subject"], message.get_body(("plain",)).get_content())
        for message in (email.message_from_bytes(e.content, policy=email.policy.default) for e in smtp_server.envelopes)
        if message["To"].addresses[0].addr_spec == "b@example.org"
    ]
    assert [subject for subject, _text in told] == [
        "You are on the waiting list: Inaugural Ceremony",
        "A seat is free, your registration is confirmed: Inaugural Ceremony",
        "Your registration is cancelled: Inaugural Ceremony",
    ]
    confirmation = told[0][1]
    assert "you were put on the waiting list" in confirmation  # no longer waiting: no place to give
    assert "is confirmed" not in confirmation


@pytest.mark.parametrize("accompanying", [2, 5])
def test_a_group_larger_than_the_whole_event_is_refused_not_left_waiting(app, make_event, accompanying):
    event = make_event(capacity=2)
    with app.app_context(), pytest.raises(EventFull) as refusal:
        register_delegate(event.id, delegate(accompanying=accompanying), language="en")
    assert refusal.value.field == "accompanying"
    assert str(refusal.value.message) == (
        f"This event has 2 seats in all, so a group of {1 + accompanying} cannot be seated. "
        "Please register fewer accompanying persons."
    )
    assert statuses(app, event.id) == {}
