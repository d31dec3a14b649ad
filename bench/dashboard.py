"""Time the dashboard of the seeded event, and beside it the raw aggregate queries it is made of.

    .venv/bin/python -m bench.dashboard [--database-url URL] [--requests 50] [--profile]

Server time is the time around `client.get` of the Flask test client (no network, no browser):
- cold: the process's first request (templates compiled, empty cache);
- cached: N requests after one warm-up;
- uncached: requests after clearing the stats cache (when the app has one), warm process;
- after a registration: one new registration through `register_delegate` (which moves stats_version on),
  then the next request. The added registrations are removed at the end.
The raw aggregates are the public functions of eventreg.stats.aggregates that take an event id, called directly.
"""

import argparse
import cProfile
import importlib
import inspect
import io
import json
import pstats
import secrets
import time

from flask import url_for
from sqlalchemy import delete, select

from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, OutboxMessage, Registration

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


def dashboard_url(app, slug: str) -> str:
    """The dashboard's path, from the URL map."""
    with app.test_request_context():
        return url_for("organizer.dashboard", slug=slug)


def timed_get(client, url: str) -> float:
    """Seconds for one GET; fails loudly on anything but 200."""
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}: {response.text[:500]}")
    return elapsed


def other_readers(app, slug: str, requests: int) -> dict[str, dict]:
    """Cached timings of the other pages that read the same numbers (the public counter), when they exist."""
    client = app.test_client()  # anonymous, as the public is
    results = {}
    for endpoint in ("counter.delegates", "counter.delegates_json"):
        if endpoint not in app.view_functions:
            continue
        with app.test_request_context():
            url = url_for(endpoint, slug=slug)
        timed_get(client, url)  # warm-up
        results[f"{url} (public, cached)"] = milliseconds([timed_get(client, url) for _ in range(requests)])
    return results


def stats_cache(app):
    """A function that empties the app's stats cache, or None when the app has no such cache."""
    try:
        cache = importlib.import_module("eventreg.stats.cache")
    except ImportError:
        return None

    def clear():
        with app.app_context():
            cache.app_cache().clear()

    return clear if hasattr(cache, "app_cache") else None


def aggregate_functions():
    """(label, function) for every public aggregate of the stats package that takes an event id."""
    for name in ("eventreg.stats.aggregates", "eventreg.stats"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        found = []
        for label, function in inspect.getmembers(module, inspect.isfunction):
            parameters = list(inspect.signature(function).parameters)
            if function.__module__ == module.__name__ and not label.startswith("_") and parameters[:1] == ["event_id"]:
                found.append((label, function))
        if found:
            return found
    return []


def time_aggregates(app, event, repeats: int) -> list[tuple[str, dict]]:
    """Median/p95/max of each raw aggregate query, and of the report's full uncached computation when it has one."""
    results = []
    with app.test_request_context():  # delegates_per_country() names flags with url_for()
        event = db.session.get(Event, event.id)
        candidates = []
        for label, function in aggregate_functions():
            extra = _extra_arguments(function)
            if extra is None:
                print(f"  (skipped {label}(): it needs arguments this benchmark does not know)")
                continue
            shown = ", ".join(f"{name}={value}" for name, value in extra.items())
            candidates.append((f"{label}({shown})", lambda f=function, kw=extra: f(event.id, **kw)))
        report = _optional_module("eventreg.stats.report")
        if report is not None and hasattr(report, "_recount"):  # the tallies (0015) and the recount beside them
            candidates.append(("ALL: report._compute() (from the tallies: a miss)", lambda: report._compute(event)))
            candidates.append(("ALL: report._recount() (every aggregate)", lambda: report._recount(event)))
        elif report is not None and hasattr(report, "_compute"):
            candidates.append(("ALL: report._compute() (every aggregate)", lambda: report._compute(event)))
        for label, call in candidates:
            call()  # warm: statement compiled, pages in the database's cache
            seconds = []
            for _ in range(repeats):
                started = time.perf_counter()
                call()
                seconds.append(time.perf_counter() - started)
            results.append((label, milliseconds(seconds)))
            db.session.rollback()
    return results


# Values for aggregates' parameters beyond the event id: the seeded event's timezone (Asia/Shanghai) is a whole
# number of hours from UTC, so its daily series is counted per hour.
KNOWN_ARGUMENTS = {"slot_seconds": 3600}


def _extra_arguments(function) -> dict | None:
    """Keyword arguments for the required parameters after the event id, or None when one is unknown."""
    extra = {}
    for parameter in list(inspect.signature(function).parameters.values())[1:]:
        if parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.name not in KNOWN_ARGUMENTS:
            return None
        extra[parameter.name] = KNOWN_ARGUMENTS[parameter.name]
    return extra


def _optional_module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def add_registration(app, event) -> int:
    """Register one more delegate through the real service (one transaction, stats_version moved on)."""
    from eventreg.registration.services import DelegateDetails, register_delegate

    details = DelegateDetails(
        honorific="Dr.",
        given_name="Extra",
        family_name="Delegate",
        native_name="",
        email=f"bench.extra.{secrets.token_hex(6)}@example.org",
        institution="National Academy of Sciences, Kenya",
        position="",
        country="KE",
        category="delegate",
        accompanying=0,
        dietary="",
        accessibility="",
        visa_letter=False,
    )
    with app.app_context():
        return register_delegate(event.id, details, language="en").id


def remove_registrations(app, ids: list[int]) -> None:
    """Delete the registrations this benchmark added, with their queued mail and audit entries."""
    if not ids:
        return
    with app.app_context():
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.registration_id.in_(ids)))
        db.session.execute(delete(AuditEntry).where(AuditEntry.registration_id.in_(ids)))
        for registration in db.session.scalars(select(Registration).where(Registration.id.in_(ids))):
            db.session.delete(registration)  # through the ORM, so stats_version moves on
        db.session.commit()


def profile_request(client, url: str, clear_cache) -> str:
    """The 25 most expensive calls (cumulative) of one request, with an empty cache when it can be emptied."""
    if clear_cache:
        clear_cache()
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def main() -> None:
    """Run every measurement and print a report (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    database_argument(parser)
    parser.add_argument("--requests", type=int, default=50, help="cached requests timed (after 1 warm-up)")
    parser.add_argument("--invalidations", type=int, default=5, help="new registrations, each followed by a request")
    parser.add_argument("--repeats", type=int, default=20, help="runs of each raw aggregate")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one uncached request")
    parser.add_argument("--sql", action="store_true", help="print each statement's time of one uncached request")
    parser.add_argument("--json", help="also write the numbers to this file")
    options = parser.parse_args()

    app = make_app(options.database_url)
    event = bench_event(app)
    client = logged_in_client(app)
    url = dashboard_url(app, event.slug)
    clear_cache = stats_cache(app)
    results: dict[str, dict] = {}

    results["cold (first request of the process)"] = milliseconds([timed_get(client, url)])
    timed_get(client, url)  # warm-up
    results["cached"] = milliseconds([timed_get(client, url) for _ in range(options.requests)])
    if clear_cache:
        uncached = []
        for _ in range(max(options.invalidations, 10)):
            clear_cache()
            uncached.append(timed_get(client, url))
        results["uncached (cache emptied, warm process)"] = milliseconds(uncached)
    added, after = [], []
    try:
        for _ in range(options.invalidations):
            added.append(add_registration(app, event))
            after.append(timed_get(client, url))
        results["first request after a new registration"] = milliseconds(after)
        results["cached again after it"] = milliseconds([timed_get(client, url) for _ in range(10)])
    finally:
        remove_registrations(app, added)

    results.update(other_readers(app, event.slug, options.requests))
    aggregates = time_aggregates(app, event, options.repeats)
    print(f"# Dashboard of {event.slug} — {environment(app)}")
    print(f"GET {url}")
    for label, numbers in results.items():
        print(describe(f"{label} (n={numbers['n']})", numbers))
    print("\nRaw aggregates, uncached, called directly:")
    for label, numbers in aggregates:
        print(describe(f"  {label}", numbers))
    raw_sum = sum(numbers["median"] for label, numbers in aggregates if not label.startswith("ALL"))
    print(f"  sum of the medians of every single aggregate above (the dashboard may not use all): {raw_sum:.1f} ms")
    if options.sql:
        if clear_cache:
            clear_cache()
        print("\nSQL of one request with an empty cache:")
        with sql_timings(app) as timings:
            client.get(url)
        print_sql(timings)
        print("SQL of one cached request:")
        with sql_timings(app) as timings:
            client.get(url)
        print_sql(timings)
    if options.profile:
        print("\n" + profile_request(client, url, clear_cache))
    if options.json:
        with open(options.json, "w") as handle:
            json.dump({"environment": environment(app), "dashboard": results, "aggregates": dict(aggregates)}, handle)


if __name__ == "__main__":
    main()
