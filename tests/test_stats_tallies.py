"""The running tallies (eventreg/stats/tallies.py) always equal a full recount of the registrations: after random
sequences of every kind of write, when rebuilt as the migration builds them, and, on PostgreSQL, when two
transactions write the same tally rows at once."""

import contextlib
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import downgrade, stamp, upgrade
from sqlalchemy import delete, select, text, update

from eventreg.attendees.services import apply_action
from eventreg.checkin.services import CheckInRefused, check_in, undo_check_in
from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, Organizer, OutboxMessage, Registration, Status
from eventreg.registration.privacy import erase_registration, purge_event
from eventreg.registration.services import RegistrationRefused
from eventreg.registration.status import ActionRefused, StatusAction
from eventreg.stats import report, tallies
from tests.conftest import TEST_DATABASE_URL

ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")
COUNTRIES = ("CN", "FR", "IN", "KE", "BR")
INSTITUTIONS = ("Universität Wien", "Universitat Wien", "UNIVERSITÄT WIEN", "IISc", "Academia Sinica")


def assert_exact(app, *event_ids) -> None:
    """The report's numbers from the tallies equal the full recount, for each event."""
    with app.app_context():
        for event_id in event_ids:
            event = db.session.get(Event, event_id)
            assert report._compute(event) == report._recount(event)


def ids_of(app, event_id) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Registration.id).where(Registration.event_id == event_id)))


def remove(app, registration_id: int, *, bulk: bool) -> None:
    """Delete a registration with its mail and audit entries: by a bulk DELETE statement or through the ORM."""
    with app.app_context():
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.registration_id == registration_id))
        db.session.execute(delete(AuditEntry).where(AuditEntry.registration_id == registration_id))
        if bulk:
            db.session.execute(delete(Registration).where(Registration.id == registration_id))
        else:
            db.session.delete(db.session.get(Registration, registration_id))
        db.session.commit()


def random_write(app, rng: random.Random, event_id: int, staff_id: int, make_registration, event) -> None:
    """One write of a random kind to a random registration of the event (or a new one)."""
    ids = ids_of(app, event_id)
    kind = rng.choice(
        ["register"] * 6
        + ["approve", "check_in", "edit"] * 2
        + ["cancel", "reject", "undo", "erase", "bulk_update", "delete", "bulk_delete"]
    )
    if kind == "register" or not ids:
        with contextlib.suppress(RegistrationRefused):  # e.g. a group larger than the whole event
            make_registration(
                event,
                email=f"d{rng.randrange(10**9)}@example.org",
                country=rng.choice(COUNTRIES),
                institution=rng.choice(INSTITUTIONS),
                accompanying=rng.choice((0, 0, 1, 2)),
                visa_letter=rng.random() < 0.3,
                category=rng.choice(("delegate", "observer")),
            )
        return
    chosen = rng.choice(ids)
    with app.test_request_context():
        the_event = db.session.get(Event, event_id)
        try:
            if kind in ("cancel", "approve", "reject"):
                apply_action(event_id, chosen, StatusAction(kind))
            elif kind == "check_in":
                check_in(the_event, chosen, db.session.get(Organizer, staff_id))
            elif kind == "undo":
                undo_check_in(the_event, chosen, db.session.get(Organizer, staff_id))
            elif kind == "erase":
                erase_registration(chosen, actor=None)
        except (ActionRefused, CheckInRefused):
            db.session.rollback()
    if kind == "edit":  # an ORM edit of every tallied column at once, arrival time included
        registration_fields = {
            "country": rng.choice(COUNTRIES),
            "category": rng.choice(("delegate", "speaker", "press")),
            "institution": rng.choice(INSTITUTIONS),
            "accompanying": rng.choice((0, 1, 3)),
            "visa_letter": rng.random() < 0.5,
            "created_at": datetime(2027, 3, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(6 * 24 * 60)),
        }
        with app.app_context():
            registration = db.session.get(Registration, chosen)
            for name in rng.sample(sorted(registration_fields), rng.randrange(1, 4)):
                setattr(registration, name, registration_fields[name])
            db.session.commit()
    elif kind == "bulk_update":  # statements that bypass the flush: a country merged, statuses rewritten
        with app.app_context():
            old, new = rng.sample(COUNTRIES, 2)
            where = (Registration.event_id == event_id, Registration.country == old)
            db.session.execute(update(Registration).where(*where).values(country=new, status=Status.PENDING))
            db.session.commit()
    elif kind in ("delete", "bulk_delete"):
        remove(app, chosen, bulk=kind == "bulk_delete")


@pytest.mark.parametrize("seed", [1, 2])  # two sequences; each takes a few seconds
def test_after_random_writes_of_every_kind_the_tallies_equal_a_full_recount(
    app, make_event, make_registration, make_organizer, seed
):
    rng = random.Random(seed)
    # Two events, so a write to one must leave the other's tallies alone; Kolkata is +5:30 (quarter-hour days).
    shanghai = make_event(capacity=12, timezone="Asia/Shanghai", requires_approval=True)
    kolkata = make_event(title="Kolkata Ceremony", capacity=None, timezone="Asia/Kolkata")
    make_organizer()
    with app.app_context():
        staff_id = db.session.scalar(select(Organizer.id))
    for step in range(40):
        event = rng.choice((shanghai, kolkata))
        random_write(app, rng, event.id, staff_id, make_registration, event)
        if step % 5 == 4:
            assert_exact(app, shanghai.id, kolkata.id)
    with app.app_context():
        purge_event(kolkata.id, batch=3)  # the purge erases in batches, each its own transaction
    assert_exact(app, shanghai.id, kolkata.id)
    with app.app_context():  # the report really has numbers to compare: not two empty reports
        numbers = report._compute(db.session.get(Event, shanghai.id))
        assert numbers.seat_holding > 0 and numbers.institutions and numbers.daily


def test_the_report_reads_the_tallies_not_the_registrations(app, make_event, make_registration):
    """A tally out of step with the registrations shows in the report: it really is what a miss reads."""
    event = make_event(capacity=None)
    make_registration(event, email="a@example.org", country="FR")
    with app.app_context():
        db.session.execute(
            update(tallies.RegistrationTally)
            .where(tallies.RegistrationTally.kind == "country")
            .values(registrations=tallies.RegistrationTally.registrations + 1)
        )
        numbers = report._compute(db.session.get(Event, event.id))
        db.session.rollback()
    assert dict(numbers.holding_by_country) == {"FR": 2}


def test_rebuilt_tallies_equal_the_ones_the_triggers_kept(app, make_event, make_registration):
    """recount_tallies(), what migration 0015 fills the tables with, gives what the triggers kept."""
    event = make_event(capacity=3)
    for number, country in enumerate(("CN", "CN", "FR", "KE", "KE")):  # the first two take the 3 seats
        make_registration(event, email=f"r{number}@example.org", country=country, accompanying=number % 2)
    with app.app_context():
        kept = report._compute(db.session.get(Event, event.id))
        tallies.recount_tallies(db.session.connection())
        rebuilt = report._compute(db.session.get(Event, event.id))
        db.session.rollback()
    assert rebuilt == kept
    assert dict(kept.by_status)["waitlisted"] == 3


def test_migration_0015_counts_the_registrations_already_there(app, make_event, make_registration):
    """Upgrading a database that holds registrations from 0014 fills the tallies with them, and the triggers the
    migration creates count the writes that follow."""
    event = make_event(capacity=2)
    for number, country in enumerate(("CN", "FR", "KE")):
        make_registration(event, email=f"r{number}@example.org", country=country, visa_letter=number == 1)
    with app.app_context():
        kept = report._compute(db.session.get(Event, event.id))
        db.session.remove()  # PostgreSQL: a DROP waits for every open transaction that read the table
        # Back to 0014: no tally tables, no triggers (downgrade() of 0015 removes them).
        stamp(revision="0015")
        downgrade(revision="0014")
        assert not {"registration_tally", "registration_arrival"} & set(db.inspect(db.engine).get_table_names())
        upgrade(revision="0015")
        db.session.remove()
        assert report._compute(db.session.get(Event, event.id)) == kept
    make_registration(event, email="after@example.org", country="JP")
    assert_exact(app, event.id)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL only: SQLite's one write lock serialises every writer")
def test_two_transactions_writing_the_same_tallies_at_once_neither_deadlock_nor_lose_a_count(
    app, make_event, make_registration
):
    """Two raw transactions (no app code, no capacity lock) each take tally rows the other then needs: the triggers'
    event lock makes the second wait for the first, where without it PostgreSQL would abort one as a deadlock."""
    event = make_event(capacity=None)
    first, _ = make_registration(event, email="a@example.org", country="FR", institution="IISc")
    second, _ = make_registration(event, email="b@example.org", country="DE", institution="CAS", category="observer")
    with app.app_context():  # the second arrived a day later: no tally row in common
        db.session.execute(
            update(Registration).where(Registration.id == second).values(created_at=datetime(2027, 1, 2, tzinfo=UTC))
        )
        db.session.commit()
        engine = db.engine
    errors = []
    b_ready, a_wrote, b_wrote = threading.Event(), threading.Event(), threading.Event()
    with engine.connect() as a, engine.connect() as watcher:
        b_pid = []

        def transaction_b():
            try:
                with engine.connect() as b:
                    b_pid.append(b.scalar(text("SELECT pg_backend_pid()")))
                    b.commit()
                    b_ready.set()
                    a_wrote.wait()
                    b.execute(text("UPDATE registration SET country = 'KE' WHERE id = :id"), {"id": second})
                    b_wrote.set()
                    b.execute(text("UPDATE registration SET country = 'JP' WHERE id = :id"), {"id": second})
                    b.commit()
            except Exception as error:  # noqa: BLE001 - reported to the test's thread
                errors.append(error)
                b_ready.set()
                b_wrote.set()

        thread = threading.Thread(target=transaction_b)
        thread.start()
        b_ready.wait()
        a.execute(text("UPDATE registration SET country = 'JP' WHERE id = :id"), {"id": first})
        a_wrote.set()
        # Go on once B has written (no lock kept it out) or waits for a lock: either way, A's next write needs KE.
        while not b_wrote.is_set() and not watcher.scalar(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"), {"pid": b_pid[0]}
        ):
            time.sleep(0.01)
        a.execute(text("UPDATE registration SET country = 'KE' WHERE id = :id"), {"id": first})
        a.commit()
        thread.join()
    assert errors == []
    assert_exact(app, event.id)
    with app.app_context():
        assert dict(report._compute(db.session.get(Event, event.id)).holding_by_country) == {"JP": 1, "KE": 1}
