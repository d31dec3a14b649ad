"""/healthz and /readyz: each check passes on a real database (and Redis), and each fails for real: a database on
a closed port, a schema stamped at an older revision or never stamped, a Redis on a closed port."""

import pytest
from flask_migrate import stamp
from sqlalchemy import text

from eventreg import create_app
from eventreg.extensions import db
from tests.conftest import base_config, free_port, require_redis

REDIS_URL = "redis://127.0.0.1:6379/1"  # only pinged: nothing is written
OLDEST_REVISION = "0001"  # migrations/versions/0001_initial_schema.py
ALL_OK = {"status": "ok", "checks": {"database": "ok", "schema": "ok", "redis": "skipped"}}


def _stamp(app, revision: str) -> None:
    with app.app_context():
        stamp(revision=revision)


def _forget_revision(app) -> None:
    """drop_tables() leaves alembic's table (it is no model): the next test's database must start without one."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def migrated(app):
    """The test app with its database stamped at this code's head, as `flask db upgrade` leaves it."""
    _stamp(app, "head")
    yield app
    _forget_revision(app)


def readiness(app):
    response = app.test_client().get("/readyz")
    return response.status_code, response.get_json(), response


def test_healthz_answers_while_the_process_is_up_without_asking_the_database(tmp_path):
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone"
    app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=closed), instance_path=str(tmp_path / "i"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_when_database_and_schema_answer(migrated):
    status, body, response = readiness(migrated)
    assert (status, body) == (200, ALL_OK)
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_database_that_does_not_answer_is_not_ready_and_the_answer_says_no_more(tmp_path):
    port = free_port()
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{port}/secret_db_name"
    app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=closed), instance_path=str(tmp_path / "i"))
    status, body, response = readiness(app)
    assert status == 503
    assert body == {"status": "fail", "checks": {"database": "fail", "schema": "fail", "redis": "skipped"}}
    assert str(port) not in response.text and "secret_db_name" not in response.text


def test_a_schema_behind_this_codes_migrations_is_not_ready(app):
    _forget_revision(app)  # whatever another test's database left
    status, body, _response = readiness(app)  # tables made without migrations: no revision at all
    assert status == 503 and body["checks"] == {"database": "ok", "schema": "behind", "redis": "skipped"}
    try:
        _stamp(app, OLDEST_REVISION)
        status, body, response = readiness(app)
        assert status == 503 and body["checks"] == {"database": "ok", "schema": "behind", "redis": "skipped"}
        assert OLDEST_REVISION not in response.text  # no revision ids: they date the release
        _stamp(app, "head")
        assert readiness(app)[:2] == (200, ALL_OK)
    finally:
        _forget_revision(app)


def test_a_schema_newer_than_this_code_is_ready(migrated):
    """A rolling deploy: the next release's expand migration ran while this release still serves."""
    with migrated.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe0042'"))
        db.session.commit()
    assert readiness(migrated)[:2] == (200, ALL_OK)


@pytest.fixture
def redis_up():
    """The Redis at REDIS_URL answers; skipped without one, failed in CI."""
    require_redis(REDIS_URL).close()


def test_the_rate_limits_redis_is_checked_where_one_is_configured(migrated, redis_up):
    migrated.config["RATELIMIT_STORAGE_URI"] = REDIS_URL
    status, body, _response = readiness(migrated)
    assert (status, body["checks"]) == (200, {"database": "ok", "schema": "ok", "redis": "ok"})

    port = free_port()
    migrated.config["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{port}/1"
    migrated.extensions.pop("eventreg_probe_storage")  # as a host configured with a Redis that is down
    status, body, response = readiness(migrated)
    assert (status, body) == (503, {"status": "fail", "checks": {"database": "ok", "schema": "ok", "redis": "fail"}})
    assert str(port) not in response.text

    migrated.config["RATELIMIT_STORAGE_URI"] = "nosuchstore://127.0.0.1"  # a store that cannot even be opened
    migrated.extensions.pop("eventreg_probe_storage")
    status, body, _response = readiness(migrated)
    assert (status, body["checks"]["redis"]) == (503, "fail")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_force_https_does_not_redirect_the_probes(migrated, path):
    migrated.config["FORCE_HTTPS"] = True
    client = migrated.test_client()
    assert client.get("/").status_code == 308  # plain HTTP is redirected everywhere else
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
