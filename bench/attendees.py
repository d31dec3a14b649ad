"""Time the attendee list of the seeded event: searches, filters, sorts and a deep page.

    .venv/bin/python -m bench.attendees [--database-url URL] [--requests 10] [--explain]

Server time is the time around `client.get` of the Flask test client, after one warm-up request per view.
--explain prints the database's plan for each view's SELECT (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on
PostgreSQL), built with the list's own AttendeeFilter.
"""

import argparse
import time

from flask import url_for
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from eventreg.extensions import db
from eventreg.models import Event

from .common import (
    bench_event,
    database_argument,
    describe,
    environment,
    logged_in_client,
    make_app,
    milliseconds,
    print_sql,
    sql_timings,
)

# (what it shows, query string): searches in several scripts, each filter kind, sorts, and search plus filter.
VIEWS = [
    ("default (newest first, page 1)", {}),
    ("search a Latin name: müller", {"q": "müller"}),
    ("search a CJK name: 王", {"q": "王"}),
    ("search an institution word: observatory", {"q": "observatory"}),
    ("search with no match: zzzz", {"q": "zzzz"}),
    ("search two words: weiß academy", {"q": "weiß academy"}),
    ("filter status=pending", {"status": "pending"}),
    ("filter country=CN, sort by name", {"country": "CN", "sort": "name"}),
    ("filter continent=Africa + visa letter", {"continent": "Africa", "visa_letter": "yes"}),
    ("search müller + country=DE, by name", {"q": "müller", "country": "DE", "sort": "name"}),
    ("sort by country", {"sort": "country"}),
    ("page 1000 (newest first)", {"page": "1000"}),
]


def explain(app, event_id: int, query: dict) -> str:
    """The database's plan for the list's SELECT with this query string."""
    from eventreg.attendees.filters import AttendeeFilter

    attendee_filter, _problems = AttendeeFilter.from_args(MultiDict(query))
    with app.app_context():
        event = db.session.get(Event, event_id)
        statement = attendee_filter.select(event).limit(50)
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        if db.engine.dialect.name == "postgresql":
            rows = db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).all()
            return "\n".join(f"    {row[0]}" for row in rows)
        rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return "\n".join(f"    {row[-1]}" for row in rows)


def main() -> None:
    """Time every view and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    database_argument(parser)
    parser.add_argument("--requests", type=int, default=10, help="timed requests per view (after 1 warm-up)")
    parser.add_argument("--explain", action="store_true", help="print each view's query plan")
    parser.add_argument("--sql", action="store_true", help="print each statement's time of one request per view")
    parser.add_argument("--json", help="also write the numbers to this file")
    options = parser.parse_args()

    app = make_app(options.database_url)
    event = bench_event(app)
    client = logged_in_client(app)
    print(f"# Attendee list of {event.slug} — {environment(app)}")
    results = {}
    for label, query in VIEWS:
        with app.test_request_context():
            url = url_for("attendees.list_registrations", slug=event.slug, **query)
        seconds = []
        for attempt in range(options.requests + 1):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"GET {url} answered {response.status_code}: {response.text[:300]}")
            if attempt:
                seconds.append(elapsed)
        results[label] = {"url": url, **milliseconds(seconds)}
        print(describe(label, results[label]))
        if options.sql:
            with sql_timings(app) as timings:
                client.get(url)
            print_sql(timings)
        if options.explain and "page" not in query:
            print(explain(app, event.id, query))
    if options.json:
        import json

        with open(options.json, "w") as handle:
            json.dump({"environment": environment(app), "attendees": results}, handle)


if __name__ == "__main__":
    main()
