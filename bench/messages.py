"""Queueing a message to 10,000 delegates: the organizer's confirmation (the recipients fixed) and the scheduler's
queueing of one outbox mail each (run_due, in batches), on a database of its own.

    .venv/bin/python -m bench.messages [--recipients 10000] [--runs 3] [--database-url URL] [--profile]

Issue 19's target: queueing 10,000 messages takes **under 5 s on SQLite and on PostgreSQL** on the 2-core machine.
The script seeds an event with `--recipients` confirmed registrations once (Core inserts, as bench/seed.py), then
runs `--runs` times: save_draft + confirm_message (timed as "confirm"), then run_due() until every mail is queued
(timed as "queue"); after each run its rows are deleted (untimed), so every run starts from the same tables.
Sending the mails is the outbox worker's part, measured by bench/mail_drain.py.
"""

import argparse
import cProfile
import pstats
import time

from sqlalchemy import delete, insert, select
from werkzeug.datastructures import MultiDict

from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.messages.audience import audience_from_filter
from eventreg.messages.services import confirm_message, new_idempotency_key, save_draft
from eventreg.messages.texts import MessageTexts
from eventreg.models import (
    Event,
    Message,
    MessageRecipient,
    OutboxMessage,
    Registration,
    ScheduledMail,
    ScheduledMailRecipient,
    Status,
    utcnow,
)
from eventreg.registration.capacity import recount_seats

from .common import BENCH_DIR, environment, make_app, titled_bench_event
from .seed import BATCH, registration_rows

DEFAULT_DATABASE_URL = f"sqlite:///{BENCH_DIR / 'messages.sqlite'}"
TITLE = "Messages Benchmark Ceremony"
TEXTS = MessageTexts(
    subject="Shuttle times for {event_title}",
    body="Dear {honorific} {family_name},\n\nThe shuttles leave the hotel at 8:00 and 8:30.\n\n{private_link}",
    versions={"fr": ("Horaires des navettes", "Bonjour {given_name},\n\nLes navettes partent à 8 h et 8 h 30.")},
)


def seed(app, count: int) -> int:
    """The bench event with exactly `count` confirmed registrations (written once); its id."""
    with app.app_context():
        event_id, have = titled_bench_event(TITLE)
        if have == count:
            return event_id
        if have:
            where = app.config["SQLALCHEMY_DATABASE_URI"]
            raise SystemExit(f"The bench event has {have:,} registrations, not {count:,}: empty {where} first.")
        started = time.perf_counter()
        with db.engine.begin() as connection:
            batch = []
            for row in registration_rows(event_id, count, utcnow()):
                batch.append({**row, "status": Status.CONFIRMED.value})
                if len(batch) == BATCH:
                    connection.execute(insert(Registration.__table__), batch)
                    batch = []
            if batch:
                connection.execute(insert(Registration.__table__), batch)
            connection.execute(recount_seats([event_id]))
        print(f"seeded {count:,} confirmed registrations in {time.perf_counter() - started:.1f} s")
        return event_id


def clean(app, event_id: int) -> None:
    """Delete every message of the bench event and what its sends left (recipients, outbox rows, schedules)."""
    with app.app_context():
        schedules = select(ScheduledMail.id).where(ScheduledMail.event_id == event_id)
        messages = select(Message.id).where(Message.event_id == event_id)
        db.session.execute(
            delete(ScheduledMailRecipient).where(ScheduledMailRecipient.scheduled_mail_id.in_(schedules))
        )
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.delegate_message_id.in_(messages)))
        db.session.execute(delete(MessageRecipient).where(MessageRecipient.message_id.in_(messages)))
        db.session.execute(delete(Message).where(Message.event_id == event_id))
        db.session.execute(delete(ScheduledMail).where(ScheduledMail.event_id == event_id))
        db.session.commit()


def one_run(app, event_id: int, count: int, profile: bool) -> tuple[float, float, float]:
    """Confirm a message to every delegate, then queue its mails: the seconds of each, and this process's CPU
    seconds over both (the database server's are not in it)."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        audience = audience_from_filter(MultiDict({"status": Status.CONFIRMED.value}), event)
        db.session.rollback()
        started, cpu = time.perf_counter(), time.process_time()
        draft = save_draft(event, TEXTS, audience, new_idempotency_key(), None)
        confirmation = confirm_message(event_id, draft.id, None)
        confirmed = time.perf_counter()
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        queued = 0
        while queued < count:
            report = run_due()
            if not report.queued:
                raise SystemExit(f"run_due() queued nothing after {queued:,} of {count:,} mails")
            queued += report.queued
        done, cpu = time.perf_counter(), time.process_time() - cpu
        if profiler:
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(15)
        if confirmation.message.recipient_count != count or queued != count:
            raise SystemExit(f"{confirmation.message.recipient_count} recipients and {queued} mails, not {count}")
    return confirmed - started, done - confirmed, cpu


def main() -> None:
    """Seed once, then time each run and print the figures: each run, the best and the spread."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the last run's queueing")
    args = parser.parse_args()
    app = make_app(args.database_url)
    app.config["MESSAGES_PER_EVENT_PER_DAY"] = args.runs + 1  # the cap is not what is measured
    event_id = seed(app, args.recipients)
    clean(app, event_id)
    totals = []
    for run in range(1, args.runs + 1):
        confirm, queue, cpu = one_run(app, event_id, args.recipients, args.profile and run == args.runs)
        totals.append(confirm + queue)
        print(
            f"run {run}: confirm {confirm:5.2f} s + queue {queue:5.2f} s = {confirm + queue:5.2f} s (CPU {cpu:5.2f} s)"
        )
        clean(app, event_id)
    print(
        f"{args.recipients:,} messages queued: best {min(totals):.2f} s, spread {min(totals):.2f}–{max(totals):.2f} s"
    )
    print(environment(app))


if __name__ == "__main__":
    main()
