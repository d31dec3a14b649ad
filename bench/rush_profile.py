"""Where one registration POST spends its time: in-process, CSRF on, on the rush event of bench.rush's database.

    .venv/bin/python -m bench.rush_profile [--database-url URL] [--fresh] [--requests 300] [--sql] [--profile]

Uses the event that `python -m bench.rush` leaves in the database, or with --fresh builds the schema and the event
itself (dropping everything in the database, like bench.rush). The real app, configured as in production (CSRF on),
answers the form through Flask's test client: one GET for the session cookie and CSRF token, then N POSTs of valid
registrations, each with its own email address (all of them must answer 303 See Other to /e/<slug>/submitted).
Prints the median and p95 server time per POST; --sql lists every statement of one registration with its time;
--profile runs the N POSTs under cProfile and prints the cumulative time of each part of the hot path (per request,
and as a share of the view's total), then the top functions. At the end the registrations made are deleted and the
event's row is put back as it was.
"""

import argparse
import cProfile
import pstats
import re
import time
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from eventreg import create_app
from eventreg.extensions import db
from eventreg.models import Event, Registration

from .common import BENCH_DIR, milliseconds, print_sql, sql_timings
from .loadtest import ANSWER_STATUS, REGISTRATION_FIELDS, submitted_path
from .rush import DEFAULT_DATABASE_URL
from .rush_event import RushEvent, prepare_event, reset
from .seed import create_schema, empty_database

# (label, file path ending, function name): the parts of the hot path, outermost first; a part's time includes
# the parts under it. Function names that do not exist in the code being profiled show as "–".
PARTS = [
    ("whole request (Flask app.__call__)", "flask/app.py", "wsgi_app"),
    ("  before_request: login check", "auth/access.py", "_require_login"),
    ("  view register()", "registration/views.py", "register"),
    ("    event_by_slug()", "eventreg/events/services.py", "event_by_slug"),
    ("    RegistrationForm() (fields, country choices)", "registration/forms.py", "__init__"),
    ("      country_names()", "eventreg/geo/countries.py", "country_names"),
    ("      countries() (the request language's table)", "eventreg/geo/countries.py", "countries"),
    ("    validate_on_submit()", "flask_wtf/form.py", "validate_on_submit"),
    ("      CSRF token check", "flask_wtf/csrf.py", "validate_csrf"),
    ("      our validators (EmailAddress, SingleLine, HasLetter…)", "eventreg/forms.py", "__call__"),
    ("      email_validator.validate_email", "email_validator/validate_email.py", "validate_email"),
    ("      SelectField.pre_validate (choices)", "wtforms/fields/choices.py", "pre_validate"),
    ("    babel get_locale()", "flask_babel/__init__.py", "get_locale"),
    ("    register_delegate()", "registration/services.py", "register_delegate"),
    ("      lock_event()", "", "lock_event"),
    ("      active_registration()", "registration/services.py", "active_registration"),
    ("      stats.seats_taken() (count under the lock)", "stats/aggregates.py", "seats_taken"),
    ("      decide_status()", "eventreg/registration/capacity.py", "decide_status"),
    ("      Registration() (validators: keys)", "sqlalchemy/orm/state.py", "_initialize_instance"),
    ("        seal() (the private token, Fernet)", "eventreg/data_keys.py", "seal"),
    ("      Session.flush()", "sqlalchemy/orm/session.py", "flush"),
    ("        before_flush hook (stats_version)", "models/registration.py", "_bump_stats_version"),
    ("        before_flush hook (counters)", "models/registration.py", "_keep_event_counters"),
    ("      queue_mail()", "mail/queue.py", "queue_mail"),
    ("      Session.commit()", "sqlalchemy/orm/session.py", "commit"),
    ("    _submitted() (masked address in the session)", "registration/views.py", "_submitted"),
    ("    url_for() + redirect()", "flask/helpers.py", "url_for"),
    ("  after_request: security headers", "eventreg/security.py", "_set_headers"),
    ("  save the session cookie", "flask/sessions.py", "save_session"),
    ("  teardown: remove the scoped session", "sqlalchemy/orm/scoping.py", "remove"),
    ("psycopg cursor.execute (all statements)", "psycopg/cursor.py", "execute"),
]


def rush_event(app) -> RushEvent:
    """bench.rush's event as it is now (restored at the end, with the last registration id before this run)."""
    events = Event.__table__
    with app.app_context(), db.engine.connect() as connection:
        row = (
            connection.execute(select(events).where(events.c.slug.like("registration-rush%")).order_by(events.c.id))
            .mappings()
            .first()
        )
        if row is None:
            raise SystemExit("No rush event in this database: run `python -m bench.rush` first, or use --fresh.")
        last_id = connection.scalar(select(func.coalesce(func.max(Registration.id), 0)))
    return RushEvent(row["id"], row["slug"], dict(row), last_id)


def form_client(app, path: str):
    """A test client that has fetched the form once: (client, the fixed fields with the CSRF token, the cookie).

    Like wrk, the client sends that first session cookie with every POST and ignores the ones it gets back
    (with a cookie jar the session would collect one flash message per POST and grow without end)."""
    client = app.test_client(use_cookies=False)
    response = client.get(path)
    fields = dict(REGISTRATION_FIELDS)
    fields["csrf_token"] = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', response.text).group(1)
    cookie = response.headers["Set-Cookie"].split(";")[0]
    return client, fields, cookie


def post(client, path: str, fields: dict, cookie: str, number: int) -> None:
    """POST one registration with its own email address; it must answer 303 to the submitted page."""
    data = {**fields, "email": f"profile-{number}@example.org", "submission": f"profile_{number}"}
    response = client.post(path, data=data, headers={"Cookie": cookie})
    location = response.headers.get("Location", "")
    if str(response.status_code) != ANSWER_STATUS or not location.endswith(submitted_path(path)):
        raise SystemExit(f"POST answered {response.status_code} to {location!r}: {response.text[:500]}")


def part_times(stats: pstats.Stats, requests: int) -> list[tuple[str, float | None]]:
    """Cumulative milliseconds per request of each part of PARTS (None when the function is not in the profile)."""
    rows = []
    for label, path_end, name in PARTS:
        total = None
        for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
            if function == name and filename.endswith(path_end.split("/")[-1]) and path_end in filename:
                total = (total or 0.0) + cumulative
        rows.append((label, None if total is None else total * 1000 / requests))
    return rows


@contextmanager
def locked_sections(app):
    """Collect the milliseconds from each SELECT … FOR UPDATE (the event's lock) to the end of its COMMIT."""
    held: list[float] = []
    locked_at: list[float] = []

    def after_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FOR UPDATE" in statement:
            locked_at[:] = [time.perf_counter()]

    def after_commit(session):
        if locked_at:
            held.append((time.perf_counter() - locked_at.pop()) * 1000)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", after_execute)
    event.listen(Session, "after_commit", after_commit)
    try:
        yield held
    finally:
        event.remove(engine, "after_cursor_execute", after_execute)
        event.remove(Session, "after_commit", after_commit)


def package_times(stats: pstats.Stats, requests: int) -> list[tuple[str, float]]:
    """Own time (tottime) per request summed by package: sqlalchemy, psycopg, wtforms, eventreg, the stdlib…"""
    totals: dict[str, float] = {}
    for (filename, _line, _function), (_cc, _nc, own, _cumulative, _callers) in stats.stats.items():
        if "site-packages/" in filename:
            package = filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
        elif "/eventreg/" in filename:
            package = "eventreg"
        elif filename.startswith("~") or filename.startswith("<"):
            package = "builtins (C functions)"
        else:
            package = "Python stdlib"
        totals[package] = totals.get(package, 0.0) + own
    return sorted(((name, total * 1000 / requests) for name, total in totals.items()), key=lambda row: -row[1])


def main() -> None:
    """Time, list the SQL of, and profile the registration POST."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sql", action="store_true", help="list the statements of one registration")
    parser.add_argument("--profile", action="store_true", help="cProfile the N POSTs (CPU time; --wall for wall)")
    parser.add_argument("--wall", action="store_true", help="profile wall time instead of this process's CPU time")
    parser.add_argument("--top", type=int, default=25, help="functions to list by own time")
    parser.add_argument("--fresh", action="store_true", help="build a fresh schema and rush event first (drops all)")
    parser.add_argument("--existing", type=int, default=0, help="with --fresh: registrations already in the event")
    parser.add_argument("--capacity", type=int, default=100_000, help="with --fresh: seats free (1: the rest wait)")
    options = parser.parse_args()

    config = {"SQLALCHEMY_DATABASE_URI": options.database_url, "SECRET_KEY": "rush-profile-secret-key"}
    config.update(RATELIMIT_ENABLED=False, SERVER_NAME="localhost", MAIL_FILE_DIR=str(BENCH_DIR / "mail"))
    app = create_app(config, instance_path=str(BENCH_DIR / "instance"))
    if options.fresh:
        empty_database(app)
        create_schema(app, migrate=False)
        prepare_event(app, options.existing, free_seats=options.capacity)
    event = rush_event(app)
    path = f"/e/{event.slug}/register"
    client, fields, cookie = form_client(app, path)
    try:
        for number in range(20):  # warm-up: templates, prepared statements, caches
            post(client, path, fields, cookie, -number - 1)
        seconds = []
        cpu_started = time.process_time()
        with locked_sections(app) as held:
            for number in range(options.requests):
                started = time.perf_counter()
                post(client, path, fields, cookie, number)
                seconds.append(time.perf_counter() - started)
        cpu = (time.process_time() - cpu_started) * 1000 / options.requests
        stats, lock = milliseconds(seconds), milliseconds([value / 1000 for value in held] or [0.0])
        print(
            f"POST {path}: median {stats['median']:.2f} ms, p95 {stats['p95']:.2f} ms wall; "
            f"{cpu:.2f} ms CPU of this process per POST (n={stats['n']}, in-process, one after the other); "
            f"event locked for median {lock['median']:.2f} ms, p95 {lock['p95']:.2f} ms (n={lock['n']})"
        )
        if options.sql:
            with sql_timings(app) as timings:
                post(client, path, fields, cookie, 10**6)
            print("Statements of one registration:")
            print_sql(timings, width=400)
        if options.profile:
            profiler = cProfile.Profile(time.perf_counter if options.wall else time.process_time)
            profiler.enable()
            for number in range(options.requests):
                post(client, path, fields, cookie, 2 * 10**6 + number)
            profiler.disable()
            profile = pstats.Stats(profiler)
            parts = part_times(profile, options.requests)
            whole = parts[0][1] or 1.0
            clock = "wall time" if options.wall else "CPU time of this process"
            print(f"\n{clock} per request under cProfile (n={options.requests}; cProfile slows Python code ~2×):")
            for label, value in parts:
                cells = "–" if value is None else f"{value:7.2f} ms  {100 * value / whole:5.1f} %"
                print(f"  {label:<52} {cells}")
            print("\nOwn time per request by package:")
            for package, value in package_times(profile, options.requests)[:12]:
                print(f"  {package:<52} {value:7.2f} ms  {100 * value / whole:5.1f} %")
            print()
            profile.sort_stats("tottime").print_stats(options.top)
    finally:
        reset(app, event)  # the registrations made here go, the event's row (counters included) is put back


if __name__ == "__main__":
    main()
