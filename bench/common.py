"""What every benchmark shares: the app on the benchmark database, the seeded event (or one of its own, by title), an
admin login, statistics."""

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, func, select

from eventreg import create_app
from eventreg.events.services import create_event, event_by_slug
from eventreg.extensions import db
from eventreg.models import Event, Registration, utcnow

BENCH_DIR = Path(tempfile.gettempdir()) / "eventreg-bench"
DEFAULT_DATABASE_URL = f"sqlite:///{BENCH_DIR / 'bench.sqlite'}"
EVENT_TITLE = "Benchmark Ceremony"
EVENT_SLUG = "benchmark-ceremony"
ADMIN_EMAIL = "bench-admin@example.org"
ADMIN_PASSWORD = "bench password, not secret"  # noqa: S105 - a throwaway account on a throwaway database


def database_argument(parser: argparse.ArgumentParser) -> None:
    """Add the --database-url option every benchmark takes."""
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="SQLAlchemy URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench (default: %(default)s)",
    )


def make_app(database_url: str):
    """The real application (not TESTING) on the benchmark database, with CSRF off so the client can log in."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench-secret-key",
        "WTF_CSRF_ENABLED": False,
        "MAIL_FILE_DIR": str(BENCH_DIR / "mail"),
    }
    return create_app(config, instance_path=str(BENCH_DIR / "instance"))


def data_keys_setting(app) -> str:
    """The benchmark app's data keys as FLASK_DATA_KEYS spells them (a JSON list), for the servers and workers it
    starts: they then seal and unseal private links with the keys of bench/'s own instance folder, not instance/."""
    return json.dumps(list(app.config["DATA_KEYS"]))


def bench_event(app):
    """The seeded event, detached from its session; exits with a hint when the database was not seeded."""
    with app.app_context():
        event = event_by_slug(EVENT_SLUG)
        if event is None:
            raise SystemExit(f"No event {EVENT_SLUG!r} in this database: run `python -m bench.seed` first.")
        db.session.expunge(event)
        return event


def titled_bench_event(title: str) -> tuple[int, int]:
    """The id of the benchmark event with this title and how many registrations it has; the event (and the schema)
    created when missing, a month ahead in Beijing. Called inside the benchmark app's context."""
    db.create_all()
    found = db.session.scalar(select(Event).where(Event.title == title))
    if found is None:
        starts = utcnow() + timedelta(days=30)
        found = create_event(
            title=title,
            venue="Great Hall",
            city="Beijing",
            timezone="Asia/Shanghai",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            contact_email="office@example.org",
        )
    event_id = found.id
    have = db.session.scalar(select(func.count()).where(Registration.event_id == event_id))
    db.session.commit()
    return event_id, have


def logged_in_client(app):
    """A test client logged in as the benchmark admin through the real login form."""
    client = app.test_client()
    response = client.post("/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"Login as {ADMIN_EMAIL} failed ({response.status_code}): run `python -m bench.seed`.")
    return client


@contextmanager
def sql_timings(app):
    """Collect (milliseconds, statement) for every SQL statement the app's engine runs inside the block."""
    timings: list[tuple[float, str]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_started"].pop()
        timings.append(((time.perf_counter() - started) * 1000, " ".join(statement.split())))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield timings
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def print_sql(timings: list[tuple[float, str]], width: int = 150) -> None:
    """One line per statement: its time and its start."""
    for elapsed, statement in timings:
        print(f"    {elapsed:8.1f} ms  {statement[:width]}")
    total = sum(elapsed for elapsed, _ in timings)
    print(f"    {total:8.1f} ms  in {len(timings)} statements (execute time only; SQLite may work on at fetch)")


def milliseconds(seconds: list[float]) -> dict[str, float]:
    """Median, 95th percentile and maximum of timings, in milliseconds."""
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "median": statistics.median(ordered) * 1000,
        "p95": p95 * 1000,
        "max": ordered[-1] * 1000,
    }


def describe(label: str, stats: dict[str, float]) -> str:
    """One line of a timing report."""
    return f"{label:<44} median {stats['median']:8.1f} ms   p95 {stats['p95']:8.1f} ms   max {stats['max']:8.1f} ms"


def environment(app) -> str:
    """The database (with its server version), the commit and the machine, for the report's header."""
    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            version = ".".join(str(part) for part in connection.dialect.server_version_info or ())
        name = engine.dialect.name
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "eventreg"], capture_output=True, text=True).stdout
    except OSError:
        commit, dirty = "unknown", ""
    state = " + uncommitted changes in eventreg/" if dirty.strip() else ""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{name} {version}; commit {commit}{state}; Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
