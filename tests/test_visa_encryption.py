"""Passport numbers and dates of birth are encrypted at rest: after a registration through the form, neither is in
the database's bytes (SQLite's file and its -wal; PostgreSQL's pg_dump), yet the app reads both, also after
`flask rotate-data-keys`; and no page or file that organizers take away (export, API, audit log) shows them."""

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import make_url

from eventreg.extensions import db
from eventreg.models import Registration, VisaApplication
from tests.conftest import IN_CI, TEST_DATABASE_URL, create_test_event, drop_tables, make_app
from tests.test_api import make_account
from tests.test_data_keys import same_database
from tests.test_visa_data import BIRTH, NUMBER, visa_form

SECRETS = (NUMBER.encode(), BIRTH.isoformat().encode())
ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")


def register_with_passport(app, client) -> tuple[int, object]:
    """Register through the HTTP form with passport X9Q47112 and a date of birth; the application's id, the event."""
    event = create_test_event(app)
    response = client.post(f"/e/{event.slug}/register", data=visa_form(event))
    assert response.status_code == 303, response.text
    with app.app_context():
        application = db.session.scalar(select(VisaApplication))
        # Stored, and readable: the test cannot pass by storing nothing.
        assert (application.passport_number, application.birth_date) == (NUMBER, BIRTH)
        return application.id, event


def unpacked(body: bytes) -> bytes:
    """A response's bytes, an XLSX's (a zip) read member by member."""
    if not body.startswith(b"PK"):
        return body
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def assert_not_in(haystack: bytes, where: str) -> None:
    for secret in SECRETS:
        assert secret not in haystack, f"{secret!r} found in plain text in {where}"


@pytest.mark.skipif(ON_POSTGRESQL, reason="the SQLite file is read in the SQLite pass; pg_dump in the PostgreSQL one")
def test_the_sqlite_file_and_its_wal_hold_no_passport_number_nor_birth_date(app, client):
    register_with_passport(app, client)
    path = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    files = [candidate for candidate in (path, Path(f"{path}-wal")) if candidate.exists()]
    assert path in files
    for file in files:
        assert_not_in(file.read_bytes(), file.name)
    # The probe finds what is there: the given name, written in the same transaction, is in the bytes.
    assert any(b"Chunli" in file.read_bytes() for file in files)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="pg_dump reads PostgreSQL: runs in the pass on TEST_DATABASE_URL")
def test_pg_dump_holds_no_passport_number_nor_birth_date(app, client):
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        message = "pg_dump is not installed (postgresql-client)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    register_with_passport(app, client)
    url = make_url(TEST_DATABASE_URL)
    command = [pg_dump, "-h", url.host or "127.0.0.1", "-U", url.username or "postgres", url.database]
    if url.port:
        command[1:1] = ["-p", str(url.port)]
    dump = subprocess.run(command, capture_output=True, check=True, timeout=120).stdout
    assert b"Chunli" in dump  # the dump holds the registration
    assert_not_in(dump, "pg_dump's output")


def test_after_rotate_data_keys_the_passport_data_still_reads(tmp_path):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app = make_app(tmp_path, DATA_KEYS=[old_key])
    try:
        application_id, _event = register_with_passport(app, app.test_client())
        with app.app_context():
            sealed_before = db.session.get(VisaApplication, application_id).passport_number_sealed
        with same_database(tmp_path, "instance", DATA_KEYS=[new_key, old_key]) as rotating:
            result = rotating.test_cli_runner().invoke(args=["rotate-data-keys"])
        assert result.exit_code == 0, result.output
        with same_database(tmp_path, "instance", DATA_KEYS=[new_key]) as rotated, rotated.app_context():
            application = db.session.get(VisaApplication, application_id)
            assert application.passport_number_sealed != sealed_before
            assert (application.passport_number, application.birth_date) == (NUMBER, BIRTH)
    finally:
        drop_tables(app)


def test_organizers_see_the_passport_data_but_exports_the_api_and_the_audit_log_do_not(app, client, logged_in):
    _id, event = register_with_passport(app, client)
    with app.app_context():
        registration_id = db.session.scalar(select(Registration.id))
    detail = logged_in.get(f"/organizer/events/{event.slug}/registrations/{registration_id}").text
    assert NUMBER in detail and "BAI CHUNLI" in detail
    for url in (
        f"/organizer/events/{event.slug}/registrations.csv",
        f"/organizer/events/{event.slug}/registrations.xlsx",
        "/admin/audit",
    ):
        response = logged_in.get(url)
        assert response.status_code == 200, url
        assert_not_in(unpacked(response.data), url)
    assert b"Chunli" in unpacked(logged_in.get(f"/organizer/events/{event.slug}/registrations.xlsx").data)
    headers = make_account(app, "api@example.org", "organizer", events=[event])
    response = client.get(f"/api/v1/events/{event.slug}/registrations", headers=headers)
    assert response.status_code == 200 and b"Chunli" in response.data
    assert_not_in(response.data, "the API's JSON")
