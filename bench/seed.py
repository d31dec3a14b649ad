"""Seed one event with 100,000 registrations from 200 countries, fast, on SQLite or PostgreSQL.

    .venv/bin/python -m bench.seed [--database-url URL] [--registrations 100000] [--fresh]

Rows go in through SQLAlchemy Core multi-row INSERT statements, in batches; the comparison keys (email_key, name_key,
institution_key) are computed by the model's own validators, so the benchmark data is exactly what the app would
have written. Running it again on a seeded database does nothing (it refuses when the model now computes the keys
differently); --fresh starts from an empty database.
"""

import argparse
import random
import time
from datetime import timedelta
from functools import cache
from pathlib import Path

import pycountry
from sqlalchemy import func, insert, make_url, select, text

from eventreg.auth.services import create_organizer, find_organizer
from eventreg.data_keys import seal
from eventreg.events.services import create_event
from eventreg.extensions import db
from eventreg.models import Category, Event, Registration, Status, new_token, token_digest, utcnow
from eventreg.registration.capacity import recount_seats

from .common import ADMIN_EMAIL, ADMIN_PASSWORD, EVENT_SLUG, EVENT_TITLE, bench_event, database_argument, make_app
from .seed_data import HEAD_COUNTRIES, INSTITUTIONS, NAMES, SCRIPT_OF

COUNTRIES = 200
BATCH = 5_000
# Rows per INSERT statement: 500 rows of the registration's ~32 columns stay under SQLite's 32,766 parameters.
STATEMENT_ROWS = 500
DAYS = 60

_CATEGORIES = ((Category.DELEGATE, 70), (Category.OBSERVER, 10), (Category.SPEAKER, 6))
_CATEGORIES += ((Category.PRESS, 7), (Category.GUEST, 7))
_STATUSES = ((Status.CONFIRMED, 86), (Status.PENDING, 5), (Status.WAITLISTED, 3))
_STATUSES += ((Status.CANCELLED, 5), (Status.REJECTED, 1))


# The key columns exactly as the model computes them: its validators run on a transient Registration
# (about 8 µs each; names and institutions repeat, so those are remembered).
@cache
def name_key(family: str, given: str, native: str) -> str:
    """Registration.name_key for these name parts."""
    return Registration(family_name=family, given_name=given, native_name=native).name_key


@cache
def institution_key(institution: str) -> str:
    """Registration.institution_key for this institution."""
    return Registration(institution=institution).institution_key


def email_key(email: str) -> str:
    """Registration.email_key for this address."""
    return Registration(email=email).email_key


def countries() -> list[str]:
    """200 alpha-2 codes, the most represented first."""
    rest = sorted(c.alpha_2 for c in pycountry.countries if c.alpha_2 not in HEAD_COUNTRIES)
    return (HEAD_COUNTRIES + rest)[:COUNTRIES]


def registration_rows(event_id: int, count: int, now, seed: int = 3):
    """Yield `count` registration rows as dicts of column values, with every key column filled in; in an app
    context (the private tokens are sealed under its data keys, as the app stores them)."""
    rng = random.Random(seed)
    codes = countries()
    # Zipf-like: the first country sends ~17 %, the last one ~0.09 % (about 60–85 of 100,000).
    weights = [1 / rank for rank in range(1, len(codes) + 1)]
    names = {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}
    rank = {code: place for place, code in enumerate(codes)}
    picks = rng.choices(codes, weights=weights, k=count)
    for number, code in enumerate(picks, start=1):
        script = SCRIPT_OF.get(code, "latin")
        given, given_native = rng.choice(NAMES[script][0])
        family, family_native = rng.choice(NAMES[script][1])
        native = ""
        if given_native:
            east_asian = script in {"han", "ja", "ko"}
            native = f"{family_native}{given_native}" if east_asian else f"{given_native} {family_native}"
        # Bigger countries send people from more institutions; a few spell theirs in other case.
        templates = INSTITUTIONS[: 3 + min(len(INSTITUTIONS) - 3, (COUNTRIES - rank[code]) // 20)]
        institution = rng.choice(templates).format(country=names[code])
        if rng.random() < 0.03:
            institution = institution.upper()
        email = f"delegate.{number}@example.org" if rng.random() < 0.9 else f"Delegate.{number}@Example.ORG"
        created = now - timedelta(days=DAYS * rng.random() ** 1.5, seconds=rng.randrange(86_400))
        token = new_token()
        yield {
            "event_id": event_id,
            "token_sealed": seal(token),
            "token_digest": token_digest(token),
            "honorific": rng.choice(("Prof.", "Dr.", "")),
            "given_name": given,
            "family_name": family,
            "native_name": native,
            "email": email,
            "email_key": email_key(email),
            "name_key": name_key(family, given, native),
            "institution": institution,
            "institution_key": institution_key(institution),
            "position": rng.choice(("President", "Director", "Professor", "Senior Researcher", "")),
            "country": code,
            "category": rng.choices([c for c, _ in _CATEGORIES], weights=[w for _, w in _CATEGORIES])[0].value,
            "accompanying": rng.choices((0, 1, 2, 3), weights=(80, 14, 4, 2))[0],
            "dietary": rng.choice(("", "", "", "Vegetarian", "Halal", "Gluten-free")),
            "accessibility": rng.choice(("",) * 15 + ("Wheelchair access",)),
            "visa_letter": rng.random() < 0.2,
            "consent_at": created,
            "status": rng.choices([s for s, _ in _STATUSES], weights=[w for _, w in _STATUSES])[0].value,
            "language": "en",
            "submission_key": None,
            "checked_in_at": None,
            "created_at": created,
            "updated_at": created,
        }


def stale_keys(sample: int = 500) -> str | None:
    """A key column of the stored rows that the model would now compute differently (it changed since the seed)."""
    columns = [Registration.__table__.c[name] for name in ("given_name", "family_name", "native_name", "email")]
    columns += [Registration.__table__.c[name] for name in ("institution", "name_key", "email_key", "institution_key")]
    rows = db.session.execute(select(*columns).order_by(Registration.id).limit(sample)).all()
    for given, family, native, email, institution, *stored in rows:
        fresh = (name_key(family, given, native), email_key(email), institution_key(institution))
        for column, old, new in zip(("name_key", "email_key", "institution_key"), stored, fresh, strict=True):
            if old != new:
                return f"{column} {old!r} is now computed as {new!r}"
    return None


def empty_database(app) -> None:
    """Remove every table (and, for SQLite, the file), so the schema is created anew."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        if url.get_backend_name() == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{url.database}{suffix}").unlink(missing_ok=True)
        else:
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
            db.engine.dispose()


def create_schema(app, migrate: bool) -> None:
    """Create the tables: with the migrations (`flask db upgrade`) or straight from the models."""
    with app.app_context():
        if migrate:
            from flask_migrate import upgrade

            upgrade()
        else:
            db.create_all()


def _insert(connection, table, rows: list[dict]) -> None:
    """Insert `rows` as multi-row INSERT statements of STATEMENT_ROWS each: the tallies' triggers run once per
    statement on PostgreSQL (stats/tallies.py), and an executemany is one statement per row there, which makes a
    transaction update the same tally rows 100,000 times (ten minutes instead of seconds)."""
    for start in range(0, len(rows), STATEMENT_ROWS):
        connection.execute(insert(table).values(rows[start : start + STATEMENT_ROWS]))


def seed(app, registrations: int) -> str:
    """Create the organizer, the event and its registrations unless they are there; return what was done."""
    with app.app_context():
        if find_organizer(ADMIN_EMAIL) is None:
            create_organizer(ADMIN_EMAIL, ADMIN_PASSWORD, role="admin")
        event = db.session.scalar(select(Event).where(Event.slug == EVENT_SLUG))
        if event is None:
            now = utcnow()
            starts = (now + timedelta(days=30)).replace(hour=1, minute=30, second=0, microsecond=0)
            event = create_event(
                title=EVENT_TITLE,
                venue="Great Hall",
                city="Beijing",
                timezone="Asia/Shanghai",
                starts_at=starts,
                ends_at=starts + timedelta(hours=4),
                registration_opens_at=now - timedelta(days=DAYS + 1),
                registration_closes_at=starts - timedelta(days=1),
                contact_email="office@example.org",
            )
        if event.slug != EVENT_SLUG:
            raise SystemExit(f"The event got the slug {event.slug!r}, not {EVENT_SLUG!r}: use --fresh.")
        event_id = event.id
        existing = db.session.scalar(select(func.count()).where(Registration.event_id == event_id))
        db.session.commit()
        if existing == registrations:
            if problem := stale_keys():
                raise SystemExit(f"The stored keys are out of date ({problem}): run with --fresh.")
            return f"already seeded: {existing:,} registrations (use --fresh to start again)"
        if existing:
            raise SystemExit(f"The event has {existing:,} registrations, not {registrations:,}: use --fresh.")

        table = Registration.__table__
        rows = registration_rows(event_id, registrations, utcnow())
        with db.engine.begin() as connection:
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    _insert(connection, table, batch)
                    batch = []
            if batch:
                _insert(connection, table, batch)
            # Core inserts pass the ORM's flush hook by: recount the seats and move the stats version on, as it would.
            connection.execute(recount_seats([event_id]))
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk load: planner statistics and the visibility map. The tally
            # tables are rewritten as well: each 500-row statement above updated every tally row it touched once,
            # inside one long transaction, which left them 20-40 times their live size (the tally 1,354 pages for
            # 3,411 rows). Registrations arriving one per transaction keep them compact instead (2,000 of them on
            # the rewritten tables: the tally 52 → 76 pages, the arrivals 38 → 38 pages), and the dashboard
            # reads them whole, so a bloated copy would time the seed, not the app (docs/benchmarks.md).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE registration"))
                for table_name in ("registration_tally", "registration_arrival"):
                    connection.execute(text(f"VACUUM (FULL, ANALYZE) {table_name}"))
        return f"seeded {registrations:,} registrations"


def main() -> None:
    """Parse the options, prepare the database and seed it."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    database_argument(parser)
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true", help="drop everything in the database first")
    parser.add_argument("--migrate", action="store_true", help="create the schema with the migrations, not create_all")
    options = parser.parse_args()

    app = make_app(options.database_url)
    if options.fresh:
        empty_database(app)
    create_schema(app, options.migrate)
    started = time.perf_counter()
    outcome = seed(app, options.registrations)
    event = bench_event(app)
    print(f"{outcome} in {time.perf_counter() - started:.1f} s; event /organizer/events/{event.slug}")
    print(f"admin login: {ADMIN_EMAIL} / {ADMIN_PASSWORD}")


if __name__ == "__main__":
    main()
