"""The running tallies (eventreg/stats/tallies.py) always equal a full recount of the registrations: after random
sequences of every kind of write, when rebuilt as the migration builds them, and, on PostgreSQL, when two
transactions write the same tally rows at once. They keep no row that counts no one (an erased delegate's institution
must not stay behind), and the migrations build the same triggers as db.create_all()."""

import contextlib
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import downgrade, stamp, upgrade
from sqlalchemy import delete, select, text, update

from eventreg import create_app
from eventreg.attendees.services import apply_action
from eventreg.checkin.services import CheckInRefused, check_in, undo_check_in
from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, Organizer, OutboxMessage, Registration, Status
from eventreg.registration.privacy import erase_registration, purge_event
from eventreg.registration.services import RegistrationRefused
from eventreg.registration.status import ActionRefused, StatusAction
from eventreg.stats import report, tallies
from tests.conftest import TEST_DATABASE_URL, base_config
from tests.test_backup_restore import new_postgresql_databases, postgresql_url

ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")
COUNTRIES = ("CN", "FR", "IN", "KE", "BR")
INSTITUTIONS = ("Universität Wien", "Universitat Wien", "UNIVERSITÄT WIEN", "IISc", "Academia Sinica")


def tally_rows(connection) -> tuple[list[tuple], list[tuple]]:
    """Every row of registration_tally, and of registration_arrival those that count someone (a slot emptied by a
    deletion stays: it names no one, and the report skips it)."""
    arrival = tallies.RegistrationArrival.__table__
    return (
        sorted(tuple(row) for row in connection.execute(select(tallies.RegistrationTally.__table__))),
        sorted(tuple(row) for row in connection.execute(select(arrival).where(arrival.c.registrations != 0))),
    )


def assert_exact(app, *event_ids) -> None:
    """The report's numbers from the tallies equal the full recount, for each event; and the tally rows are, row for
    row, those a rebuild from the registrations makes: none of all zeros is left behind."""
    with app.app_context():
        for event_id in event_ids:
            event = db.session.get(Event, event_id)
            assert report._compute(event) == report._recount(event)
        connection = db.session.connection()
        kept = tally_rows(connection)
        tallies.recount_tallies(connection)
        rebuilt = tally_rows(connection)
        db.session.rollback()
    assert kept == rebuilt


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
    migrations create count the writes that follow."""
    event = make_event(capacity=2)
    for number, country in enumerate(("CN", "FR", "KE")):
        make_registration(event, email=f"r{number}@example.org", country=country, visa_letter=number == 1)
    with app.app_context():
        kept = report._compute(db.session.get(Event, event.id))
        db.session.remove()  # PostgreSQL: a DROP waits for every open transaction that read the table
        # Back to 0014: no tally tables, no triggers (downgrade() of 0015 removes them).
        stamp(revision="head")
        downgrade(revision="0014")
        assert not {"registration_tally", "registration_arrival"} & set(db.inspect(db.engine).get_table_names())
        upgrade(revision="0015")
        db.session.remove()
        assert report._compute(db.session.get(Event, event.id)) == kept
        assert_exact(app, event.id)
        upgrade()
    make_registration(event, email="after@example.org", country="JP")
    assert_exact(app, event.id)


def institutions_in_the_tallies(app) -> set[str]:
    """Every institution key and spelling that registration_tally holds, of any event."""
    tally = tallies.RegistrationTally
    with app.app_context():
        rows = db.session.execute(select(tally.key, tally.name).where(tally.kind == "institution")).all()
    return {text for row in rows for text in row}


def test_no_tally_row_keeps_an_institution_once_no_one_counted_there_holds_it(app, make_event, make_registration):
    """An institution's tally row holds what the delegate typed: once it counts no one (its delegate erased or
    cancelled, its event purged) it is gone, and the report reads as before."""
    event = make_event(capacity=None)
    jane, _ = make_registration(event, email="jane@example.org", institution="Jane Roe's practice, Lyon", country="FR")
    ken, _ = make_registration(event, email="ken@example.org", institution="Ken's lab", country="KE")
    make_registration(event, email="li@example.org", institution="Academia Sinica", country="CN")
    past = make_event(title="Past Forum", capacity=1)
    make_registration(past, email="ana@example.org", institution="Instituto Ana", country="BR")
    make_registration(past, email="tom@example.org", institution="Tom's institute", country="GB")  # waitlisted
    assert "Jane Roe's practice, Lyon" in institutions_in_the_tallies(app)
    with app.test_request_context():
        erase_registration(jane, actor=None)
        db.session.commit()
        apply_action(event.id, ken, StatusAction.CANCEL)
        purge_event(past.id)
    assert institutions_in_the_tallies(app) == {"", "academia sinica", "Academia Sinica"}  # "": the erased ones
    assert_exact(app, event.id, past.id)
    with app.app_context():
        numbers = report._compute(db.session.get(Event, event.id))
    assert dict(numbers.holding_by_country) == {"CN": 1, "FR": 1}  # erasing is not cancelling
    assert numbers.institutions == (("Academia Sinica", 1),)


def test_migration_0016_deletes_the_rows_of_all_zeros_already_there(app, make_event, make_registration):
    """Tallies kept by 0015's triggers alone hold rows of all zeros; 0016 deletes them, and its triggers keep no new
    ones."""
    event = make_event(capacity=None)
    ken, _ = make_registration(event, email="ken@example.org", institution="Ken's lab", country="KE")
    ana, _ = make_registration(event, email="ana@example.org", institution="Instituto Ana", country="BR")
    make_registration(event, email="li@example.org", institution="Academia Sinica", country="CN")
    tally = tallies.RegistrationTally
    zeros = select(tally.kind, tally.key).where(tally.registrations == 0).order_by(tally.kind, tally.key)
    with app.app_context():
        db.session.remove()
        stamp(revision="head")
        downgrade(revision="0015")
    with app.test_request_context():
        apply_action(event.id, ken, StatusAction.CANCEL)
    with app.app_context():
        assert db.session.execute(zeros).all() == [("country", "KE"), ("institution", "ken's lab")]
        db.session.remove()
        upgrade()
        assert db.session.execute(zeros).all() == []
    with app.test_request_context():
        apply_action(event.id, ana, StatusAction.CANCEL)
    assert_exact(app, event.id)
    assert "Instituto Ana" not in institutions_in_the_tallies(app)


def trigger_definitions() -> dict[str, str]:
    """Every trigger of the database as the database keeps it (with its function on PostgreSQL), by name, each
    run of whitespace as one space."""
    if db.engine.dialect.name == "postgresql":
        query = "SELECT tgname, pg_get_triggerdef(oid) || ' ' || pg_get_functiondef(tgfoid) FROM pg_trigger"
        query += " WHERE NOT tgisinternal"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
    return {name: " ".join(definition.split()) for name, definition in db.session.execute(text(query))}


def triggers_built(database_url: str, instance_path, *, migrated: bool) -> dict[str, str]:
    """The triggers of a new database whose tables `flask db upgrade` made (`migrated`) or db.create_all()."""
    config = base_config(instance_path, SQLALCHEMY_DATABASE_URI=database_url)
    app = create_app(config, instance_path=str(instance_path))
    with app.app_context():
        if migrated:
            upgrade()
        else:
            db.create_all()
        found = trigger_definitions()
        db.session.remove()
        db.engine.dispose()
    return found


TALLY_TRIGGERS = {"registration_tally_insert", "registration_tally_delete", "registration_tally_update"}
ZERO_TRIGGERS = {"sqlite": {"registration_tally_skip_zero", "registration_tally_drop_zero"}}


def assert_the_migrations_build_the_triggers_create_all_builds(created: dict, migrated: dict, dialect: str) -> None:
    """The same triggers, word for word: a change to tallies.py's triggers without a migration that makes it (or a
    migration that rebuilds the registration table on SQLite, which drops its triggers) fails here."""
    assert set(created) == TALLY_TRIGGERS | ZERO_TRIGGERS.get(dialect, {"registration_tally_drop_zero"})
    assert migrated == created


def test_the_migrations_build_the_triggers_create_all_builds_on_sqlite(tmp_path):
    created = triggers_built(f"sqlite:///{tmp_path / 'created.sqlite'}", tmp_path, migrated=False)
    migrated = triggers_built(f"sqlite:///{tmp_path / 'migrated.sqlite'}", tmp_path, migrated=True)
    assert_the_migrations_build_the_triggers_create_all_builds(created, migrated, "sqlite")


@pytest.mark.postgresql
def test_the_migrations_build_the_triggers_create_all_builds_on_postgresql(tmp_path):
    with new_postgresql_databases("created", "migrated") as ([created, migrated], _environment):
        assert_the_migrations_build_the_triggers_create_all_builds(
            triggers_built(postgresql_url(created), tmp_path, migrated=False),
            triggers_built(postgresql_url(migrated), tmp_path, migrated=True),
            "postgresql",
        )


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
