"""The confirmation mail: queued with the registration, sent by the worker over real SMTP or written as .eml."""

import email
import email.policy
import re
from email.header import decode_header, make_header

import flask_mail
import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import OutboxMessage, utcnow
from tests.conftest import create_test_event, drop_tables, free_port, make_app, register_test_delegate
from tests.test_registration import form


def parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def outbox(app):
    with app.app_context():
        return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def deliver(app):
    with app.app_context():
        return deliver_due()


def test_confirmation_arrives_at_a_real_smtp_server(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    client = smtp_app.test_client()
    response = client.post(f"/e/{event.slug}/register", data=form(given_name="Ирина", family_name="Петрова"))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/e/{event.slug}/submitted"
    assert smtp_server.envelopes == []  # nothing is sent on the request path

    report = deliver(smtp_app)
    assert (report.sent, report.deferred) == (1, 0)

    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["Chunli.Bai@example.org"]
    message = parse(envelope)
    assert message["Subject"] == "Your registration for Inaugural Ceremony"
    assert message["Reply-To"] == "office@example.org"
    assert message["From"].addresses[0].addr_spec == "office@example.org"
    assert message["From"].addresses[0].display_name == "Ceremony Office"
    assert message["Message-ID"].startswith("<outbox-")
    assert message["Date"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Ирина Петрова" in part
        assert "Inaugural Ceremony" in part
        assert "Great Hall, Beijing" in part
        assert "UTC+08:00" in part
    link = re.search(r"https://register\.example\.org(/r/[\w-]+)", text)
    assert f'href="{link.group(0)}"' in html  # the private link, only in the mail

    page = client.get(link.group(1), base_url="https://register.example.org")
    assert page.status_code == 200
    assert "Ирина Петрова" in page.text

    [queued] = outbox(smtp_app)
    assert queued.state == "sent" and queued.sent_at is not None and queued.attempts == 1


def test_failed_send_stays_in_the_outbox_for_the_next_pass(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    register_test_delegate(smtp_app, event)
    smtp_app.extensions["mail"].port = free_port()  # nobody listens there: connection refused
    report = deliver(smtp_app)
    assert (report.sent, report.deferred) == (0, 1)
    [queued] = outbox(smtp_app)
    assert queued.state == "queued"
    assert queued.attempts == 1
    assert "ConnectionRefusedError" in queued.last_error
    assert queued.next_attempt_at > utcnow()
    assert deliver(smtp_app).sent == 0  # not due yet

    smtp_app.extensions["mail"].port = smtp_server.port
    with smtp_app.app_context():
        message = db.session.get(OutboxMessage, queued.id)
        message.next_attempt_at = utcnow()  # the retry is due now
        db.session.commit()
    assert deliver(smtp_app).sent == 1
    assert len(smtp_server.envelopes) == 1
    [sent] = outbox(smtp_app)
    assert sent.state == "sent" and sent.attempts == 2
    assert parse(smtp_server.envelopes[0])["Message-ID"] == sent.message_id  # stable across retries


def test_smtp_refusal_is_recorded_and_retried(smtp_app, smtp_server):
    async def refuse(server, session, envelope):
        return "451 try again later"

    smtp_server.handle_DATA = refuse
    event = create_test_event(smtp_app)
    register_test_delegate(smtp_app, event)
    assert deliver(smtp_app).deferred == 1
    [queued] = outbox(smtp_app)
    assert queued.state == "queued"
    assert "451" in queued.last_error


def test_many_messages_go_over_one_connection(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    for number in range(5):
        register_test_delegate(smtp_app, event, email=f"d{number}@example.org")
    assert deliver(smtp_app).sent == 5
    assert sorted(e.rcpt_tos[0] for e in smtp_server.envelopes) == [f"d{n}@example.org" for n in range(5)]
    assert len(set(smtp_server.peers)) == 1  # one client socket for all five


def test_without_a_mail_server_the_worker_writes_eml_files(app, tmp_path, make_event, make_registration):
    event = make_event()
    make_registration(event, given_name="María José", native_name="")
    assert deliver(app).sent == 1
    [path] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "chunli.bai@example.org"
    body = message.get_body(("plain",)).get_content()
    assert "María José" in body
    assert "http://localhost/r/" in body


def test_the_worker_command_sends_what_is_due(app, runner, make_event, make_registration, tmp_path):
    event = make_event()
    make_registration(event)
    result = runner.invoke(args=["outbox-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    assert outbox(app)[0].state == "sent"


def test_worker_refuses_to_start_without_server_name(tmp_path):
    app = make_app(tmp_path, SERVER_NAME=None)
    try:
        result = app.test_cli_runner().invoke(args=["outbox-worker", "--once"])
        assert result.exit_code != 0
        assert "FLASK_SERVER_NAME" in result.output
    finally:
        drop_tables(app)


def test_header_injection_never_reaches_a_header(app):
    """Names with line breaks are refused at the form (see test_registration); Flask-Mail refuses them too."""
    with app.app_context():
        message = flask_mail.Message(subject="Hi\r\nBcc: victim@example.org", recipients=["a@example.org"], body="x")
        assert message.has_bad_headers()


def test_a_stopping_worker_finishes_the_message_in_hand_and_no_more(app, make_event, make_registration, tmp_path):
    event = make_event()
    for number in range(3):
        make_registration(event, email=f"d{number}@example.org")
    asked = []

    def should_stop():
        asked.append(True)
        return len(asked) > 1  # SIGTERM arrives while the first message is being sent

    with app.app_context():
        report = deliver_due(should_stop=should_stop)
    assert report.sent == 1
    assert [message.state for message in outbox(app)] == ["sent", "queued", "queued"]


def test_registrations_committed_while_a_mail_is_sent_do_not_trip_the_worker(app, make_event, make_registration):
    """The worker holds no transaction while it talks to the mail server (on SQLite a stale one cannot write)."""
    import threading

    event = make_event()
    make_registration(event, email="first@example.org")

    class RegistersMeanwhile:
        """A transport that, while 'sending', lets another delegate register from another thread."""

        sent = 0

        def send(self, message, name):
            worker = threading.Thread(target=make_registration, args=(event,), kwargs={"email": f"n{self.sent}@x.org"})
            worker.start()
            worker.join()
            self.sent += 1

        def close(self):
            pass

    transport = RegistersMeanwhile()
    with app.app_context():
        report = deliver_due(transport=transport, limit=2)
    assert report.sent == 2 and report.deferred == 0
    states = [message.state for message in outbox(app)]
    assert states == ["sent", "sent", "queued"]  # the third came in while the second was being sent


@pytest.mark.parametrize("name", ["Zoë Müller", "Thị Minh Khai Nguyễn-Trần Phạm Vũ Hoàng", "Александра Константиновна"])
def test_names_in_the_to_header_survive_encoding(smtp_app, smtp_server, name):
    given, _, family = name.rpartition(" ")
    event = create_test_event(smtp_app)
    register_test_delegate(smtp_app, event, given_name=given, family_name=family, honorific="Ms.")
    assert deliver(smtp_app).sent == 1
    # Decoded as RFC 2047 says (adjacent encoded words join without a space); the email package's
    # structured parser adds one between them, so read the raw header instead.
    raw = email.message_from_bytes(smtp_server.envelopes[0].content)["To"]
    assert str(make_header(decode_header(raw))) == f"Ms. {name} <chunli.bai@example.org>"
    assert "\n" not in raw.replace("\n ", "")  # folded only between encoded words


def test_mail_to_an_internationalised_domain_goes_to_its_ascii_form(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    register_test_delegate(smtp_app, event, email="li@北京大学.中国")
    assert deliver(smtp_app).sent == 1
    assert smtp_server.envelopes[0].rcpt_tos == ["li@xn--1lq90ic7fzpc.xn--fiqs8s"]


def test_the_mail_names_the_contact_address_and_links_the_event(smtp_app, smtp_server):
    event = create_test_event(smtp_app, contact_email="secretariat@example.org")
    register_test_delegate(smtp_app, event)
    deliver(smtp_app)
    text = parse(smtp_server.envelopes[0]).get_body(("plain",)).get_content()
    assert "Write to the organizers at secretariat@example.org." in text
    assert f"https://register.example.org/e/{event.slug}" in text
    assert "China Standard Time (Asia/Shanghai)" in text or "China Time (Asia/Shanghai)" in text
    html = parse(smtp_server.envelopes[0]).get_body(("html",)).get_content()
    assert "Write to the organizers at secretariat@example.org." in html
    assert f'<a href="https://register.example.org/e/{event.slug}">' in html
    assert "(Asia/Shanghai)" in html and '<th align="left"' in html


def test_long_non_latin_subjects_arrive_intact(smtp_app, smtp_server):
    title = "国际科学联盟成立大会暨第一届全体会员代表大会开幕式"
    event = create_test_event(smtp_app, title=title)
    register_test_delegate(smtp_app, event)
    deliver(smtp_app)
    assert parse(smtp_server.envelopes[0])["Subject"] == f"Your registration for {title}"


def test_a_refused_recipient_does_not_hold_up_the_others(smtp_app, smtp_server):
    async def refuse_one(server, session, envelope, address, rcpt_options):
        if address == "gone@example.org":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handle_RCPT = refuse_one
    event = create_test_event(smtp_app)
    for address in ("gone@example.org", "a@example.org", "b@example.org"):
        register_test_delegate(smtp_app, event, email=address)
    report = deliver(smtp_app)
    assert (report.sent, report.deferred, report.failed) == (2, 0, 1)  # a 5xx for the recipient: failed at once
    assert sorted(e.rcpt_tos[0] for e in smtp_server.envelopes) == ["a@example.org", "b@example.org"]
    refused = [m for m in outbox(smtp_app) if m.state == "failed"]
    assert [m.recipient for m in refused] == ["gone@example.org"]
    assert "550" in refused[0].last_error


def test_two_workers_send_each_message_once(app, make_event, make_registration):
    """On SQLite there are no row locks: a lease keeps a message to the worker that claimed it."""
    import threading
    import time

    event = make_event()
    for number in range(6):
        make_registration(event, email=f"d{number}@example.org")
    sent = []

    class SlowTransport:
        def send(self, message, name):
            time.sleep(0.05)  # the other worker looks for work meanwhile
            sent.append(name)

        def close(self):
            pass

    def work():
        with app.app_context():
            deliver_due(transport=SlowTransport())

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(sent) == sorted(set(sent))
    assert len(sent) == 6
    assert all(message.state == "sent" for message in outbox(app))


def test_the_worker_survives_a_database_error(app, monkeypatch):
    """A database that restarts or stays locked must not leave the site without a worker."""
    import os
    import signal

    from sqlalchemy.exc import OperationalError

    from eventreg.mail import worker as outbox_module

    calls = []

    def flaky(**kwargs):
        calls.append(True)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        os.kill(os.getpid(), signal.SIGTERM)  # the second pass worked; now stop the worker
        return outbox_module.DeliveryReport()

    monkeypatch.setattr(outbox_module, "deliver_due", flaky)
    app.config["OUTBOX_POLL_SECONDS"] = 0.01
    with app.app_context():
        outbox_module.run_worker()
    assert len(calls) == 2


def test_reply_to_an_internationalised_domain_is_in_its_ascii_form(smtp_app, smtp_server):
    event = create_test_event(smtp_app, contact_email="info@例子.广告")
    register_test_delegate(smtp_app, event)
    deliver(smtp_app)
    message = parse(smtp_server.envelopes[0])
    assert message["Reply-To"].addresses[0].addr_spec == "info@xn--fsqu00a.xn--4rr70v"


def test_no_reply_senders_are_not_offered_as_the_contact(smtp_app, smtp_server):
    event = create_test_event(smtp_app, contact_email=None)  # defaults to the sender's address
    register_test_delegate(smtp_app, event)
    deliver(smtp_app)
    text = parse(smtp_server.envelopes[0]).get_body(("plain",)).get_content()
    assert "Write to the organizers" not in text
