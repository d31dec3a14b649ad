"""Mail drain: how fast the outbox worker sends queued confirmation mails, beside plain smtplib.

    .venv/bin/python -m bench.mail_drain [--database-url URL] [--messages 2000] [--workers 1] [--json FILE]

Builds a fresh schema in the database (PostgreSQL: its `public` schema is dropped; never point it at a database you
care about; the default is an SQLite file under the benchmark folder), registers `--messages` delegates through the
service (each queues its confirmation mail), and starts a local SMTP sink in its own process (bench/smtp_sink.py).

1. Drain: the real worker code (`deliver_due` over one kept SmtpTransport, as `flask outbox-worker` runs it)
   sends every queued mail: claim, compose exactly as production does (text, HTML and whatever attachments
   compose() adds, e.g. the QR code and .ics of the ticket), send, record the attempt, commit; one by one.
   With `--workers N` (PostgreSQL), N processes do it side by side, as N `flask outbox-worker` would.
2. Baseline in the same run: the same mails composed once more into bytes beforehand (timed apart, as "render"),
   then sent by plain smtplib over one connection to the same sink: the floor for sending alone.

Prints mails per second of each, the drain as a share of the baseline, and the MIME parts of the first mail (so a
reader sees which attachments were rendered). BENCH_DATABASE_URL sets the default database.
"""

import argparse
import email
import email.policy
import json
import multiprocessing
import os
import smtplib
import time
from datetime import timedelta

from sqlalchemy import func, select

from eventreg import create_app
from eventreg.events.services import create_event
from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.mail.transport import SmtpTransport
from eventreg.mail.worker import deliver_due
from eventreg.models import OutboxAttempt, OutboxMessage, utcnow
from eventreg.registration.services import DelegateDetails, register_delegate

from .common import BENCH_DIR, environment
from .seed import create_schema, empty_database
from .smtp_sink import smtp_sink

DEFAULT_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{BENCH_DIR / 'mail-drain.sqlite'}")
NAMES = [
    ("Chunli", "Bai", "白春礼"),
    ("Ирина", "Петрова", ""),
    ("María José", "García Núñez", ""),
    ("Amal", "Haddad", ""),
]


def bench_app(database_url: str, smtp_port: int):
    """The real application (not TESTING) on the database, sending to the sink."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "mail-drain-bench-secret-key",
        "SERVER_NAME": "register.example.org",
        "PREFERRED_URL_SCHEME": "https",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_DEFAULT_SENDER": "Ceremony Office <office@example.org>",
        "RATELIMIT_ENABLED": False,
    }
    return create_app(config, instance_path=str(BENCH_DIR / "instance"))


def queue_confirmations(app, count: int) -> None:
    """An event, and `count` delegates registered through the service: `count` confirmation mails queued."""
    starts = utcnow() + timedelta(days=30)
    with app.app_context():
        event = create_event(
            title="Mail Drain Ceremony",
            venue="Great Hall",
            city="Beijing",
            timezone="Asia/Shanghai",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            contact_email="office@example.org",
        )
        for number in range(count):
            given, family, native = NAMES[number % len(NAMES)]
            details = DelegateDetails(
                honorific="Prof.",
                given_name=given,
                family_name=family,
                native_name=native,
                email=f"delegate{number}@example.org",
                institution="Chinese Academy of Sciences",
                position="Professor",
                country="CN",
                category="delegate",
                accompanying=0,
                dietary="",
                accessibility="",
                visa_letter=False,
            )
            register_delegate(event.id, details, language="en")


def drain(app) -> tuple[float, int, float]:
    """Send everything queued with the worker's code over one kept connection; (seconds, mails sent, CPU seconds
    of this process meanwhile)."""
    with app.app_context():
        transport = SmtpTransport()
        sent = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            while True:
                report = deliver_due(limit=500, transport=transport)
                sent += report.sent
                if report.sent + report.deferred + report.failed == 0:
                    break
                if report.deferred or report.failed:
                    raise SystemExit(f"the drain could not send everything: {report}")
        finally:
            transport.close()
        return time.perf_counter() - started, sent, time.process_time() - cpu_started


def _drain_in_process(database_url: str, smtp_port: int, ready, go, results) -> None:
    """One worker process of a parallel drain (its own app, connections and SMTP session): it says when it is ready
    (imports done, app created), waits for the start, drains."""
    app = bench_app(database_url, smtp_port)
    ready.put(True)
    go.wait()
    results.put(drain(app))


def parallel_drain(database_url: str, smtp_port: int, workers: int) -> tuple[float, int, float]:
    """`workers` processes drain the outbox side by side (PostgreSQL: SKIP LOCKED); (wall seconds, mails sent, CPU
    seconds of all the workers).

    The clock starts once every process has started and created its app, as a running `flask outbox-worker` has:
    as in the one-worker drain, where the app exists before the clock starts.
    """
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(target=_drain_in_process, args=(database_url, smtp_port, ready, go, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get()
    started = time.perf_counter()
    go.set()
    outcomes = [results.get() for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    return seconds, sum(sent for _seconds, sent, _cpu in outcomes), sum(cpu for _seconds, _sent, cpu in outcomes)


def prebuilt(app) -> tuple[float, list[tuple[str, str, bytes]]]:
    """The same mails composed into (sender, recipient, bytes) ahead of sending; (seconds it took, the mails)."""
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        started = time.perf_counter()
        built = []
        for message in messages:
            mail = compose(message)
            built.append((mail.sender, message.recipient, mail.as_bytes()))
        return time.perf_counter() - started, built


def plain_smtplib(port: int, mails: list[tuple[str, str, bytes]]) -> float:
    """Send prebuilt mails over one smtplib connection; the seconds it took."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
        for sender, recipient, data in mails:
            connection.sendmail(email.utils.parseaddr(sender)[1], [recipient], data)
    return time.perf_counter() - started


def mime_parts(data: bytes) -> str:
    """The content types of a mail's parts, attachments with their file names."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        parts.append(f"{part.get_content_type()}" + (f" ({name})" if name else ""))
    return ", ".join(parts)


def main() -> None:
    """Seed, drain, baseline, report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="SQLAlchemy URL (default: %(default)s)")
    parser.add_argument("--messages", type=int, default=2000, help="confirmation mails to queue (default 2000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes draining at once (PostgreSQL)")
    parser.add_argument("--json", help="also write the numbers to this file")
    options = parser.parse_args()
    if options.workers > 1 and not options.database_url.startswith("postgresql"):
        raise SystemExit("Several workers need PostgreSQL (row locks); on SQLite one worker is the deployment.")

    with smtp_sink() as sink:
        app = bench_app(options.database_url, sink.port)
        empty_database(app)
        create_schema(app, migrate=False)
        started = time.perf_counter()
        queue_confirmations(app, options.messages)
        print(f"# {options.messages} delegates registered in {time.perf_counter() - started:.1f} s")

        if options.workers > 1:
            drain_seconds, sent, drain_cpu = parallel_drain(options.database_url, sink.port, options.workers)
        else:
            drain_seconds, sent, drain_cpu = drain(app)
        with app.app_context():
            tries = db.session.scalar(select(func.count()).select_from(OutboxAttempt))
        render_seconds, mails = prebuilt(app)
        smtplib_seconds = plain_smtplib(sink.port, mails)
        load = os.getloadavg()
    if sink.count != 2 * options.messages:
        raise SystemExit(f"the sink took {sink.count} mails, expected {2 * options.messages}")
    result = {
        "messages": options.messages,
        "workers": options.workers,
        "drain_per_s": sent / drain_seconds,
        "smtplib_per_s": len(mails) / smtplib_seconds,
        "render_per_s": len(mails) / render_seconds,
        "drain_share_of_smtplib": (sent / drain_seconds) / (len(mails) / smtplib_seconds),
        "worker_cpu_ms_per_mail": 1000 * drain_cpu / sent,
        "attempts_recorded": tries,
        "mail_bytes": len(mails[0][2]),
        "mime_parts": mime_parts(mails[0][2]),
        "load_after": load,
    }
    print(f"first mail: {result['mail_bytes']:,} bytes; parts: {result['mime_parts']}")
    print(
        f"drain ({options.workers} worker(s), kept connection each): {sent} mails in {drain_seconds:.2f} s = "
        f"{result['drain_per_s']:.0f}/s"
    )
    print(f"worker CPU per mail (claim, compose, send, record): {result['worker_cpu_ms_per_mail']:.2f} ms")
    print(f"render only (compose + as_bytes): {result['render_per_s']:.0f}/s")
    print(f"plain smtplib, prebuilt mails:   {len(mails)} in {smtplib_seconds:.2f} s = {result['smtplib_per_s']:.0f}/s")
    print(f"drain / plain smtplib: {100 * result['drain_share_of_smtplib']:.0f} %; sink counted {sink.count} mails")
    print(f"# {environment(app)}")
    if options.json:
        with open(options.json, "w") as handle:
            json.dump({"environment": environment(app), **result}, handle, indent=1)


if __name__ == "__main__":
    main()
