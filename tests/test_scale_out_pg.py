"""Past one machine: two app hosts (two gunicorn masters on their own ports, each with its own worker processes and
so its own in-process caches) and two outbox workers, sharing one PostgreSQL database, one Redis, one
FLASK_SECRET_KEY and one FLASK_DATA_KEYS, as the README's production set-up runs them. Then the issue's list: a
rush of 200 split across the hosts fills 50 seats and queues the rest in order; a write on one host shows on the
other's dashboard, API and public counter at the next request; a login on one host holds on the other and a logout
there ends it; the registration and login limits count across the hosts; every queued mail arrives with a worker
killed in the middle of a batch; and a rolling restart loses no registration and shows a client no error.

It runs in the PostgreSQL pass only (TEST_DATABASE_URL), and needs Redis (tests/scale_out.py says what it starts).
"""

import os
import re
import signal
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from eventreg.auth.services import create_organizer
from eventreg.auth.tokens import create_token
from eventreg.extensions import db
from eventreg.models import Organizer, OutboxMessage, Registration
from eventreg.stats import waitlist_position
from tests.conftest import create_test_event, drop_tables, free_port, make_app, register_test_delegate
from tests.gunicorn_server import Browser
from tests.scale_out import (
    CLAIM_SIZE,
    DATA_KEYS,
    KEY_PREFIX_STEM,
    FailoverLoad,
    Hosts,
    SlowServer,
    delete_keys,
    log_in,
    on_port,
    outbox_workers,
    process_with_local_port,
    register,
    request_json,
    require_services,
    site_settings,
    stop_gracefully,
)
from tests.test_rush import submitted

pytestmark = pytest.mark.postgresql

CAPACITY = 50
RUSH = 200
AT_ONCE = 24  # registrations in flight at any moment of the rush
PASSWORD = "correct horse battery"
ORGANIZER = "office@example.org"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The test's own app on the shared database (to seed events and read what the hosts wrote), an organizer with
    an API token, and the settings every host and worker of the site shares; tables and Redis keys go at the end."""
    database_url = require_services()
    key_prefix = f"{KEY_PREFIX_STEM}-{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as environment:  # a developer's FLASK_* settings must not leak in
        for name in [name for name in os.environ if name.startswith("FLASK_")]:
            environment.delenv(name)
        app = make_app(tmp_path_factory.mktemp("scale-out"), SQLALCHEMY_DATABASE_URI=database_url, DATA_KEYS=DATA_KEYS)
    with app.app_context():
        organizer = create_organizer(ORGANIZER, PASSWORD, "admin")
        _row, token = create_token(db.session.get(Organizer, organizer.id), "scale-out")
        db.session.remove()
    # The rush comes from one address (127.0.0.1): its per-address registration limit is raised; logins keep theirs.
    settings = site_settings(database_url, key_prefix, REGISTRATION_LIMIT_PER_IP="10000 per hour")
    yield app, settings, {"Authorization": f"Bearer {token}"}
    drop_tables(app)
    delete_keys(key_prefix)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Every gunicorn master the module starts, all stopped at its end."""
    started = Hosts(tmp_path_factory.mktemp("hosts"))
    yield started
    started.stop_all()


@pytest.fixture(scope="module")
def hosts(site, servers) -> dict:
    """Host A and host B: two gunicorn masters with two workers each, configured alike."""
    _app, settings, _token = site
    a, b = servers.start(settings, count=2, workers=2)
    return {"A": a, "B": b}


def registrations(app, event_id: int) -> list[Registration]:
    """The event's registrations in the order they were committed (the event lock serialises them, and the id is
    taken under it: the waiting list's order), the waiting-list place of each filled in."""
    with app.app_context():
        rows = db.session.scalars(
            select(Registration).where(Registration.event_id == event_id).order_by(Registration.id)
        ).all()
        for row in rows:
            row.place = waitlist_position(row)
            db.session.expunge(row)
        db.session.remove()
    return list(rows)


def test_200_concurrent_registrations_split_across_two_hosts_fill_50_seats_and_the_rest_wait_in_order(site, hosts):
    app, _settings, _token = site
    event = create_test_event(app, title="Rush on two hosts", capacity=CAPACITY)
    a, b = hosts["A"].port, hosts["B"].port
    # Half of the delegates load the form from one host and send it to the other: the CSRF token and the session
    # are signed with the one secret, so the host that answers does not matter.
    routes = [(a, a), (b, b), (a, b), (b, a)]

    def delegate(number: int):
        page_port, post_port = routes[number % len(routes)]
        return register(page_port, event.slug, f"rush{number}@example.org", post_port=post_port)

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        replies = list(pool.map(delegate, range(RUSH)))

    assert all(submitted(reply) for reply in replies), Counter(reply.status for reply in replies)
    rows = registrations(app, event.id)
    assert {row.email for row in rows} == {f"rush{n}@example.org" for n in range(RUSH)}
    statuses = [row.status for row in rows]
    # The first 50 to commit hold the seats; everyone after them waits, in the order they committed.
    assert statuses == ["confirmed"] * CAPACITY + ["waitlisted"] * (RUSH - CAPACITY)
    assert [row.place for row in rows[CAPACITY:]] == list(range(1, RUSH - CAPACITY + 1))
    _status, numbers = request_json(b, f"/api/v1/events/{event.slug}/stats", site[2])
    assert numbers["seats_taken"] == numbers["totals_by_status"]["confirmed"] == CAPACITY
    assert numbers["totals_by_status"]["waitlisted"] == RUSH - CAPACITY


def numbers_on(port: int, slug: str, dashboard: Browser, token: dict) -> dict:
    """What the host on `port` shows of the event right now: its dashboard, its API and its public counter."""
    page = on_port(dashboard, port).get(f"/organizer/events/{slug}")
    assert page.status == 200, page.text[:500]
    total = re.search(r'id="total-registrations">([\d,]+)<', page.text)
    status, api = request_json(port, f"/api/v1/events/{slug}/stats", token)
    assert status == 200
    status, counter = request_json(port, f"/e/{slug}/delegates.json")
    assert status == 200
    return {
        "dashboard": int(total.group(1).replace(",", "")),
        "api": api["registrations"],
        "api confirmed": api["totals_by_status"].get("confirmed", 0),
        "counter": counter["participants"],
    }


def test_a_write_on_one_host_shows_on_the_others_dashboard_api_and_counter_at_the_next_request(site, hosts):
    app, _settings, token = site
    event = create_test_event(app, title="Numbers on every host")
    a, b = hosts["A"].port, hosts["B"].port
    organizer, reply = log_in(a, ORGANIZER, PASSWORD)
    assert reply.status == 302, reply.text[:500]
    for n in range(3):
        register_test_delegate(app, event, email=f"before{n}@example.org")
    expected = dict.fromkeys(("dashboard", "api", "api confirmed", "counter"), 3)

    for round_, (writer, reader) in enumerate([(a, b), (b, a), (a, b), (b, a)]):
        # The reader's worker processes compute and cache the numbers as they are (a few requests reach both).
        for _ in range(4):
            assert numbers_on(reader, event.slug, organizer, token) == expected
        assert submitted(register(writer, event.slug, f"written{round_}@example.org"))
        expected = {name: count + 1 for name, count in expected.items()}
        for _ in range(3):  # the next request, whichever worker takes it, and the ones after it
            assert numbers_on(reader, event.slug, organizer, token) == expected, f"round {round_}: {writer}→{reader}"
        assert numbers_on(writer, event.slug, organizer, token) == expected


def test_a_login_on_one_host_holds_on_the_other_and_a_logout_there_ends_it_on_both(hosts):
    a, b = hosts["A"].port, hosts["B"].port
    on_a, reply = log_in(a, ORGANIZER, PASSWORD)
    assert reply.status == 302, reply.text[:500]
    on_b = on_port(on_a, b)  # the same browser, the same cookies
    assert on_b.get("/organizer/").status == 200
    assert on_a.get("/organizer/").status == 200
    cookie_before_logout = dict(on_a.cookies)

    page = on_b.get("/auth/account")
    logout = on_b.post("/auth/logout", {"csrf_token": Browser.hidden_fields(page)["csrf_token"]})
    assert logout.status == 302

    for port in (a, b):  # the browser's cookie, as the logout on B left it
        refused = on_port(on_a, port).get("/organizer/")
        assert refused.status == 302 and "/auth/login" in refused.location, (port, refused)
    # A copy of the cookie from before the logout (kept by whoever): the logout replaced the organizer's session
    # token in the database, so no host accepts it either.
    replay = Browser(a)
    replay.cookies = cookie_before_logout
    refused = replay.get("/organizer/")
    assert refused.status == 302 and "/auth/login" in refused.location, refused


def test_the_registration_and_login_limits_count_across_both_hosts(site, servers):
    app, settings, _token = site
    # A site of its own with low limits (a key prefix of its own, so that the other tests' hits do not count), one
    # worker process per host: counted per process, each host would allow the whole limit.
    limited = {
        **settings,
        "RATELIMIT_KEY_PREFIX": settings["RATELIMIT_KEY_PREFIX"] + "-limited",
        "REGISTRATION_LIMIT_PER_IP": "3 per hour",
        "LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes",
    }
    a, b = (server.port for server in servers.start(limited, count=2, workers=1))
    try:
        event = create_test_event(app, title="Limits on two hosts")
        replies = [register(port, event.slug, f"limited{n}@example.org") for n, port in enumerate([a, b, a, b, a])]
        assert [reply.status for reply in replies] == [303, 303, 303, 429, 429]
        assert len(registrations(app, event.id)) == 3

        # Wrong passwords for one account, each from a browser that never logged in (no known-device cookie).
        answers = [log_in(port, "target@example.org", "not the password")[1] for port in [a, b, a, b, a]]
        assert [reply.status for reply in answers] == [200, 200, 200, 429, 429]
        assert "The email address or the password is not right." in answers[2].text
    finally:
        delete_keys(limited["RATELIMIT_KEY_PREFIX"])


def test_a_rolling_restart_loses_no_registration_and_shows_a_retrying_client_no_error(site, hosts, servers):
    app, settings, _token = site
    event = create_test_event(app, title="Rolling restart")
    old_a, b = hosts["A"], hosts["B"].port
    load = FailoverLoad(event.slug, [old_a.port, b])
    with load.running(delegates=3):
        load.wait_for(lambda: load.answered_by(old_a.port) >= 10, "host A answers")
        assert stop_gracefully(old_a.process) == 0  # A stops: the load goes on on B alone
        on_b_alone = len(load.answers)
        load.wait_for(lambda: len(load.answers) >= on_b_alone + 10, "host B answers alone")
        [new_a] = servers.start(settings, workers=2)  # A again, on a new port
        hosts["A"] = new_a
        load.ports.append(new_a.port)
        load.wait_for(lambda: load.answered_by(new_a.port) >= 10, "the new host A answers")
    print(f"rolling restart: {len(load.answers)} registrations, {load.failovers} requests sent to the other host")

    assert set(load.page_statuses) == {200}, load.page_statuses
    assert {status for _email, _port, status in load.answers} == {303}, Counter(s for _e, _p, s in load.answers)
    assert load.answered_by(b) > 0
    answered = {email for email, _port, _status in load.answers}
    assert len(answered) == len(load.answers)  # one answer per delegate
    assert {row.email for row in registrations(app, event.id)} == answered


def test_every_queued_mail_is_delivered_with_two_workers_and_one_killed_mid_batch(site, tmp_path):
    app, settings, _token = site
    # However the tests before left the outbox, a backlog of its own: the first batches of both workers are full.
    event = create_test_event(app, title="Mail backlog")
    for n in range(6 * CLAIM_SIZE):
        register_test_delegate(app, event, email=f"mail{n}@example.org")
    with app.app_context():
        queued = set(db.session.scalars(select(OutboxMessage.id)))
        db.session.remove()
    # 20 ms a message. Once both workers send, one of them gets no answer to the fourth message of a batch: it has
    # sent three of the batch and recorded none (a batch is recorded in one commit) when it is killed.
    handler = SlowServer(delay=0.02, hold_after=3)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with outbox_workers(settings, controller.port, tmp_path, count=2) as workers:
            assert handler.holding.wait(timeout=120), "the two workers did not both send"
            victim = process_with_local_port([worker.pid for worker in workers], handler.held_peer)
            [killed] = [worker for worker in workers if worker.pid == victim]
            killed.send_signal(signal.SIGKILL)
            killed.wait(timeout=30)
            handler.release()
            [survivor] = [worker for worker in workers if worker is not killed]
            deadline = time.monotonic() + 180
            while unsent(app) and time.monotonic() < deadline:
                assert survivor.poll() is None, "the surviving worker stopped"
                time.sleep(0.2)
    finally:
        handler.release()
        controller.stop()

    assert unsent(app) == 0
    with app.app_context():
        message_ids = dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.message_id)).all())
        db.session.remove()
    assert set(message_ids) == queued  # nothing was queued meanwhile: these are the mails to deliver
    received = Counter(mail.message_id for mail in handler.received)
    assert set(received) == set(message_ids.values())  # every mail queued arrived; none arrived that was not queued
    # At least once: the three mails of the killed worker's unrecorded batch came again, from the other worker and
    # with the same Message-IDs; nothing else came twice, and a repeated Message-ID always carried the same mail.
    assert len(handler.unrecorded) == 3
    assert {message_id for message_id, count in received.items() if count > 1} == set(handler.unrecorded)
    assert all(received[message_id] == 2 for message_id in handler.unrecorded)
    for message_id in handler.unrecorded:
        copies = {(mail.recipients, mail.subject) for mail in handler.received if mail.message_id == message_id}
        assert len(copies) == 1, copies
        assert {mail.peer_port for mail in handler.received if mail.message_id == message_id} != {handler.held_peer}


def unsent(app) -> int:
    """How many outbox messages are not sent yet."""
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(OutboxMessage.state != "sent"))
        db.session.remove()
    return count
