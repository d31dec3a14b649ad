"""Structured logs (LOG_FORMAT = "json", eventreg/ops/logs.py): one JSON line per request with its request id (also
the X-Request-ID response header), route, status, duration and organizer; one per mail attempt through a real SMTP
server; private links, email-change keys and recipients' addresses masked; a failed request logged too, and the
lines it logs on the way carry its request id. One test runs gunicorn as in production (FLASK_LOG_FORMAT=json)."""

import http.client
import json
import re

import pytest
from sqlalchemy import select, text

from eventreg import create_app
from eventreg.data_keys import new_key
from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import Organizer
from eventreg.ops.logs import configure_logging
from tests.conftest import (
    base_config,
    create_test_event,
    drop_tables,
    make_app,
    register_test_delegate,
    sending_to,
)
from tests.gunicorn_server import start_gunicorn_fixture  # noqa: F401 - fixture
from tests.test_private_paths import access_lines

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def json_lines(err: str, logger: str | None = None) -> list[dict]:
    """The JSON objects on standard error (every line must be one), those of `logger` only if given."""
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    return [line for line in lines if logger is None or line["logger"] == logger]


def take_back_logging(app) -> None:
    """Put the "eventreg" logger back as a text app has it, so the next tests' output and caplog are as usual."""
    app.config["LOG_FORMAT"] = "text"
    configure_logging(app)


@pytest.fixture
def json_app(tmp_path):
    app = make_app(tmp_path, LOG_FORMAT="json")
    yield app
    take_back_logging(app)
    drop_tables(app)


@pytest.fixture
def tableless_json_app(tmp_path):
    """A JSON-logging app whose database is never touched (a 404 needs none): no tables to create and drop."""
    app = create_app(base_config(tmp_path, LOG_FORMAT="json"), instance_path=str(tmp_path / "instance"))
    yield app
    take_back_logging(app)


@pytest.fixture
def smtp_json_app(tmp_path, smtp_server):
    app = make_app(tmp_path, **sending_to(smtp_server.port), SERVER_NAME="register.example.org", LOG_FORMAT="json")
    yield app
    take_back_logging(app)
    drop_tables(app)


def test_a_request_logs_one_json_line_and_sends_its_request_id_back(json_app, capsys):
    event = create_test_event(json_app)
    capsys.readouterr()
    response = json_app.test_client().get(f"/e/{event.slug}?lang=fr")
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    [line] = json_lines(capsys.readouterr().err, "eventreg.requests")
    assert line["request_id"] == request_id
    assert line["route"] == "/e/<slug:slug>"
    assert (line["method"], line["path"], line["status"]) == ("GET", f"/e/{event.slug}?lang=fr", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["organizer_id"] is None
    assert line["client"] == "127.0.0.1"
    assert line["level"] == "INFO" and line["time"]


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("3f2a9c0d1e4b5a6978877665544332211", True),  # nginx's $request_id
        ("req-42.batch_7", True),
        ("a" * 65, False),  # too long
        ("abc def", False),
        ('x", "status": 200, "y": "', False),  # would forge a field in a log that is not JSON-aware
        ("заявка", False),
        ("", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_if_it_is_a_plain_short_token(tableless_json_app, capsys, incoming, kept):
    response = tableless_json_app.test_client().get("/no-such-page", headers={"X-Request-ID": incoming})
    assert response.status_code == 404
    request_id = response.headers["X-Request-ID"]
    [line] = json_lines(capsys.readouterr().err, "eventreg.requests")
    assert line["request_id"] == request_id
    assert line["route"] is None and line["status"] == 404
    if kept:
        assert request_id == incoming
    else:
        assert GENERATED_ID.fullmatch(request_id)


def test_private_links_and_email_change_keys_are_masked_in_the_request_lines(json_app, capsys):
    event = create_test_event(json_app)
    _id, token = register_test_delegate(json_app, event)
    client = json_app.test_client()
    private_page = f"http://localhost/r/{token}"
    capsys.readouterr()
    assert client.get(f"/r/{token}").status_code == 200
    assert client.get(f"/r/{token}/ticket", headers={"Referer": private_page}).status_code == 200
    client.get(f"/email-change?key={token}.confirm&lang=en", headers={"Referer": private_page})
    err = capsys.readouterr().err
    assert token not in err, err
    lines = json_lines(err, "eventreg.requests")
    assert [line["path"] for line in lines] == [
        "/r/[private]",
        "/r/[private]/ticket",
        "/email-change?key=[private]&lang=en",
    ]
    assert [line["referrer"] for line in lines] == [
        None,
        "http://localhost/r/[private]",
        "http://localhost/r/[private]",
    ]
    assert lines[0]["route"] == "/r/<token:token>"


def test_the_organizers_id_is_logged_when_one_is_logged_in(json_app, capsys):
    client = json_app.test_client()
    with json_app.app_context():
        from eventreg.auth.services import create_organizer

        create_organizer("admin@example.org", "correct horse battery", "admin")
        organizer_id = db.session.scalar(select(Organizer.id))
    assert client.get("/organizer/").status_code == 302  # to the login page: nobody is logged in yet
    response = client.post("/auth/login", data={"email": "admin@example.org", "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get("/organizer/").status_code == 200
    assert client.get("/").status_code == 200  # a public page, seen by a logged-in organizer
    lines = json_lines(capsys.readouterr().err, "eventreg.requests")
    assert [(line["method"], line["path"], line["organizer_id"]) for line in lines] == [
        ("GET", "/organizer/", None),
        ("POST", "/auth/login", organizer_id),
        ("GET", "/organizer/", organizer_id),
        ("GET", "/", organizer_id),
    ]


@pytest.mark.parametrize("propagate", [False, True], ids=["error-page", "exception-escapes"])
def test_a_failed_request_is_logged_with_its_id_on_every_line(tmp_path, capsys, propagate):
    app = make_app(tmp_path, LOG_FORMAT="json", TESTING=False, PROPAGATE_EXCEPTIONS=propagate)
    try:
        event = create_test_event(app)
        _id, token = register_test_delegate(app, event)
        with app.app_context():  # the database fails under the request
            db.session.execute(text("ALTER TABLE registration RENAME TO registration_away"))
            db.session.commit()
        capsys.readouterr()
        client = app.test_client()
        try:
            if propagate:
                with pytest.raises(Exception, match="registration"):
                    client.get(f"/r/{token}/ticket", headers={"X-Request-ID": "failing-1"})
            else:
                response = client.get(f"/r/{token}/ticket", headers={"X-Request-ID": "failing-1"})
                assert response.status_code == 500
                assert response.headers["X-Request-ID"] == "failing-1"
                # The error page gives the delegate the id to quote to the organizers.
                assert "quote this reference: failing-1" in response.get_data(as_text=True)
        finally:
            with app.app_context():
                db.session.rollback()
                db.session.execute(text("ALTER TABLE registration_away RENAME TO registration"))
                db.session.commit()
    finally:
        take_back_logging(app)
        drop_tables(app)
    err = capsys.readouterr().err
    assert token not in err
    [line] = json_lines(err, "eventreg.requests")
    assert (line["request_id"], line["path"], line["status"]) == ("failing-1", "/r/[private]/ticket", 500)
    if not propagate:  # Flask's own "Exception on …" line, masked, with the request's id
        [error] = [line for line in json_lines(err, "eventreg") if line["level"] == "ERROR"]
        assert error["message"] == "Exception on /r/[private]/ticket [GET]"
        assert error["request_id"] == "failing-1"
        assert "exc_info" in error


def test_a_sent_mail_logs_one_attempt_line(smtp_json_app, smtp_server, capsys):
    event = create_test_event(smtp_json_app)
    register_test_delegate(smtp_json_app, event, email="chunli.bai@example.org")
    capsys.readouterr()
    with smtp_json_app.app_context():
        assert deliver_due().sent == 1
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [["chunli.bai@example.org"]]
    err = capsys.readouterr().err
    assert "chunli.bai@example.org" not in err
    assert "/r/" not in err  # the private link is in the mail, never in its log line
    [line] = json_lines(err, "eventreg.mail.attempts")
    assert (line["kind"], line["result"], line["attempt"], line["error"]) == ("confirmation", "sent", 1, "")
    assert line["recipient"] == "c…@example.org"
    assert isinstance(line["outbox_id"], int) and line["message_id"].startswith("<")
    assert line["duration_ms"] >= 0


@pytest.mark.parametrize(
    ("step", "reply", "result"),
    [
        ("handle_DATA", "451 4.3.0 try again later", "retry"),
        # The server's reply to RCPT names the recipient: the log lines must not.
        ("handle_RCPT", "450 4.2.1 <gone.away@example.org> mailbox busy", "retry"),
        ("handle_RCPT", "550 5.1.1 <Gone.Away@Example.org> no such user", "failed"),
    ],
)
def test_a_refused_mail_logs_its_retry_or_failure(smtp_json_app, smtp_server, capsys, step, reply, result):
    async def refuse(*_args):
        return reply

    setattr(smtp_server, step, refuse)
    event = create_test_event(smtp_json_app)
    register_test_delegate(smtp_json_app, event, email="gone.away@example.org")
    capsys.readouterr()
    with smtp_json_app.app_context():
        deliver_due()
    err = capsys.readouterr().err
    assert "gone.away@example.org" not in err.lower(), err  # in no line: the worker's warnings neither
    [line] = json_lines(err, "eventreg.mail.attempts")
    assert (line["result"], line["attempt"], line["recipient"]) == (result, 1, "g…@example.org")
    assert reply[:3] in line["error"]
    if step == "handle_RCPT":
        code, _address, words = re.split("[<>]", reply)
        assert line["error"] == f"SMTPRecipientsRefused: g…@example.org: {code}<g…@example.org>{words}"


def test_an_unknown_log_format_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        create_app(base_config(tmp_path, LOG_FORMAT="yaml"), instance_path=str(tmp_path / "instance"))


def test_gunicorn_with_flask_log_format_json_writes_json_request_lines(tmp_path, start_gunicorn):
    keys = [new_key()]
    app = make_app(tmp_path, DATA_KEYS=keys)
    try:
        event = create_test_event(app)
        _id, token = register_test_delegate(app, event)
        server = start_gunicorn(
            {
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "SECRET_KEY": "gunicorn-test-secret-key",
                "DATA_KEYS": keys,
                "RATELIMIT_ENABLED": False,
                "LOG_FORMAT": "json",
            },
            workers=1,
        )
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", f"/r/{token}", headers={"X-Request-ID": "from-nginx-1"})
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status == 200 and response.getheader("X-Request-ID") == "from-nginx-1"
        [raw] = access_lines(server.log_path, '"request_id": "from-nginx-1"', 1)
    finally:
        drop_tables(app)
    line = json.loads(raw)
    assert (line["logger"], line["path"], line["status"], line["route"]) == (
        "eventreg.requests",
        "/r/[private]",
        200,
        "/r/<token:token>",
    )
    assert token not in server.log_path.read_text(errors="replace")
