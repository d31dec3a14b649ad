"""Invitation reminders on PostgreSQL with two workers: two `flask outbox-worker` processes against one database
and a real SMTP server send each reminder once to each invitee who has not answered, and none to the others; and
two workers that overlap on one reminder (as after a lease ran out) still queue each invitee once."""

import email
import email.policy
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from eventreg.extensions import db
from eventreg.invitations.reminders import REMINDER, add_reminder, audience, remind_now
from eventreg.mail import schedule
from eventreg.mail.schedule import run_due
from eventreg.models import Event, Invitation, OutboxMessage, ScheduledMail, ScheduledMailRecipient, utcnow
from tests.conftest import POSTGRES_URL, create_test_event, drop_tables, make_app, require_postgresql, sending_to
from tests.gunicorn_server import outbox_worker

pytestmark = pytest.mark.postgresql

UNANSWERED = ("not_sent", "sent", "opened", "failed")
ANSWERED = ("registered", "declined")


@pytest.fixture
def postgres_app(tmp_path, smtp_server):
    """An app on PostgreSQL (POSTGRES_URL) sending to the in-process SMTP server."""
    require_postgresql().dispose()
    app = make_app(
        tmp_path, SQLALCHEMY_DATABASE_URI=POSTGRES_URL, **sending_to(smtp_server.port), SERVER_NAME="reg.example.org"
    )
    yield app
    drop_tables(app)


def invite_guests(app, event, per_status: int) -> dict[str, str]:
    """`per_status` invitations in each status, to <status><n>@example.org; their status by address."""
    statuses = {f"{status}{n}@example.org": status for status in (*UNANSWERED, *ANSWERED) for n in range(per_status)}
    with app.app_context():
        db.session.add_all(
            Invitation(event_id=event.id, email=address, status=status, given_name="Guest", family_name=address[:8])
            for address, status in statuses.items()
        )
        db.session.commit()
    return statuses


def start_worker(app, smtp_port: int, log_path) -> subprocess.Popen:
    """`flask --app app outbox-worker` in its own process, on the test's database, keys and SMTP server."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": POSTGRES_URL,
        "SECRET_KEY": "test-secret-key",
        "DATA_KEYS": app.config["DATA_KEYS"],
        "SERVER_NAME": "reg.example.org",
        "OUTBOX_POLL_SECONDS": 0.2,
        "OUTBOX_CLAIM_SIZE": 5,
        **sending_to(smtp_port),
    }
    return outbox_worker(settings, log_path)


def test_two_worker_processes_remind_each_unanswered_invitee_once_per_reminder(postgres_app, smtp_server, tmp_path):
    app = postgres_app
    event = create_test_event(app, registration_closes_at=utcnow() + timedelta(days=30))
    statuses = invite_guests(app, event, per_status=12)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        opened_ids = db.session.scalars(select(Invitation.id).where(Invitation.status == "opened")).all()
        chosen = db.session.scalars(select(Invitation.id).where(Invitation.email.like("%1@%"))).all()
        remind_now(stored, audience())  # everyone who has not answered
        remind_now(stored, audience(status="opened"))
        remind_now(stored, audience(ids=chosen))  # numbers 1 and 11 of each status, the answered left out
        # a scheduled one whose time came while no worker ran
        scheduled = add_reminder(db.session.get(Event, event.id), 14)
        db.session.execute(
            update(ScheduledMail).where(ScheduledMail.id == scheduled.id).values(due_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    expected = Counter()
    for address, status in statuses.items():
        if status in UNANSWERED:
            expected[address] += 2 + (status == "opened") + address.endswith("1@example.org")
    assert len(opened_ids) == 12 and sum(expected.values()) == 48 * 2 + 12 + 8

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
    message_ids = []
    for envelope in smtp_server.envelopes:
        [address] = envelope.rcpt_tos
        received[address] += 1
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert mail["Subject"] == "Reminder: your invitation to Inaugural Ceremony"
        message_ids.append(mail["Message-ID"])
    assert received == expected, logs
    assert len(set(message_ids)) == len(message_ids)
    assert not any(status in ANSWERED for address, status in statuses.items() if address in received)
    with app.app_context():
        states = db.session.execute(select(ScheduledMail.state, ScheduledMail.queued).order_by(ScheduledMail.id)).all()
        assert [tuple(row) for row in states] == [("done", 48), ("done", 12), ("done", 8), ("done", 48)]
        assert set(db.session.scalars(select(OutboxMessage.state))) == {"sent"}
    # each reminder was taken by one worker or the other, once
    handled = [
        line for log in logs for line in log.splitlines() if "eventreg.mail.schedule INFO scheduled mail" in line
    ]
    assert sorted(line.rpartition("scheduled mail ")[2] for line in handled) == [
        "1: done, 48 mails queued",
        "2: done, 12 mails queued",
        "3: done, 8 mails queued",
        "4: done, 48 mails queued",
    ], logs


def test_two_workers_overlapping_on_one_reminder_queue_each_invitee_once(postgres_app, monkeypatch):
    app = postgres_app
    event = create_test_event(app)
    statuses = invite_guests(app, event, per_status=50)
    with app.app_context():
        assert remind_now(db.session.get(Event, event.id), audience()) == 200
    # As when a worker's lease runs out while it is still at work: each worker may take up the other's reminder.
    monkeypatch.setattr(schedule, "LEASE", -timedelta(hours=1))
    start = threading.Barrier(2, timeout=30)
    reports = []

    def work():
        with app.app_context():
            start.wait()
            reports.append(run_due(batch=7))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert len(reports) == 2 and sum(report.queued for report in reports) == 200
    with app.app_context():
        per_invitation = Counter(
            db.session.scalars(select(OutboxMessage.invitation_id).where(OutboxMessage.kind == REMINDER))
        )
        assert len(per_invitation) == 200 and set(per_invitation.values()) == {1}
        addresses = db.session.scalars(select(Invitation.email).where(Invitation.id.in_(list(per_invitation)))).all()
        assert {statuses[address] for address in addresses} == set(UNANSWERED)
        assert db.session.scalar(select(func.count()).select_from(ScheduledMailRecipient)) == 200
        assert db.session.scalar(select(ScheduledMail.queued)) == 200
