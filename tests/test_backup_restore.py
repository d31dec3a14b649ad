"""A backup restores (docs/operations.md): a populated database, dumped with the engine's own tool (`pg_dump -Fc`,
`sqlite3 … ".backup …"`) and restored into a fresh one, gives the same dashboard numbers, the same public counter
and working private links, with the same FLASK_DATA_KEYS; with other keys the private links no longer open."""

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from eventreg import create_app
from eventreg.auth.services import create_organizer
from eventreg.auth.tokens import create_token
from eventreg.data_keys import new_key
from eventreg.demo.load import load_demo
from eventreg.extensions import db
from eventreg.models import Event, Organizer, Registration
from eventreg.registration.services import find_registration
from tests.conftest import (
    IN_CI,
    POSTGRES_URL,
    base_config,
    create_test_event,
    private_token,
    register_test_delegate,
    require_postgresql,
)

DATA_KEY = "mDHQYbL_5xq0o1h5V9H1bdJ8c8nN4z7kQ3E5m1yY0aI="  # the production keys, kept apart from the dumps
DEMO_DELEGATES = 150  # the demo's delegations and sent mails, a few countries: enough, and quick to dump


def require_tool(name: str) -> str:
    """The path of a command-line tool; skips the test where it is missing, fails it in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (scripts/system-packages test installs it)"
        if IN_CI:
            pytest.fail(f"{message}, but CI=true")
        pytest.skip(message)
    return path


def app_on(database_url: str, instance_path: Path, data_keys: list[str]):
    """The app on `database_url` with `data_keys`, its instance folder at `instance_path`."""
    config = base_config(instance_path, SQLALCHEMY_DATABASE_URI=database_url, DATA_KEYS=data_keys)
    return create_app(config, instance_path=str(instance_path))


def populate(app) -> dict:
    """Migrate to the newest schema and fill it: the demo (confirmed and cancelled delegates from many countries,
    delegations, invitations, documents, messages), an event with a waiting list, one that approves each
    registration; an API token. What to compare afterwards: the slugs, the token's header, private links."""
    with app.app_context():
        upgrade()
        load_demo(delegates=DEMO_DELEGATES)
        db.session.commit()
    small = create_test_event(app, title="Council Dinner", capacity=2)
    approved = create_test_event(app, title="Closed Workshop", requires_approval=True)
    people = [
        (small, "Wei", "CN", "Lin"),
        (small, "Amara", "NG", "Okafor"),
        (small, "Lucía", "AR", "Fernández"),  # waiting list from here
        (small, "Ngozi", "KE", "Mwangi"),
        (approved, "Ирина", "RU", "Иванова"),  # pending
    ]
    links = {}
    for number, (event, given, country, family) in enumerate(people):
        _registration_id, token = register_test_delegate(
            app, event, given_name=given, family_name=family, country=country, email=f"p{number}@example.org"
        )
        links[token] = given
    with app.app_context():
        first_demo = db.session.scalar(select(Registration.id).order_by(Registration.id).limit(1))
        demo = db.session.get(Registration, first_demo)
        links[private_token(app, first_demo)] = demo.given_name
        statuses = set(db.session.scalars(select(Registration.status)))
        assert {"confirmed", "cancelled", "waitlisted", "pending"} <= statuses  # what the numbers must carry
        organizer = create_organizer("backup-admin@example.org", "correct horse battery", "admin")
        _token, raw = create_token(db.session.get(Organizer, organizer.id), "backup test")
        slugs = list(db.session.scalars(select(Event.slug).order_by(Event.id)))
    return {"slugs": slugs, "headers": {"Authorization": f"Bearer {raw}"}, "links": links}


def numbers(app, world: dict) -> dict:
    """What the restored copy must show as the original did: each event's dashboard numbers (the API's stats, the
    dashboard's own numbers), its public counter, the schema's revision and the number of rows of every table."""
    client = app.test_client()
    seen = {}
    for slug in world["slugs"]:
        stats = client.get(f"/api/v1/events/{slug}/stats", headers=world["headers"])
        counter = client.get(f"/e/{slug}/delegates.json")
        assert stats.status_code == 200 and counter.status_code == 200
        seen[slug] = (stats.get_json(), counter.get_json())
    with app.app_context():
        seen["revision"] = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        seen["rows"] = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
    return seen


def check_restored_copy(restored_url: str, tmp_path: Path, world: dict, before: dict) -> None:
    """The copy at `restored_url` shows what the original showed, its private links open with the same data keys,
    and none opens with other keys."""
    restored = app_on(restored_url, tmp_path / "restored", [DATA_KEY])
    try:
        after = numbers(restored, world)
        assert after == before
        assert before["rows"]["registration"] > DEMO_DELEGATES  # the comparison covers the whole demo
        client = restored.test_client()
        for token, given_name in world["links"].items():
            page = client.get(f"/r/{token}")
            assert page.status_code == 200
            assert given_name in page.text
    finally:
        with restored.app_context():
            db.engine.dispose()
    # A dump alone opens nothing: the tokens are sealed under FLASK_DATA_KEYS, which the backup does not hold.
    keyless = app_on(restored_url, tmp_path / "keyless", [new_key()])
    try:
        with keyless.app_context():
            token = next(iter(world["links"]))
            with pytest.raises(InvalidToken):
                find_registration(token)
            db.session.remove()
    finally:
        with keyless.app_context():
            db.engine.dispose()


def test_a_sqlite_backup_restores_the_numbers_and_the_private_links(tmp_path):
    sqlite3 = require_tool("sqlite3")
    source = tmp_path / "live" / "eventreg.sqlite"  # where create_app puts it: the instance folder
    original = app_on(f"sqlite:///{source}", tmp_path / "live", [DATA_KEY])
    world = populate(original)
    before = numbers(original, world)
    copy = tmp_path / "backups" / "eventreg-2027-03-01.sqlite"
    copy.parent.mkdir()
    # Taken while the app still holds its connections: the latest writes may be in eventreg.sqlite-wal only, which a
    # copy of the file would miss; the online backup reads a consistent snapshot of both.
    with original.app_context():
        db.session.execute(text("SELECT 1"))
        subprocess.run([sqlite3, str(source), f".backup '{copy}'"], check=True, capture_output=True)
        db.session.remove()
        db.engine.dispose()
    assert subprocess.run(
        [sqlite3, str(copy), "PRAGMA integrity_check"], check=True, capture_output=True, text=True
    ).stdout.split() == ["ok"]
    source.unlink()  # the disaster: the original is gone
    check_restored_copy(f"sqlite:///{copy}", tmp_path, world, before)


@contextmanager
def new_postgresql_databases(*purposes: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    """New, empty databases on the server of POSTGRES_URL, one per purpose, named after POSTGRES_URL's database
    (`<database>_<purpose>_<random>`), and the environment that points libpq's tools (pg_dump, createdb, …) at that
    server; yields their names and the environment, and drops them afterwards, with any name the caller added to
    the list (a database a tool created). Skips where no server runs."""
    admin = require_postgresql(isolation_level="AUTOCOMMIT")
    url = make_url(POSTGRES_URL)
    suffix = uuid.uuid4().hex[:8]
    names = [f"{url.database}_{purpose}_{suffix}" for purpose in purposes]
    environment = dict(os.environ)
    for variable, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
    ):
        if value is not None:
            environment[variable] = str(value)
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield names, environment
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgresql_url(name: str) -> str:
    """POSTGRES_URL with the database `name`."""
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.mark.postgresql
def test_a_postgresql_dump_restores_the_numbers_and_the_private_links(tmp_path):
    pg_dump, createdb, pg_restore = (require_tool(name) for name in ("pg_dump", "createdb", "pg_restore"))
    with new_postgresql_databases("backup") as (names, environment):
        [source] = names
        original = app_on(postgresql_url(source), tmp_path / "live", [DATA_KEY])
        world = populate(original)
        before = numbers(original, world)
        dump = tmp_path / "eventreg-2027-03-01.dump"
        # The runbook's commands (docs/operations.md), with the app still connected: pg_dump reads one snapshot.
        subprocess.run([pg_dump, "-Fc", "-f", str(dump), source], check=True, env=environment, capture_output=True)
        with original.app_context():
            db.engine.dispose()
        copy = f"{source}_restored"
        names.append(copy)
        subprocess.run([createdb, "-T", "template0", copy], check=True, env=environment, capture_output=True)
        subprocess.run(
            [pg_restore, "--no-owner", "--exit-on-error", "-d", copy, str(dump)],
            check=True,
            env=environment,
            capture_output=True,
        )
        check_restored_copy(postgresql_url(copy), tmp_path, world, before)
