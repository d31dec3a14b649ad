"""Registration rush with the outbox worker running: a fast SMTP sink against a server that takes 2 s per mail.

    .venv/bin/python -m bench.slow_smtp_rush --database-url URL [--workers 4] [--connections 16] [--seconds 20]
        [--delay 2] [--repeat 2] [--json FILE]

Mail is never on the registration's path: the POST only adds a row to the outbox. This shows it. One gunicorn
server (the app, configured through FLASK_* variables as in production, CSRF on) takes wrk's registrations
(bench/rush.lua) while one `flask outbox-worker` process sends the confirmations to a local SMTP server
(bench/smtp_sink.py) that answers at once ("fast") or only after `--delay` seconds per mail ("slow"). The runs
alternate fast, slow, fast, slow… (`--repeat` pairs) on the same server, and the report sets the POST's latency
percentiles of the slow runs beside the fast ones. After each run the worker is stopped (SIGTERM: it finishes the
mail in hand), the mails it sent are counted, and the run's rows are deleted (bench.rush_event.reset).

Builds a fresh schema in the database (its `public` schema is dropped: never point it at a database you care
about). BENCH_DATABASE_URL sets the default database.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import delete, func, select

from eventreg.extensions import db
from eventreg.models import OutboxAttempt, OutboxMessage, utcnow

from .common import BENCH_DIR, data_keys_setting, environment, make_app
from .loadtest import REPOSITORY, gunicorn, registration_form, run_wrk, unexpected_answers
from .rush_event import new_rows, outcome, prepare_event, reset, settle
from .seed import create_schema, empty_database
from .smtp_sink import smtp_sink

DEFAULT_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
FLASK = Path(sys.executable).with_name("flask")


def start_worker(database_url: str, data_keys: str, smtp_port: int, log_path: Path) -> subprocess.Popen:
    """`flask outbox-worker` sending to the SMTP server on `smtp_port`, as production runs it; `data_keys` (the
    app's FLASK_DATA_KEYS) open the private links it puts in the mails."""
    env = {
        **os.environ,
        "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
        "FLASK_SECRET_KEY": "rush-bench-secret-key",
        "FLASK_SERVER_NAME": "register.example.org",
        "FLASK_MAIL_SERVER": "127.0.0.1",
        "FLASK_MAIL_PORT": str(smtp_port),
        "FLASK_OUTBOX_POLL_SECONDS": "0.5",
        "FLASK_DATA_KEYS": data_keys,
    }
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [str(FLASK), "--app", "app", "outbox-worker"], cwd=REPOSITORY, env=env, stdout=log, stderr=log
        )


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM, as a deployment stops it: the mail in hand is finished (up to the slow server's delay)."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise SystemExit("the outbox worker did not stop within a minute of SIGTERM") from None


def mails_of_run(app, event) -> tuple[int, int]:
    """(mails queued, mails sent) for the registrations the run made."""
    with app.app_context():
        made = OutboxMessage.registration_id.in_(new_rows(event))
        queued = db.session.scalar(select(func.count()).where(made))
        sent = db.session.scalar(select(func.count()).where(made, OutboxMessage.state == "sent"))
        # The attempts point at the messages that reset() deletes with the registrations.
        messages = select(OutboxMessage.id).where(made)
        db.session.execute(delete(OutboxAttempt).where(OutboxAttempt.message_id.in_(messages)))
        db.session.commit()
        return queued, sent


def one_run(app, event, server_url: str, mode: str, delay: float, options, log_path: Path) -> dict:
    """wrk against the app while the worker sends to a sink answering after `delay` seconds; the run's numbers."""
    path = f"/e/{event.slug}/register"
    with smtp_sink(delay) as sink:
        worker = start_worker(options.database_url, data_keys_setting(app), sink.port, log_path)
        try:
            cookie, body = registration_form(server_url, path)
            started = utcnow()
            summary = run_wrk(
                server_url, path, cookie, body, f"{mode}{int(time.time())}", options.connections, options.seconds, 2
            )
            ended = utcnow()
        finally:
            stop_worker(worker)
    settle(app, event)
    found = outcome(app, event, started, ended)
    queued, sent = mails_of_run(app, event)
    reset(app, event)
    latency = summary["latency_us"]
    return {
        "mode": mode,
        "delay_s": delay,
        "accepted_per_s": found.in_window / (ended - started).total_seconds(),
        "unexpected": unexpected_answers(summary),  # answers other than the 303 to the submitted page
        **{f"{name}_ms": latency[name] / 1000 for name in ("p50", "p90", "p99", "max")},
        "mails_queued": queued,
        "mails_sent": sent,
        "sink_count": sink.count,
        "problems": found.problems,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    """Prepare the event, start the app, alternate fast and slow runs, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL URL (a throwaway database)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--seconds", type=int, default=20, help="length of each wrk run (default 20)")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds the slow server takes per mail (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="fast/slow pairs (default 2)")
    parser.add_argument("--json", help="also write the numbers to this file")
    options = parser.parse_args()
    if not options.database_url.startswith("postgresql"):
        raise SystemExit("Give a throwaway PostgreSQL database: --database-url or BENCH_DATABASE_URL.")

    run_dir = BENCH_DIR / "slow-smtp-rush"
    run_dir.mkdir(parents=True, exist_ok=True)
    app = make_app(options.database_url)
    empty_database(app)
    create_schema(app, migrate=False)
    event = prepare_event(app, 0, 100_000)
    path = f"/e/{event.slug}/register"
    app_env = {
        "FLASK_SQLALCHEMY_DATABASE_URI": options.database_url,
        "FLASK_SECRET_KEY": "rush-bench-secret-key",
        "FLASK_SERVER_NAME": "127.0.0.1:{port}",
        "FLASK_RATELIMIT_ENABLED": "false",
        "FLASK_DATA_KEYS": data_keys_setting(app),
    }
    log_path = run_dir / "servers.log"
    results = []
    with gunicorn("app:app", options.workers, app_env, log_path, ready_path=path) as server:
        cookie, body = registration_form(server.url, path)  # warm up: templates compiled, statements prepared
        run_wrk(server.url, path, cookie, body, "warm", options.connections, 3, 2)
        settle(app, event)
        mails_of_run(app, event)
        reset(app, event)
        for _ in range(options.repeat):
            for mode, delay in (("fast", 0.0), ("slow", options.delay)):
                result = one_run(app, event, server.url, mode, delay, options, log_path)
                results.append(result)
                print(
                    f"{mode:<4} accepted {result['accepted_per_s']:6.1f}/s  not 303→submitted {result['unexpected']}  "
                    f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
                    f"mails sent {result['mails_sent']}/{result['mails_queued']}  load {result['load']:.1f}  "
                    f"{'; '.join(result['problems'])}",
                    flush=True,
                )
    p99 = {mode: statistics.mean(r["p99_ms"] for r in results if r["mode"] == mode) for mode in ("fast", "slow")}
    print(
        f"\nmean p99: fast {p99['fast']:.1f} ms, slow {p99['slow']:.1f} ms: slow/fast {p99['slow'] / p99['fast']:.2f}"
    )
    print(f"# {environment(app)}")
    if options.json:
        with open(options.json, "w") as handle:
            json.dump({"environment": environment(app), "options": vars(options), "runs": results}, handle, indent=1)


if __name__ == "__main__":
    main()
