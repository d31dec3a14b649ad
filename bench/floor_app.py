"""The floor for bench.rush: a bare Flask endpoint that does only the database work of one registration.

    FLOOR_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench FLOOR_DATA_KEYS='["<Fernet key>"]' \
        .venv/bin/gunicorn -w 4 -b 127.0.0.1:8001 bench.floor_app:app

POST /e/<slug>/register, with raw psycopg and one connection per worker thread: lock the event row (SELECT … FOR
UPDATE), bump its seat counter (`seats_taken` when the table has it, else `stats_version`), insert a registration
row, its outbox row (with the status the mail will tell) and its audit entry ("registration.created"), commit,
answer 303 See Other to /e/<slug>/submitted, as the app does since issue 14. The new private token is stored as the
app stores it in the schema at hand: sealed with Fernet under the first of FLOOR_DATA_KEYS (`token_sealed`), or in
plain text in older schemas (`token`), with its digest where there is a `token_digest`. Over capacity the
registration is stored as waitlisted, as the app does. No form validation, no CSRF, no ORM, no templates, no session
cookie: what the app cannot beat. It imports nothing from eventreg, and reads the form fields the rush sends
(bench/rush.lua).
"""

import base64
import hashlib
import json
import os
import secrets
import threading
from datetime import UTC, datetime

import psycopg
from cryptography.fernet import Fernet, MultiFernet
from flask import Flask, redirect, request
from psycopg.types.json import Json

app = Flask(__name__)
_local = threading.local()

REGISTRATION_COLUMNS = (
    "event_id, honorific, given_name, family_name, native_name, email, email_key, name_key, institution, "
    "institution_key, position, country, category, accompanying, dietary, accessibility, visa_letter, consent_at, "
    "status, language, submission_key, created_at, updated_at"
)
CHECKIN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as eventreg.models: the floor imports nothing of the app
CHECKIN_CODE_LENGTH = 10
OUTBOX_COLUMNS = (
    "kind, registration_id, recipient, state, attempts, last_error, next_attempt_at, subject, message_id, created_at"
)
AUDIT_COLUMNS = "created_at, organizer_id, actor, event_id, registration_id, action, before, after"


def database_url() -> str:
    """The psycopg URL from FLOOR_DATABASE_URL (a SQLAlchemy `postgresql+psycopg://` URL is accepted too)."""
    return os.environ["FLOOR_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)


def connection() -> psycopg.Connection:
    """This thread's connection, opened on first use (after gunicorn forked the worker)."""
    if getattr(_local, "connection", None) is None or _local.connection.closed:
        _local.connection = psycopg.connect(database_url())
        _local.counter = seat_counter_column(_local.connection)
        _local.waitlist_counter = has_column(_local.connection, "event", "waitlisted")  # migration 0004
        _local.checkin_code = has_column(_local.connection, "registration", "checkin_code")  # migration 0005
        _local.token_digest = has_column(_local.connection, "registration", "token_digest")  # migration 0007
        # Migration 0010 (issue 14) sealed the token; the app has audited new registrations since the same commit.
        _local.token_sealed = has_column(_local.connection, "registration", "token_sealed")
        _local.mail_details = has_column(_local.connection, "outbox_message", "details")  # the status told by mail
    return _local.connection


def keyring() -> MultiFernet:
    """The data keys of FLOOR_DATA_KEYS (a JSON list of Fernet keys, as FLASK_DATA_KEYS): the first encrypts."""
    if getattr(_local, "keyring", None) is None:
        _local.keyring = MultiFernet([Fernet(key) for key in json.loads(os.environ["FLOOR_DATA_KEYS"])])
    return _local.keyring


def seat_counter_column(conn: psycopg.Connection) -> str:
    """`seats_taken` once the schema has that column (migration 0003), else `stats_version`."""
    row = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'event' AND column_name = 'seats_taken'"
    ).fetchone()
    conn.commit()
    return "seats_taken" if row else "stats_version"


def has_column(conn: psycopg.Connection, table: str, column: str) -> bool:
    """Whether the schema has this column (the floor runs against the schema of any commit)."""
    row = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s", (table, column)
    ).fetchone()
    conn.commit()
    return row is not None


@app.get("/")
def ready():
    """Answers once the worker can reach the database."""
    connection()
    return "ok"


@app.post("/e/<slug>/register")
def register(slug: str):
    """Lock the event, bump its counter, insert the registration, its mail and its audit entry, commit, 303."""
    conn = connection()
    counter = _local.counter
    form = request.form
    email = form["email"]
    seats = 1 + int(form.get("accompanying") or 0)
    now = datetime.now(UTC).replace(tzinfo=None)
    token = secrets.token_urlsafe(32)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT id, capacity, {counter} FROM event WHERE slug = %s FOR UPDATE", (slug,))
            event_id, capacity, taken = cursor.fetchone()
            confirmed = capacity is None or counter != "seats_taken" or taken + seats <= capacity
            bump = seats if confirmed or counter != "seats_taken" else 0
            status = "confirmed" if confirmed else "waitlisted"
            if _local.waitlist_counter:
                cursor.execute(
                    "UPDATE event SET seats_taken = seats_taken + %s, waitlisted = waitlisted + %s, "
                    "stats_version = stats_version + 1 WHERE id = %s",
                    (bump, 0 if confirmed else 1, event_id),
                )
            else:
                cursor.execute(
                    f"UPDATE event SET {counter} = {counter} + %s, stats_version = stats_version + 1 WHERE id = %s"
                    if counter == "seats_taken"
                    else "UPDATE event SET stats_version = stats_version + %s WHERE id = %s",
                    (bump, event_id),
                )
            given, family, institution = form["given_name"], form.get("family_name", ""), form["institution"]
            values = (
                event_id, form.get("honorific", ""), given, family, form.get("native_name", ""),
                email, email.casefold(), f"{family} {given}".casefold(), institution, institution.casefold(),
                form.get("position", ""), form["country"], form.get("category", "delegate"), seats - 1,
                form.get("dietary", ""), form.get("accessibility", ""), bool(form.get("visa_letter")), now,
                status, "en", form.get("submission") or None, now, now,
            )  # fmt: skip
            columns = REGISTRATION_COLUMNS
            if _local.token_sealed:  # encrypted under the data keys, as eventreg.data_keys.seal
                columns += ", token_sealed"
                values += (keyring().encrypt(token.encode()).decode("ascii"),)
            else:
                columns += ", token"
                values += (token,)
            if _local.checkin_code:
                columns += ", checkin_code"
                values += ("".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_CODE_LENGTH)),)
            if _local.token_digest:  # the SHA-256 a private link is found by, as eventreg.models.token_digest
                columns += ", token_digest"
                values += (base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).decode().rstrip("="),)
            cursor.execute(
                f"INSERT INTO registration ({columns}) VALUES ({', '.join(['%s'] * len(values))}) RETURNING id", values
            )
            (registration_id,) = cursor.fetchone()
            mail_columns = OUTBOX_COLUMNS
            mail = ("confirmation", registration_id, email, "queued", 0, "", now, "", "", now)
            if _local.mail_details:  # as eventreg.mail.queue.mail_row
                mail_columns, mail = mail_columns + ", details", (*mail, Json({"status": status}))
            cursor.execute(
                f"INSERT INTO outbox_message ({mail_columns}) VALUES ({', '.join(['%s'] * len(mail))})", mail
            )
            if _local.token_sealed:  # as eventreg.registration.services: made by the delegate, no organizer
                cursor.execute(
                    f"INSERT INTO audit_entry ({AUDIT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (now, None, "delegate", event_id, registration_id, "registration.created", None,
                     Json({"status": status})),
                )  # fmt: skip
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return redirect(f"/e/{slug}/submitted", 303)
