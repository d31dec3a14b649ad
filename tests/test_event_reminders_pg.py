"""Event reminders on PostgreSQL with two workers: two `flask outbox-worker` processes against one database and a
real SMTP server send each reminder once to each delegate who matches its filter and registered before its time,
and none to the others."""

import email
import email.policy
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from eventreg.extensions import db
from eventreg.messages.reminders import add_reminder
from eventreg.messages.texts import MessageTexts
from eventreg.models import Event, OutboxMessage, Registration, ScheduledMail, utcnow
from tests import test_reminders_pg
from tests.conftest import create_test_event, register_test_delegate

pytestmark = pytest.mark.postgresql

# The app on PostgreSQL (a fixture) and the worker processes, as the invitation reminders' two-worker test has them.
postgres_app = test_reminders_pg.postgres_app
start_worker = test_reminders_pg.start_worker


def test_two_worker_processes_send_each_reminder_once_to_each_matching_delegate(postgres_app, smtp_server, tmp_path):
    app = postgres_app
    event = create_test_event(app)
    confirmed = [f"d{n}@example.org" for n in range(30)]
    for address in confirmed:
        register_test_delegate(app, event, email=address)
    waiting = [register_test_delegate(app, event, email=f"w{n}@example.org")[0] for n in range(5)]
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.id.in_(waiting)).values(status="waitlisted"))
        db.session.execute(update(Registration).values(created_at=utcnow() - timedelta(days=1)))
        stored = db.session.get(Event, event.id)
        week = add_reminder(stored, 7, MessageTexts(subject="In a week", body="Dear {given_name}, see you."))
        day = add_reminder(db.session.get(Event, event.id), 1, MessageTexts(subject="Tomorrow", body="Tomorrow."))
        # Their time came while no worker ran.
        db.session.execute(
            update(ScheduledMail)
            .where(ScheduledMail.id.in_([week.scheduled_mail_id, day.scheduled_mail_id]))
            .values(due_at=utcnow() - timedelta(hours=1))
        )
        db.session.execute(delete(OutboxMessage))  # the confirmations of registering: not what this test counts
        db.session.commit()
    register_test_delegate(app, event, email="late@example.org")  # after the reminders' time: gets neither
    with app.app_context():
        db.session.execute(delete(OutboxMessage))
        db.session.commit()
    expected = Counter({(address, subject): 1 for address in confirmed for subject in ("In a week", "Tomorrow")})

    workers = [start_worker(app, smtp_server.port, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        deadline = time.monotonic() + 120
        while len(smtp_server.envelopes) < sum(expected.values()) and time.monotonic() < deadline:
            assert all(worker.poll() is None for worker in workers), "a worker stopped"
            time.sleep(0.2)
        time.sleep(2)  # ten more polls each: nothing more may come
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    logs = [(tmp_path / f"worker{n}.log").read_text() for n in range(2)]
    received = Counter()
    for envelope in smtp_server.envelopes:
        [address] = envelope.rcpt_tos
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        received[(address, mail["Subject"])] += 1
    assert received == expected, logs
    with app.app_context():
        states = db.session.execute(select(ScheduledMail.state, ScheduledMail.queued).order_by(ScheduledMail.id)).all()
        assert [tuple(row) for row in states] == [("done", 30), ("done", 30)]
        assert set(db.session.scalars(select(OutboxMessage.state))) == {"sent"}
    handled = [
        line for log in logs for line in log.splitlines() if "eventreg.mail.schedule INFO scheduled mail" in line
    ]
    assert sorted(line.rpartition(": ")[2] for line in handled) == ["done, 30 mails queued"] * 2, logs
