"""Registration rush: many delegates POST the registration form of one event at once, through gunicorn, on PostgreSQL.

    .venv/bin/python -m bench.rush [--database-url URL] [--workers 2,4,8] [--connections 16,32,64]
        [--seconds 20] [--capacity 100000] [--existing 0] [--worker-class sync|gthread --threads 4] [--json FILE]

Builds a fresh schema in the database (its `public` schema is dropped: never point it at a database you care
about), creates one event with a capacity and optionally `--existing` registrations in it (bench.seed's data), then
for each worker count starts two gunicorn servers side by side: the app (`app:app`, configured through FLASK_*
variables as in production, CSRF on, rate limits off) and the floor (bench/floor_app.py: raw psycopg, same work
in the database). wrk (`bench/rush.lua`, `-t2`) POSTs valid registrations, each with its own email address,
reusing one session cookie and CSRF token fetched from GET /e/<slug>/register, at each connection count.

Accepted registrations are counted in the database (rows created while wrk ran / that time), beside wrk's
requests/s, the responses that were not the 303 to /e/<slug>/submitted (every valid POST's one answer), and the
POST's latency percentiles; and the CPU time per registration
of the server's workers, of the PostgreSQL backends serving the database and of wrk (from /proc: on a machine
shared with other work, the figure that depends least on the load). After every run the event's rows are checked
(seats held within capacity, one outbox mail per registration, the seat counter when there is one), then the run's
rows are deleted and the event row restored, so every run starts from the same state. BENCH_DATABASE_URL sets the
default database.
"""

import argparse
import json
import os
import time
from urllib.parse import urlencode

from eventreg.models import utcnow

from .common import BENCH_DIR, data_keys_setting, environment, make_app
from .loadtest import (
    ANSWER_STATUS,
    REGISTRATION_FIELDS,
    children_cpu_seconds,
    cpu_seconds,
    gunicorn,
    registration_form,
    run_wrk,
    submitted_path,
    unexpected_answers,
)
from .rush_event import backend_pids, outcome, prepare_event, reset, settle
from .seed import create_schema, empty_database

DEFAULT_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
WARM_UP_SECONDS = 3


def numbers(value: str) -> list[int]:
    """'2,4,8' → [2, 4, 8]."""
    return [int(part) for part in value.split(",") if part]


def describe_run(result: dict) -> str:
    """One line of the report."""
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(result["by_status"].items()))
    errors = sum(result["errors"].values())
    return (
        f"{result['target']:<5} {result['server']:<12} c={result['connections']:<3} "
        f"accepted {result['accepted_per_s']:7.1f}/s  requests {result['requests_per_s']:7.1f}/s  "
        f"not {ANSWER_STATUS}→submitted {result['unexpected']} socket errors {errors}  "
        f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
        f"CPU ms/registration: server {result['cpu_ms_server']:.1f}, postgres {result['cpu_ms_postgres']:.1f}, "
        f"wrk {result['cpu_ms_wrk']:.1f}  load {result['load']:.1f}"
        f"  ({statuses}){'  PROBLEMS: ' + '; '.join(result['problems']) if result['problems'] else ''}"
    )


def main() -> None:
    """Prepare the database, run the rush against the app and the floor, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL URL (default: %(default)s)")
    parser.add_argument("--workers", type=numbers, default=[2, 4, 8], help="gunicorn worker counts (default 2,4,8)")
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--connections", type=numbers, default=[16, 32, 64], help="wrk connections (16,32,64)")
    parser.add_argument("--seconds", type=int, default=20, help="length of each wrk run")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--capacity", type=int, default=100_000, help="seats free when each run starts")
    parser.add_argument("--existing", type=int, default=0, help="registrations already in the event")
    parser.add_argument("--targets", default="app,floor", help="app, floor or both (default: %(default)s)")
    parser.add_argument("--migrate", action="store_true", help="build the schema with the migrations")
    parser.add_argument("--json", help="also write the numbers to this file")
    options = parser.parse_args()
    if not options.database_url.startswith("postgresql"):
        raise SystemExit("The rush needs PostgreSQL (the floor is raw psycopg).")

    run_dir = BENCH_DIR / "rush"
    run_dir.mkdir(parents=True, exist_ok=True)
    app = make_app(options.database_url)
    empty_database(app)
    create_schema(app, options.migrate)
    event = prepare_event(app, options.existing, options.capacity)
    path = f"/e/{event.slug}/register"
    server = options.worker_class + (f"×{options.threads}" if options.worker_class == "gthread" else "")
    print(f"# Registration rush on {path}: {options.existing:,} registrations already, {options.capacity:,} seats free")
    app_env = {
        "FLASK_SQLALCHEMY_DATABASE_URI": options.database_url,
        "FLASK_SECRET_KEY": "rush-bench-secret-key",
        "FLASK_SERVER_NAME": "127.0.0.1:{port}",
        "FLASK_RATELIMIT_ENABLED": "false",
        "FLASK_MAIL_FILE_DIR": str(BENCH_DIR / "mail"),
        "FLASK_DATA_KEYS": data_keys_setting(app),
    }
    floor_env = {"FLOOR_DATABASE_URL": options.database_url, "FLOOR_DATA_KEYS": data_keys_setting(app)}
    targets = options.targets.split(",")
    log = run_dir / "gunicorn.log"
    results = []
    for workers in options.workers:
        kind = {"worker_class": options.worker_class, "threads": options.threads}
        with (
            gunicorn("app:app", workers, app_env, log, ready_path=path, **kind) as app_server,
            gunicorn("bench.floor_app:app", workers, floor_env, log, **kind) as floor_server,
        ):
            servers = {"app": app_server, "floor": floor_server}
            for target in targets:  # the first requests of a worker compile templates and prepare statements
                cookie, body = registration_form(app_server.url, path)
                run_wrk(
                    servers[target].url, path, cookie, body, f"warm{target}", options.connections[0], WARM_UP_SECONDS, 2
                )
                settle(app, event)
                reset(app, event)
            for connections in options.connections:
                for target in targets:
                    run = f"{target}w{workers}c{connections}t{int(time.time())}"
                    result = measure(app, event, servers[target], target, run, connections, options)
                    result["server"] = f"-w {workers} {server}"
                    results.append(result)
                    print(describe_run(result), flush=True)
    print_summary(results)
    print(f"# {environment(app)}")
    if options.json:
        with open(options.json, "w") as handle:
            json.dump({"environment": environment(app), "options": vars(options), "runs": results}, handle, indent=1)


def measure(app, event, server, target: str, run: str, connections: int, options) -> dict:
    """One wrk run against one server; its numbers, after the rows are counted and checked and the event reset.

    CPU per registration: the server's workers, the PostgreSQL backends connected to the database and wrk, from
    /proc and getrusage, divided by the registrations the run made (those answered after wrk stopped included)."""
    path = f"/e/{event.slug}/register"
    if target == "app":
        cookie, body = registration_form(server.url, path)
    else:
        cookie, body = "", urlencode(REGISTRATION_FIELDS)  # the floor reads no token
    workers, backends = server.worker_pids(), backend_pids(app)
    cpu_before = cpu_seconds([*workers, *backends])
    wrk_before = children_cpu_seconds()
    started = utcnow()
    summary = run_wrk(server.url, path, cookie, body, run, connections, options.seconds, options.wrk_threads)
    ended = utcnow()
    wrk_cpu = children_cpu_seconds() - wrk_before
    settle(app, event)
    backends = sorted(set(backends) | set(backend_pids(app)))
    cpu_after = cpu_seconds([*workers, *backends])
    found = outcome(app, event, started, ended)
    reset(app, event)
    made = max(1, sum(found.by_status.values()))

    def cpu_ms(pids) -> float:
        return 1000 * sum(cpu_after.get(pid, 0) - cpu_before.get(pid, 0) for pid in pids) / made

    seconds = summary["duration_us"] / 1e6
    latency = summary["latency_us"]
    unexpected = unexpected_answers(summary)
    return {
        "target": target,
        "connections": connections,
        "by_status": found.by_status,
        "accepted_per_s": found.in_window / (ended - started).total_seconds(),
        "requests_per_s": summary["requests"] / seconds,
        "statuses": summary["statuses"],
        "unexpected": unexpected,
        "errors": summary["errors"],
        **{f"{name}_ms": latency[name] / 1000 for name in ("p50", "p90", "p99", "max")},
        "cpu_ms_server": cpu_ms(workers),
        "cpu_ms_postgres": cpu_ms(backends),
        "cpu_ms_wrk": 1000 * wrk_cpu / made,
        # Rate limits are off for the load (FLASK_RATELIMIT_ENABLED=false): a 429 would mean they were not.
        "problems": found.problems
        + ([f"{summary['statuses']['429']} answers were 429"] if "429" in summary["statuses"] else [])
        + ([f"{unexpected} answers were not the {ANSWER_STATUS} to {submitted_path(path)}"] if unexpected else []),
        "load": os.getloadavg()[0],
    }


def print_summary(results: list[dict]) -> None:
    """The app's accepted registrations per second as a share of the floor's, per server and connection count."""
    floors = {(r["server"], r["connections"]): r for r in results if r["target"] == "floor"}
    print("\n| server | conns | app accepted/s | app p50 / p99 ms | floor acc/s | floor p50 / p99 ms | app/floor |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for run in (r for r in results if r["target"] == "app"):
        floor = floors.get((run["server"], run["connections"]))
        share = f"{100 * run['accepted_per_s'] / floor['accepted_per_s']:.0f} %" if floor else "–"
        floor_cells = (
            f"{floor['accepted_per_s']:.0f} | {floor['p50_ms']:.0f} / {floor['p99_ms']:.0f}" if floor else "– | –"
        )
        print(
            f"| {run['server']} | {run['connections']} | {run['accepted_per_s']:.0f} | "
            f"{run['p50_ms']:.0f} / {run['p99_ms']:.0f} | {floor_cells} | {share} |"
        )


if __name__ == "__main__":
    main()
