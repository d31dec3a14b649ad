"""The floor for bench.rush: a bare Flask endpoint that does only the database work of one registration.

    FLOOR_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \
        .venv/bin/gunicorn -w 4 -b 127.0.0.1:8001 bench.floor_app:app

POST /e/<slug>/register, with raw psycopg and one connection per worker thread: lock the event row
(SELECT … FOR UPDATE), bump its seat counter (`seats_taken` when the table has it, else `stats_version`),
insert a registration row and an outbox row, commit, answer 302. Over capacity the registration is stored as
waitlisted, as the app does. No form validation, no CSRF, no ORM, no templates: what the app cannot beat.
It imports nothing from eventreg, and reads the form fields the rush sends (bench/rush.lua).
"""

import base64
import hashlib
import os
import secrets
import threading
from datetime import UTC, datetime

import psycopg
from flask import Flask, redirect, request

app = Flask(__name__)
_local = threading.local()

REGISTRATION_COLUMNS = (
    "event_id, token, honorific, given_name, family_name, native_name, email, email_key, name_key, institution, "
    "institution_key, position, country, category, accompanying, dietary, accessibility, visa_letter, consent_at, "
    "status, language, submission_key, created_at, updated_at"
)
CHECKIN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as eventreg.models: the floor imports nothing of the app
CHECKIN_CODE_LENGTH = 10
OUTBOX_COLUMNS = (
    "kind, registration_id, recipient, state, attempts, last_error, next_attempt_at, subject, message_id, created_at"
)


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
    return _local.connection


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
    """Lock the event, bump its counter, insert the registration and its mail, commit, redirect."""
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
                event_id, token, form.get("honorific", ""), given, family, form.get("native_name", ""),
                email, email.casefold(), f"{family} {given}".casefold(), institution, institution.casefold(),
                form.get("position", ""), form["country"], form.get("category", "delegate"), seats - 1,
                form.get("dietary", ""), form.get("accessibility", ""), bool(form.get("visa_letter")), now,
                "confirmed" if confirmed else "waitlisted", "en", form.get("submission") or None, now, now,
            )  # fmt: skip
            columns = REGISTRATION_COLUMNS
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
            cursor.execute(
                f"INSERT INTO outbox_message ({OUTBOX_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                ("confirmation", registration_id, email, "queued", 0, "", now, "", "", now),
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return redirect(f"/r/{token}")
