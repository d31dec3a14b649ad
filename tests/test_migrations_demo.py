"""Every migration runs on a database that holds data: the demo (`make run`'s: 700 delegates from many countries,
delegations, invitations, documents, messages) loaded at the newest schema, every migration taken down to 0002
(the oldest that has a downgrade) and up again, on SQLite and on PostgreSQL. What the schema of 0002 holds
survives (events, registrations, organizers), the counters that later migrations compute from it come out as they
were, and the app serves the same pages from the result: the dashboard's numbers, the public counter, a private
link."""

from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from eventreg import create_app
from eventreg.auth.services import find_organizer
from eventreg.auth.tokens import create_token
from eventreg.demo.load import load_demo
from eventreg.extensions import db
from eventreg.models import Event, Registration
from tests.conftest import base_config, create_test_event, register_test_delegate
from tests.test_backup_restore import new_postgresql_databases, postgresql_url

OLDEST_WITH_A_DOWNGRADE = "0002"  # 0002 has no downgrade: below it, the core tables themselves would go
DATA_KEYS = ["LiiS6JyVqlGMjzbSMd9gxnZFM6oUAjpGhd4jbd5ZwPE="]

# What each row is as 0002 knew it, and what later migrations compute from it (the seat and waiting-list counters
# of 0003 and 0004, the sealed token of 0010 found by the digest of 0007).
EVENT_COLUMNS = "id, slug, title, capacity, seats_taken, waitlisted, requires_approval, starts_at"
REGISTRATION_COLUMNS = (
    "id, event_id, given_name, family_name, native_name, name_key, email, institution, country, category, status,"
    " accompanying, visa_letter, language, created_at, token_digest"
)
ORGANIZER_COLUMNS = "id, email, password_hash, role, active"


def survivors() -> dict:
    """The rows of the tables 0002 has, in the columns it has, and each registration's private-link token."""
    rows = {
        "event": db.session.execute(text(f"SELECT {EVENT_COLUMNS} FROM event ORDER BY id")).all(),
        "registration": db.session.execute(text(f"SELECT {REGISTRATION_COLUMNS} FROM registration ORDER BY id")).all(),
        "organizer": db.session.execute(text(f"SELECT {ORGANIZER_COLUMNS} FROM organizer ORDER BY id")).all(),
        "tokens": [
            registration.token for registration in db.session.scalars(select(Registration).order_by(Registration.id))
        ],
    }
    db.session.commit()  # ends the read, which would otherwise hold up the next migration's ALTER TABLE
    return {name: [tuple(row) for row in table] if name != "tokens" else table for name, table in rows.items()}


def pages(app, demo) -> dict:
    """What the app serves: the organizer's dashboard of the demo ceremony and the private page of one of its
    delegates; for every event, the dashboard's numbers (from the API) and the public counter."""
    client = app.test_client()
    login = client.post("/auth/login", data={"email": demo.email, "password": demo.password})
    assert login.status_code == 302
    assert client.get(f"/organizer/events/{demo.slug}").status_code == 200
    private = client.get(f"/r/{demo.token}")
    assert private.status_code == 200 and demo.given_name in private.text
    served = {}
    for slug in demo.slugs:
        stats = client.get(f"/api/v1/events/{slug}/stats", headers=demo.api)
        counter = client.get(f"/e/{slug}/delegates.json")
        assert stats.status_code == 200 and counter.status_code == 200
        served[slug] = (stats.get_json(), counter.get_json())
    return served


class Demo:
    """How to reach what the demo holds: the events' slugs, the organizer's login and an API token of theirs, one
    delegate's private link."""

    def __init__(self, result):
        self.slug = result.event.slug
        self.email, self.password = result.email, result.password
        first = db.session.scalar(select(Registration).where(Registration.event_id == result.event.id).limit(1))
        self.token, self.given_name = first.token, first.given_name
        _row, raw = create_token(find_organizer(result.email), "migrations test")
        self.api = {"Authorization": f"Bearer {raw}"}
        self.slugs = []


def migrate_the_demo_down_and_up(database_url: str, instance_path: Path) -> None:
    config = base_config(instance_path, SQLALCHEMY_DATABASE_URI=database_url, DATA_KEYS=DATA_KEYS)
    app = create_app(config, instance_path=str(instance_path))
    with app.app_context():
        upgrade()
        demo = Demo(load_demo())
        db.session.commit()
    # The demo's delegates are confirmed or cancelled: a full event and one that approves each registration add the
    # waiting list and pending ones, which the counters of 0003 and 0004 count apart.
    full = create_test_event(app, title="Council Dinner", capacity=2)
    approving = create_test_event(app, title="Closed Workshop", requires_approval=True)
    for number, event in enumerate((full, full, full, full, approving)):
        register_test_delegate(app, event, email=f"d{number}@example.org", accompanying=number % 2)
    with app.app_context():
        demo.slugs = list(db.session.scalars(select(Event.slug).order_by(Event.id)))
        before = survivors()
        assert len(before["registration"]) > 700 and len(before["event"]) == 4  # the ceremony, the forum, two more
        statuses = {row[10] for row in before["registration"]}
        assert {"confirmed", "cancelled", "waitlisted", "pending"} <= statuses
        assert all(row[4] for row in before["event"]) and any(row[5] for row in before["event"])  # the counters
    served = pages(app, demo)
    with app.app_context():
        downgrade(revision=OLDEST_WITH_A_DOWNGRADE)
        revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        assert revision == OLDEST_WITH_A_DOWNGRADE
        kept = db.session.execute(text("SELECT count(*) FROM registration")).scalar()
        assert kept == len(before["registration"])
        db.session.commit()
        upgrade()
        assert survivors() == before
        db.session.remove()
        db.engine.dispose()
    # A new process, as after a deploy: the first app's cached numbers would hide numbers the migrations got wrong.
    restarted = create_app(config, instance_path=str(instance_path))
    assert pages(restarted, demo) == served
    with restarted.app_context():
        db.session.remove()
        db.engine.dispose()


def test_every_migration_runs_on_the_demo_data_on_sqlite(tmp_path):
    migrate_the_demo_down_and_up(f"sqlite:///{tmp_path / 'demo.sqlite'}", tmp_path)


@pytest.mark.postgresql
def test_every_migration_runs_on_the_demo_data_on_postgresql(tmp_path):
    with new_postgresql_databases("demo") as ([name], _environment):
        migrate_the_demo_down_and_up(postgresql_url(name), tmp_path)
