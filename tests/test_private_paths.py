"""Private URLs never reach a log: one function masks them (mask_private_paths), gunicorn's access log (through
gunicorn.conf.py) masks the request line and the Referer with it, and so does the app's own log of a failed request."""

import http.client
import importlib.util
import logging
import time
from pathlib import Path

import pytest
from gunicorn.glogging import SafeAtoms
from sqlalchemy import text

from eventreg.data_keys import new_key
from eventreg.extensions import db
from eventreg.private_paths import mask_private_paths
from tests.conftest import create_test_event, drop_tables, make_app, register_test_delegate
from tests.gunicorn_server import START_TIMEOUT_SECONDS, start_gunicorn_fixture  # noqa: F401 - fixture

TOKEN = "Xq3_vR9-kLm2NpQ8sT4uW6yZ0aB1cD5eF7gH9iJ2kL4"


@pytest.mark.parametrize(
    ("logged", "masked"),
    [
        (f"/r/{TOKEN}", "/r/[private]"),
        (f"/r/{TOKEN}/edit", "/r/[private]/edit"),  # every page under the private link
        (f"/r/{TOKEN}/ticket", "/r/[private]/ticket"),
        (f"/r/{TOKEN}/calendar.ics?x=1", "/r/[private]/calendar.ics?x=1"),
        (f"GET /r/{TOKEN}/qr.svg HTTP/1.1", "GET /r/[private]/qr.svg HTTP/1.1"),  # a request line
        (f"https://register.example.org/r/{TOKEN}", "https://register.example.org/r/[private]"),  # a Referer
        (f"http://127.0.0.1:8000/r/{TOKEN}/email", "http://127.0.0.1:8000/r/[private]/email"),
        (f"GET https://example.org/r/{TOKEN} HTTP/1.1", "GET https://example.org/r/[private] HTTP/1.1"),
        (f'"GET /r/{TOKEN} HTTP/1.1" 200 -', '"GET /r/[private] HTTP/1.1" 200 -'),  # the development server's line
        (f"Exception on /r/{TOKEN}/cancel [POST]", "Exception on /r/[private]/cancel [POST]"),  # Flask's
        (f"/email-change?key={TOKEN}.abc", "/email-change?key=[private]"),  # an email change's confirmation
        (f"key={TOKEN}", "key=[private]"),  # gunicorn's %(q)s: the query string alone
        (f"/email-change?lang=en&key={TOKEN}&x=1", "/email-change?lang=en&key=[private]&x=1"),
        ("/checkin/launch/lookup.json?code=AB01CD10EF", "/checkin/launch/lookup.json?code=[private]"),  # a ticket
        ("/checkin/launch?code=AB01-CD10-EF&q=", "/checkin/launch?code=[private]&q="),
        # nothing private: left as it is
        ("/checkin/launch/r/12", "/checkin/launch/r/12"),  # a registration's id at the desk is no secret
        ("https://register.example.org/checkin/launch/r/12", "https://register.example.org/checkin/launch/r/12"),
        ("/organizer/events/launch/registrations?q=bai&page=2", "/organizer/events/launch/registrations?q=bai&page=2"),
        ("/e/launch/register", "/e/launch/register"),
        ("/?monkey=1", "/?monkey=1"),
        ("-", "-"),
    ],
)
def test_mask_private_paths(logged, masked):
    assert mask_private_paths(logged) == masked


def get(port: int, path: str, referer: str) -> int:
    """GET `path` from the server with a Referer; the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Referer": referer, "Accept-Language": "en"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def gunicorn_settings():
    """gunicorn.conf.py as gunicorn reads it: a file of settings, not a module of the package."""
    spec = importlib.util.spec_from_file_location("gunicorn_conf", Path(__file__).parent.parent / "gunicorn.conf.py")
    settings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(settings)
    return settings


@pytest.mark.parametrize(
    "value",
    [
        f"GET /r/{TOKEN}/ticket HTTP/1.1",
        f'https://example.org/r/{TOKEN}"/edit',  # a quote right after the secret: its escape stays whole
        f'/email-change?key={TOKEN}"&x="1"',
        f"/e/launch?code={TOKEN}",
        'a "quoted" value, nothing private',
        "",
    ],
)
@pytest.mark.parametrize("atom", ["r", "U", "q", "f", "a", "{referer}i", "{Referer}i", "{x-custom}i", "{path_info}e"])
def test_each_access_log_value_is_masked_then_escaped_as_gunicorn_escapes_it(atom, value):
    # The values are masked as the format reads them (not all ~60 that gunicorn gathers): whichever the format
    # names reads exactly what gunicorn would print for the masked value, '-' for one that is missing.
    atoms = {atom.lower() if atom.startswith("{") else atom: value, "s": 303, "b": "0"}
    logged = gunicorn_settings().MaskedAtoms(atoms)
    expected = SafeAtoms({name: mask_private_paths(v) if isinstance(v, str) else v for name, v in atoms.items()})
    assert logged[atom] == expected[atom]
    assert TOKEN not in logged[atom]
    assert '"' not in logged[atom].replace('\\"', "")  # every quote escaped: a value cannot end the quoted field
    assert (logged["s"], logged["b"], logged["m"], logged["{missing}o"]) == (303, "0", "-", "-")


def access_lines(log_path, marker: str, count: int) -> list[str]:
    """The access log's lines that hold `marker`, once there are `count` of them: gunicorn writes a line after it
    has answered, so the last one may still be on its way (bounded wait, nothing is timed)."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        lines = [line for line in log_path.read_text(errors="replace").splitlines() if marker in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_gunicorns_access_log_masks_the_request_line_and_the_referer(tmp_path, start_gunicorn):
    keys = [new_key()]
    app = make_app(tmp_path, DATA_KEYS=keys)
    try:
        event = create_test_event(app, title="Launch")
        _id, token = register_test_delegate(app, event, given_name="Chunli", family_name="Bai")
        server = start_gunicorn(
            {
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "SECRET_KEY": "gunicorn-test-secret-key",
                "DATA_KEYS": keys,
                "RATELIMIT_ENABLED": False,
            },
            workers=1,
        )
        private_page = f"{server.base_url}/r/{token}"
        # The delegate's page, then the pages it links to: each sends the private page as its Referer.
        assert get(server.port, f"/r/{token}", referer=f"{server.base_url}/") == 200
        assert get(server.port, f"/r/{token}/ticket", referer=private_page) == 200
        assert get(server.port, f"/e/{event.slug}", referer=private_page) == 200
        assert get(server.port, f"/email-change?key={token}.confirm", referer=private_page) in (400, 404)
        lines = access_lines(server.log_path, '"GET ', 5)  # and the helper's own GET / while waiting for the server
    finally:
        drop_tables(app)
    log = server.log_path.read_text(errors="replace")
    assert token not in log, log
    assert any('"GET /r/[private] HTTP/1.1" 200 ' in line for line in lines), lines
    assert any('"GET /r/[private]/ticket HTTP/1.1" 200 ' in line for line in lines), lines
    assert any(f'"GET /e/{event.slug} HTTP/1.1" 200 ' in line for line in lines), lines  # the rest stays readable
    assert sum(f'"{server.base_url}/r/[private]"' in line for line in lines) == 3, lines  # the Referer
    assert any('"GET /email-change?key=[private] HTTP/1.1"' in line for line in lines), lines


def test_the_apps_own_log_of_a_failed_request_masks_the_private_link(tmp_path, caplog):
    app = make_app(tmp_path, TESTING=False, PROPAGATE_EXCEPTIONS=False)
    try:
        event = create_test_event(app)
        _id, token = register_test_delegate(app, event)
        with app.app_context():  # the database fails under the request: Flask logs "Exception on <path>"
            db.session.execute(text("ALTER TABLE registration RENAME TO registration_away"))
            db.session.commit()
        with caplog.at_level(logging.ERROR, logger=app.logger.name):
            response = app.test_client().get(f"/r/{token}/ticket")
        with app.app_context():
            db.session.execute(text("ALTER TABLE registration_away RENAME TO registration"))
            db.session.commit()
    finally:
        drop_tables(app)
    assert response.status_code == 500
    messages = [record.getMessage() for record in caplog.records]
    assert "Exception on /r/[private]/ticket [GET]" in messages, messages
    assert token not in caplog.text
