"""Fixtures: an app on a fresh database (SQLite, or TEST_DATABASE_URL), clients, factories, a real SMTP server."""

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from eventreg import create_app
from eventreg.auth.services import create_organizer
from eventreg.categories.services import delegate_codes
from eventreg.events.services import create_event
from eventreg.extensions import db
from eventreg.models import utcnow
from eventreg.registration.services import DelegateDetails, Membership, register_delegate
from scripts.messages import compile_stale_catalogs
from tests.browser import BROWSER_TIMEOUT_MS, CHROMIUM, launch

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# Tests that do not depend on the database engine: a real browser (the pages, axe) and hypothesis fuzzing. They are
# the slow part of the suite, so .ci/run runs them once, in its SQLite pass, and skips them in the PostgreSQL pass.
ENGINE_INDEPENDENT_MARKERS = ("browser", "fuzz")
SKIP_ENGINE_INDEPENDENT = "--skip-engine-independent"


def pytest_sessionstart(session):
    """The tests read the compiled catalogs: compile each .mo whose .po is newer, as `make test` does, so that a
    plain `pytest` after editing a catalog tests the new wording."""
    compile_stale_catalogs()


def pytest_addoption(parser):
    parser.addoption(
        SKIP_ENGINE_INDEPENDENT,
        action="store_true",
        help="skip the browser and fuzz tests (they do not depend on the database engine); for a second pass of the "
        "suite on TEST_DATABASE_URL after a first one on SQLite ran them",
    )


def pytest_configure(config):
    if config.getoption(SKIP_ENGINE_INDEPENDENT) and not TEST_DATABASE_URL:
        raise pytest.UsageError(
            f"{SKIP_ENGINE_INDEPENDENT} is for the pass on TEST_DATABASE_URL: the SQLite pass is where the browser "
            "and fuzz tests run"
        )


def pytest_collection_modifyitems(config, items):
    """With --skip-engine-independent, mark the browser and fuzz tests skipped, saying why."""
    if not config.getoption(SKIP_ENGINE_INDEPENDENT):
        return
    skip = pytest.mark.skip(
        reason="does not depend on the database engine: runs in the SQLite pass only "
        f"({SKIP_ENGINE_INDEPENDENT}, as .ci/run's PostgreSQL pass)"
    )
    for item in items:
        if any(item.get_closest_marker(name) for name in ENGINE_INDEPENDENT_MARKERS):
            item.add_marker(skip)


def require_postgresql(**engine_options):
    """An engine on POSTGRES_URL that answers; skips the test where no server runs, and fails it in CI."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5}, **engine_options)
    try:
        engine.connect().close()
    except Exception as error:  # noqa: BLE001 - any failure to connect means "no PostgreSQL here"
        engine.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {POSTGRES_URL}: {error}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL} ({type(error).__name__}); set TEST_POSTGRES_URL")
    return engine


def require_redis(url: str) -> redis.Redis:
    """A client of the Redis at `url` that answers (the caller closes it); skips the test where none answers, and
    fails it in CI."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
        client.close()
        if IN_CI:
            pytest.fail(f"Redis is required in CI but unreachable at {url}: {error}")
        pytest.skip(f"no Redis at {url} ({type(error).__name__}); set CI=true to make this a failure")
    return client


@pytest.fixture(autouse=True)
def _no_flask_settings_from_the_environment(monkeypatch):
    """A developer's FLASK_* variables (a mail server, a secret key…) must not change what the tests see."""
    for name in list(os.environ):
        if name.startswith("FLASK_"):
            monkeypatch.delenv(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_config(tmp_path, **overrides) -> dict:
    """Settings for a test app on its own database and mail folder."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,  # only the rate-limit tests turn it on
        "LOST_LINK_MIN_SECONDS": 0,  # only the timing test (test_account_security.py) pads the lost-link answer
        "SERVER_NAME": "localhost",
        "MAIL_FILE_DIR": str(tmp_path / "mail"),
        "MAIL_DEFAULT_SENDER": "Ceremony Office <office@example.org>",
    }
    config.update(overrides)
    return config


def make_app(tmp_path, **overrides):
    """An app with empty tables; the caller drops them with drop_tables()."""
    app = create_app(base_config(tmp_path, **overrides), instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.session.close()
        db.drop_all()
        _forget_revision()
        db.create_all()
    return app


def _forget_revision() -> None:
    """Drop alembic's record of the schema's revision: tables made by create_all have none, and one left by a test
    that stamped the database would make /readyz answer for tables it never saw."""
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def drop_tables(app) -> None:
    """Remove the tables, alembic's record of the revision among them, and close every connection (PostgreSQL
    hangs on DROP while a session is open)."""
    with app.app_context():
        db.session.remove()
        db.drop_all()
        _forget_revision()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    drop_tables(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def create_test_event(app, **fields):
    """Create an event on `app`; registration is open, the ceremony a month ahead, unless told otherwise."""
    starts = utcnow() + timedelta(days=30)
    values = {
        "title": "Inaugural Ceremony",
        "venue": "Great Hall",
        "city": "Beijing",
        "timezone": "Asia/Shanghai",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=3),
        "contact_email": "office@example.org",
    }
    values.update(fields)
    with app.app_context():
        event = create_event(**values)
        db.session.refresh(event)
        db.session.expunge(event)
        return event


@pytest.fixture
def make_event(app):
    """Create an event on the test app (see create_test_event)."""
    return lambda **fields: create_test_event(app, **fields)


def delegate(**fields) -> DelegateDetails:
    """Valid details of a delegate, with `fields` changed."""
    values = {
        "honorific": "Prof.",
        "given_name": "Chunli",
        "family_name": "Bai",
        "native_name": "白春礼",
        "email": "chunli.bai@example.org",
        "institution": "Chinese Academy of Sciences",
        "position": "President",
        "country": "CN",
        "category": "delegate",
        "accompanying": 0,
        "dietary": "",
        "accessibility": "",
        "visa_letter": False,
    }
    values.update(fields)
    return DelegateDetails(**values)


def register_test_delegate(app, event, language="en", **fields):
    """Register a delegate through the service (no HTTP), returning the registration's id and token."""
    with app.app_context():
        details = delegate(**fields)
        # A category the organizers set comes as theirs (an invitation's or an organizer's), not from the form.
        assigned = details.category not in delegate_codes(event.id)
        membership = Membership(assigned_category=details.category) if assigned else None
        registration = register_delegate(event.id, details, language=language, membership=membership)
        return registration.id, registration.token


def private_token(app, registration_id) -> str:
    """The registration's private-link token as it is now (unsealed with the app's data keys)."""
    from eventreg.models import Registration

    with app.app_context():
        return db.session.get(Registration, registration_id).token


@pytest.fixture
def make_registration(app):
    """Register a delegate on the test app (see register_test_delegate)."""
    return lambda event, **fields: register_test_delegate(app, event, **fields)


@pytest.fixture
def make_organizer(app):
    def make(email="admin@example.org", password="correct horse battery", role="admin"):
        with app.app_context():
            create_organizer(email, password, role)
        return email, password

    return make


@pytest.fixture
def logged_in(client, make_organizer):
    """A client logged in as an admin organizer."""
    email, password = make_organizer()
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302
    return client


class Collect:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.envelopes = []
        self.peers = []  # the client address of each message, to tell connections apart

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.peers.append(session.peer)
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1, stopped after the test."""
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


# ---- a live server and a real browser, for the end-to-end and accessibility tests


def sending_to(port: int) -> dict:
    """Settings that make an app send its mail, plainly, to the SMTP server on 127.0.0.1:`port` (Flask-Mail
    suppresses sending under TESTING)."""
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False, "MAIL_SUPPRESS_SEND": False}


@pytest.fixture
def smtp_app(tmp_path, smtp_server):
    """An app that sends through the in-process SMTP server (Flask-Mail suppresses sending under TESTING)."""
    app = make_app(
        tmp_path,
        **sending_to(smtp_server.port),
        SERVER_NAME="register.example.org",
        PREFERRED_URL_SCHEME="https",
    )
    yield app
    drop_tables(app)


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; skipped when absent on a workstation, a failure when absent in CI."""
    if CHROMIUM.exists():
        return CHROMIUM
    if IN_CI:
        pytest.fail(f"{CHROMIUM} is missing but CI=true: install it (apt-get install -y chromium) to run browser tests")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium); set CI=true to make this a failure")


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve `app` with werkzeug on 127.0.0.1 in a thread while the block runs; yields its base URL."""
    # Threaded, as `flask run` is: Chromium opens spare connections that would block a single-threaded server.
    # Port 0: the system picks a free port, with no window for another process to take it.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    app.config["SERVER_NAME"] = f"127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live_server(tmp_path):
    """The real app, CSRF on, served by werkzeug on 127.0.0.1 in a thread; yields (app, base URL)."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    try:
        with serving(app) as base_url:
            yield app, base_url
    finally:
        drop_tables(app)


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh page in headless Chromium, closed with the browser before the server stops."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(locale="en-GB", viewport={"width": 900, "height": 1000})
            try:
                page = context.new_page()
                page.set_default_timeout(BROWSER_TIMEOUT_MS)
                yield page
            finally:
                context.close()
        finally:
            browser.close()
