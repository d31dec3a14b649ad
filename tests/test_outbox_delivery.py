"""Mail that always arrives: retries with backoff, permanent failures, timeouts, every attempt recorded, safe
headers, a clean stop on SIGTERM, and several workers on PostgreSQL sending each message once."""

import asyncio
import email
import email.policy
import os
import signal
import threading
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select, update

from eventreg.extensions import db
from eventreg.mail import worker
from eventreg.mail.queue import mail_row
from eventreg.mail.retry import retry_delay
from eventreg.mail.transport import SmtpTransport
from eventreg.mail.worker import deliver_due, run_worker
from eventreg.models import Event, OutboxAttempt, OutboxMessage, Registration, utcnow
from eventreg.organizer.outbox_queries import resend_failed
from tests.conftest import (
    POSTGRES_URL,
    Collect,
    create_test_event,
    drop_tables,
    free_port,
    make_app,
    register_test_delegate,
    require_postgresql,
    sending_to,
)


def parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def messages(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def attempts(app, message_id: int) -> list[tuple[str, str]]:
    """(outcome, error) of each recorded try, oldest first."""
    with app.app_context():
        query = select(OutboxAttempt).where(OutboxAttempt.message_id == message_id).order_by(OutboxAttempt.id)
        return [(attempt.outcome, attempt.error) for attempt in db.session.scalars(query)]


def deliver(app, **kwargs):
    with app.app_context():
        return deliver_due(**kwargs)


def make_due(app) -> None:
    """Bring every queued retry forward to now (instead of waiting out the backoff)."""
    with app.app_context():
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.state == "queued").values(next_attempt_at=utcnow())
        )
        db.session.commit()


def test_smtp_down_then_up_delivers_every_queued_mail_exactly_once(smtp_app):
    port = free_port()
    smtp_app.extensions["mail"].port = port  # the mail server is down: nothing listens there yet
    event = create_test_event(smtp_app)
    for number in range(5):
        register_test_delegate(smtp_app, event, email=f"d{number}@example.org")
    report = deliver(smtp_app)
    # The first refused connection ends the pass: the other four are not charged a try for the outage.
    assert (report.sent, report.deferred, report.failed) == (0, 1, 0)
    first = messages(smtp_app)[0]
    assert first.state == "queued" and first.next_attempt_at > utcnow()
    assert [outcome for outcome, _error in attempts(smtp_app, first.id)] == ["retry"]
    assert "ConnectionRefusedError" in attempts(smtp_app, first.id)[0][1]

    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)  # the server comes back
    controller.start()
    try:
        make_due(smtp_app)
        assert deliver(smtp_app).sent == 5
        assert deliver(smtp_app).sent == 0  # nothing left, nothing sent twice
    finally:
        controller.stop()
    assert sorted(envelope.rcpt_tos[0] for envelope in handler.envelopes) == [f"d{n}@example.org" for n in range(5)]
    assert [message.state for message in messages(smtp_app)] == ["sent"] * 5
    assert [outcome for outcome, _error in attempts(smtp_app, first.id)] == ["retry", "sent"]


@pytest.mark.parametrize("reply", ["421 4.3.2 service shutting down", "451 4.3.0 try again later"])
def test_a_temporary_refusal_is_retried_until_the_mail_is_accepted(smtp_app, smtp_server, reply):
    answers = [reply, reply]  # then 250

    async def refuse_twice(server, session, envelope):
        if answers:
            return answers.pop(0)
        smtp_server.envelopes.append(envelope)
        return "250 OK"

    smtp_server.handle_DATA = refuse_twice
    event = create_test_event(smtp_app)
    register_test_delegate(smtp_app, event)
    for _ in range(2):
        assert deliver(smtp_app).deferred == 1
        [message] = messages(smtp_app)
        assert message.state == "queued" and reply[:3] in message.last_error
        make_due(smtp_app)
    assert deliver(smtp_app).sent == 1
    assert len(smtp_server.envelopes) == 1
    [message] = messages(smtp_app)
    history = attempts(smtp_app, message.id)
    assert [outcome for outcome, _error in history] == ["retry", "retry", "sent"]
    assert all(reply in error for _outcome, error in history[:2])


def test_a_refused_recipient_fails_at_once_and_can_be_resent(smtp_app, smtp_server):
    refusing = [True]

    async def no_such_user(server, session, envelope, address, rcpt_options):
        if refusing[0]:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handle_RCPT = no_such_user
    event = create_test_event(smtp_app)
    register_test_delegate(smtp_app, event, email="gone@example.org")
    report = deliver(smtp_app)
    assert (report.sent, report.deferred, report.failed) == (0, 0, 1)
    [message] = messages(smtp_app)
    assert message.state == "failed"
    assert "550 5.1.1 no such user" in message.last_error
    make_due(smtp_app)
    assert deliver(smtp_app).failed == 0  # a failed mail is not tried again by itself

    refusing[0] = False  # the mailbox exists again; the organizer resends
    with smtp_app.app_context():
        assert resend_failed(event.id) == 1
    assert deliver(smtp_app).sent == 1
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [["gone@example.org"]]
    assert [outcome for outcome, _error in attempts(smtp_app, message.id)] == ["failed", "sent"]


def test_a_message_the_server_rejects_for_good_fails_at_once(smtp_app, smtp_server):
    async def reject(server, session, envelope):
        return "554 5.6.0 message content rejected"

    smtp_server.handle_DATA = reject
    event = create_test_event(smtp_app)
    register_test_delegate(smtp_app, event)
    assert deliver(smtp_app).failed == 1
    [message] = messages(smtp_app)
    assert message.state == "failed" and "554" in message.last_error


def test_a_hung_server_times_out_and_the_message_is_retried(tmp_path, smtp_server):
    app = make_app(
        tmp_path,
        **sending_to(smtp_server.port),
        MAIL_TIMEOUT=1,
        SERVER_NAME="register.example.org",
    )
    try:

        async def hang(server, session, envelope):
            await asyncio.Event().wait()  # never answers the message

        handle_data = smtp_server.handle_DATA
        smtp_server.handle_DATA = hang
        event = create_test_event(app)
        register_test_delegate(app, event)
        report = deliver(app)  # returns: the worker is not stuck
        assert (report.sent, report.deferred) == (0, 1)
        [message] = messages(app)
        assert message.state == "queued" and message.next_attempt_at > utcnow()
        assert "timed out" in message.last_error

        smtp_server.handle_DATA = handle_data
        make_due(app)
        assert deliver(app).sent == 1
        assert len(smtp_server.envelopes) == 1
        assert [outcome for outcome, _error in attempts(app, message.id)] == ["retry", "sent"]
    finally:
        drop_tables(app)


def test_the_kept_connection_is_reopened_when_the_server_drops_it(smtp_app):
    port = free_port()
    smtp_app.extensions["mail"].port = port
    event = create_test_event(smtp_app)
    handlers = []
    with smtp_app.app_context():
        transport = SmtpTransport()
        try:
            for number in range(2):
                handlers.append(Collect())
                controller = Controller(handlers[-1], hostname="127.0.0.1", port=port)
                controller.start()
                register_test_delegate(smtp_app, event, email=f"d{number}@example.org")
                report = deliver_due(transport=transport)
                controller.stop()  # the server restarts between the two mails: the kept connection drops
                assert (report.sent, report.deferred) == (1, 0)
        finally:
            transport.close()
    assert [len(handler.envelopes) for handler in handlers] == [1, 1]


def test_a_server_that_never_greets_times_out(tmp_path):
    """A listening socket that accepts connections (the kernel does) but never says a word."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    app = make_app(
        tmp_path,
        **sending_to(silent.getsockname()[1]),
        MAIL_TIMEOUT=1,
        SERVER_NAME="register.example.org",
    )
    try:
        event = create_test_event(app)
        register_test_delegate(app, event)
        report = deliver(app)
        assert (report.sent, report.deferred) == (0, 1)
        [message] = messages(app)
        assert message.state == "queued" and "timed out" in message.last_error
    finally:
        silent.close()
        drop_tables(app)


def test_a_mail_still_failing_after_the_give_up_time_is_marked_failed(smtp_app):
    smtp_app.extensions["mail"].port = free_port()  # down for good
    smtp_app.config["OUTBOX_GIVE_UP_AFTER"] = 3600
    event = create_test_event(smtp_app)
    register_test_delegate(smtp_app, event)
    assert deliver(smtp_app).deferred == 1
    [message] = messages(smtp_app)
    with smtp_app.app_context():
        # The first try was 59 minutes ago: the next one is due no later than the hour's end.
        started = utcnow() - timedelta(minutes=59)
        db.session.execute(update(OutboxAttempt).values(attempted_at=started))
        db.session.commit()
    make_due(smtp_app)
    assert deliver(smtp_app).deferred == 1
    [message] = messages(smtp_app)
    assert message.state == "queued"
    assert message.next_attempt_at <= started + timedelta(hours=1)

    with smtp_app.app_context():
        db.session.execute(update(OutboxAttempt).values(attempted_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
    make_due(smtp_app)
    assert deliver(smtp_app).failed == 1
    [message] = messages(smtp_app)
    assert message.state == "failed" and "ConnectionRefusedError" in message.last_error
    assert [outcome for outcome, _error in attempts(smtp_app, message.id)] == ["retry", "retry", "failed"]


@pytest.mark.parametrize(("attempt", "longest"), [(1, 15), (2, 30), (3, 60), (4, 120), (9, 3600), (30, 3600)])
def test_retries_back_off_from_seconds_to_an_hour_with_jitter(app, attempt, longest):
    with app.app_context():
        delays = {retry_delay(attempt).total_seconds() for _ in range(50)}
    assert all(longest / 2 <= delay <= longest for delay in delays)
    assert len(delays) > 1  # spread, so messages that failed together do not all come back together


def test_the_first_three_retries_come_within_a_minute(app):
    with app.app_context():
        assert sum(retry_delay(n).total_seconds() for n in (1, 2)) <= 60
        assert retry_delay(3) <= timedelta(minutes=1)


def test_names_and_titles_with_line_breaks_cannot_inject_headers(smtp_app, smtp_server):
    """The form refuses control characters; a row written some other way still makes one-line headers."""
    event = create_test_event(smtp_app)
    registration_id, _token = register_test_delegate(smtp_app, event)
    with smtp_app.app_context():
        registration = db.session.get(Registration, registration_id)
        registration.given_name = "Eve\r\nBcc: victim@example.org\r\nX-Evil: 1"
        db.session.get(Event, event.id).title = "Ceremony\nBcc: victim@example.org"
        db.session.commit()
    assert deliver(smtp_app).sent == 1
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["chunli.bai@example.org"]
    message = parse(envelope)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert [address.addr_spec for address in message["To"].addresses] == ["chunli.bai@example.org"]
    assert "Bcc: victim@example.org" in message["To"].addresses[0].display_name  # kept, as text on one line
    assert message["Subject"] == "Your registration for Ceremony Bcc: victim@example.org"


def test_every_mail_has_from_reply_to_date_and_a_stable_message_id(smtp_app, smtp_server):
    event = create_test_event(smtp_app, contact_email="secretariat@example.org")
    register_test_delegate(smtp_app, event)
    deliver(smtp_app)
    message = parse(smtp_server.envelopes[0])
    assert str(message["From"]) == "Ceremony Office <office@example.org>"
    assert str(message["Reply-To"]) == "secretariat@example.org"
    assert abs(parsedate_to_datetime(message["Date"]) - utcnow()) < timedelta(hours=1)
    [row] = messages(smtp_app)
    assert message["Message-ID"] == row.message_id and row.message_id.endswith("@example.org>")


def test_sigterm_lets_the_worker_finish_the_message_in_hand_and_stop(app, make_event, make_registration, monkeypatch):
    event = make_event()
    for number in range(3):
        make_registration(event, email=f"d{number}@example.org")
    sent = []

    class StoppedWhileSending:
        def send(self, message, name):
            os.kill(os.getpid(), signal.SIGTERM)  # the signal arrives while the first message is on its way
            sent.append(name)

        def close(self):
            pass

    monkeypatch.setattr(worker, "open_transport", StoppedWhileSending)
    with app.app_context():
        run_worker()  # returns: SIGTERM stopped it
    assert len(sent) == 1
    assert [message.state for message in messages(app)] == ["sent", "queued", "queued"]


# ---- several workers on PostgreSQL


@pytest.fixture
def postgres_smtp_app(tmp_path, smtp_server):
    """An app on PostgreSQL (POSTGRES_URL) sending to the in-process SMTP server."""
    require_postgresql().dispose()
    app = make_app(
        tmp_path,
        SQLALCHEMY_DATABASE_URI=POSTGRES_URL,
        **sending_to(smtp_server.port),
        SERVER_NAME="register.example.org",
    )
    yield app
    drop_tables(app)


@pytest.mark.postgresql
def test_two_workers_drain_500_messages_on_postgresql_each_arriving_once(postgres_smtp_app, smtp_server):
    app = postgres_smtp_app
    event = create_test_event(app)
    ids = [register_test_delegate(app, event, email=f"d{n}@example.org")[0] for n in range(10)]
    with app.app_context():
        registrations = db.session.scalars(select(Registration).where(Registration.id.in_(ids))).all()
        rows = [
            {**mail_row("confirmation", registrations[n % 10]), "registration_id": registrations[n % 10].id}
            for n in range(490)
        ]
        db.session.execute(insert(OutboxMessage), rows)
        db.session.commit()
    both_sending = threading.Barrier(2, timeout=30)
    sent_by = {}

    class MeetsTheOtherWorker(SmtpTransport):
        """Holds its first message (locked, on PostgreSQL) until the other worker has claimed one too."""

        def __init__(self, worker_name):
            super().__init__()
            self.worker_name, self.count = worker_name, 0

        def send(self, message, name):
            if self.count == 0:
                both_sending.wait()
            super().send(message, name)
            self.count += 1
            sent_by[self.worker_name] = self.count

    def work(worker_name):
        with app.app_context():
            transport = MeetsTheOtherWorker(worker_name)
            try:
                deliver_due(limit=1000, transport=transport)
            finally:
                transport.close()

    workers = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in workers)
    message_ids = [parse(envelope)["Message-ID"] for envelope in smtp_server.envelopes]
    assert len(message_ids) == 500
    assert len(set(message_ids)) == 500
    assert sent_by["a"] > 0 and sent_by["b"] > 0 and sent_by["a"] + sent_by["b"] == 500
    with app.app_context():
        states = db.session.scalars(select(OutboxMessage.state)).all()
        tries = db.session.scalars(select(OutboxAttempt.outcome)).all()
    assert states == ["sent"] * 500
    assert tries == ["sent"] * 500


class FailsAfter:
    """A transport that takes `good` mails, then finds the server gone (or asks the worker to stop)."""

    def __init__(self, good: int, error: Exception | None = None):
        self.good, self.error, self.sent = good, error, []

    def send(self, message, name):
        if len(self.sent) == self.good and self.error is not None:
            raise self.error
        self.sent.append(name)

    def close(self):
        pass


def claimed_batch(app, count: int) -> list[int]:
    """`count` queued confirmations on one event, all claimed by one transaction (OUTBOX_CLAIM_SIZE)."""
    app.config["OUTBOX_CLAIM_SIZE"] = count
    event = create_test_event(app)
    for number in range(count):
        register_test_delegate(app, event, email=f"batch{number}@example.org")
    return [message.id for message in messages(app)]


@pytest.mark.postgresql
def test_a_stop_in_the_middle_of_a_claimed_batch_leaves_the_rest_untouched(postgres_smtp_app):
    app = postgres_smtp_app
    ids = claimed_batch(app, 5)
    transport = FailsAfter(good=5)
    report = deliver(app, transport=transport, should_stop=lambda: len(transport.sent) >= 2)
    assert report.sent == 2 and len(transport.sent) == 2
    rows = messages(app)
    assert [row.state for row in rows] == ["sent", "sent", "queued", "queued", "queued"]
    assert [row.attempts for row in rows] == [1, 1, 0, 0, 0]
    assert [len(attempts(app, message_id)) for message_id in ids] == [1, 1, 0, 0, 0]
    assert deliver(app, transport=transport).sent == 3  # due as before: the next pass sends them
    assert len(transport.sent) == 5


@pytest.mark.postgresql
def test_the_server_going_away_in_the_middle_of_a_batch_defers_only_the_mail_in_hand(postgres_smtp_app):
    app = postgres_smtp_app
    ids = claimed_batch(app, 5)
    transport = FailsAfter(good=2, error=ConnectionRefusedError(111, "Connection refused"))
    report = deliver(app, transport=transport)
    assert (report.sent, report.deferred, report.failed) == (2, 1, 0)
    rows = messages(app)
    assert [row.state for row in rows] == ["sent", "sent", "queued", "queued", "queued"]
    assert [row.attempts for row in rows] == [1, 1, 1, 0, 0]
    assert rows[2].next_attempt_at > utcnow() and rows[3].next_attempt_at <= utcnow()
    assert [[outcome for outcome, _error in attempts(app, message_id)] for message_id in ids] == [
        ["sent"],
        ["sent"],
        ["retry"],
        [],
        [],
    ]
