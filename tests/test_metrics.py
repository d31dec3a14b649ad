"""/metrics: who may read it, and that its figures count what happened (requests, registrations, the outbox in the
database, mail sent and failed through a real SMTP server, the worker's heartbeat); under gunicorn with two
workers and PROMETHEUS_MULTIPROC_DIR, the counts of both workers add up.

The in-process registry is shared by every test of the session, so the tests compare figures before and after."""

import http.client
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update

from eventreg import create_app
from eventreg.data_keys import new_key
from eventreg.extensions import db
from eventreg.mail.worker import run_worker
from eventreg.models import OutboxMessage, OutboxState, utcnow
from eventreg.registration.services import DuplicateRegistration
from tests.conftest import (
    Collect,
    base_config,
    create_test_event,
    drop_tables,
    free_port,
    make_app,
    register_test_delegate,
    sending_to,
)
from tests.gunicorn_server import ROOT, server_environment, start_gunicorn_fixture  # noqa: F401 - fixture

OUTSIDER = "203.0.113.7"  # TEST-NET-3: an address no METRICS_ALLOW names


def scrape(client, **request) -> dict[tuple, float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = client.get("/metrics", **request)
    assert response.status_code == 200, response.text
    return parse(response.text)


def parse(text: str) -> dict[tuple, float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    """A sample's value; 0 for a labelled series not counted yet."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def bare_app(tmp_path):
    """`bare_app(config)`: an app on the test database without tables of its own; its connections are closed at
    the end (the outbox read at scrape time opens one)."""
    apps = []

    def build(config):
        apps.append(create_app(config, instance_path=str(tmp_path / f"instance{len(apps)}")))
        return apps[-1]

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_only_allowed_addresses_or_the_token_may_read_the_metrics(tmp_path, bare_app):
    app = bare_app(base_config(tmp_path, METRICS_TOKEN="s3cret-scrape-token"))
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # from 127.0.0.1, the default
    outside = {"environ_base": {"REMOTE_ADDR": OUTSIDER}}
    assert client.get("/metrics", **outside).status_code == 403
    wrong = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-tokem"}, **outside)
    assert wrong.status_code == 403 and "eventreg" not in wrong.text
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"}, **outside)
    assert right.status_code == 200 and "eventreg_http_requests_total" in right.text


def test_without_a_token_configured_no_bearer_opens_the_metrics(tmp_path, bare_app):
    app = bare_app(base_config(tmp_path))
    for header in ("Bearer ", "Bearer None", "Bearer null"):
        response = app.test_client().get(
            "/metrics", headers={"Authorization": header}, environ_base={"REMOTE_ADDR": OUTSIDER}
        )
        assert response.status_code == 403


def test_behind_a_proxy_the_client_address_decides(tmp_path, bare_app):
    """Through nginx every request comes from 127.0.0.1: with TRUSTED_PROXY_COUNT the forwarded client counts."""
    config = base_config(tmp_path, TRUSTED_PROXY_COUNT=1)
    app = bare_app(config)
    forwarded = {"headers": {"X-Forwarded-For": OUTSIDER}}
    assert app.test_client().get("/metrics", **forwarded).status_code == 403
    config["METRICS_ALLOW"] = "127.0.0.1, 203.0.113.0/24"  # FLASK_METRICS_ALLOW as a plain string: nginx, a scraper
    app = bare_app(config)
    assert app.test_client().get("/metrics", **forwarded).status_code == 200
    # A client that reaches gunicorn itself cannot pass for an allowed one by what it forwards: its own address
    # (the socket's peer) must be allowed too.
    spoofed = {"headers": {"X-Forwarded-For": "127.0.0.1"}, "environ_base": {"REMOTE_ADDR": "198.51.100.9"}}
    assert app.test_client().get("/metrics", **spoofed).status_code == 403
    config["METRICS_ALLOW"] = "203.0.113.0/24"
    app = bare_app(config)
    assert app.test_client().get("/metrics").status_code == 403  # 127.0.0.1 is no longer listed
    assert app.test_client().get("/metrics", **forwarded).status_code == 403  # nor nginx, the peer


def test_a_made_up_method_is_counted_as_other(app, client):
    client.open("/", method="BREW")
    client.open("/", method="BREW2")
    body = client.get("/metrics").text
    assert "BREW" not in body
    assert 'method="other"' in body


def test_a_malformed_allow_list_stops_the_start(tmp_path, bare_app):
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        bare_app(base_config(tmp_path, METRICS_ALLOW=["10.0.0.300"]))


def test_force_https_does_not_redirect_the_scrape(app, client):
    app.config["FORCE_HTTPS"] = True
    assert client.get("/").status_code == 308
    response = client.get("/metrics")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_requests_are_counted_by_route_never_by_path(app, client):
    event = create_test_event(app, capacity=1)
    _id, token = register_test_delegate(app, event)
    before = scrape(client)
    assert client.get(f"/r/{token}").status_code == 200
    assert client.get(f"/r/{token}x").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    body = client.get("/metrics").text
    after = parse(body)
    assert token not in body
    requests = "eventreg_http_requests_total"
    for route, status, count in [
        ("/r/<token:token>", "200", 1),
        ("/r/<token:token>", "404", 1),
        ("<unmatched>", "404", 1),
    ]:
        labels = {"route": route, "method": "GET", "status": status}
        assert value(after, requests, **labels) - value(before, requests, **labels) == count, (route, status)
    latency = "eventreg_http_request_duration_seconds_count"
    assert (
        value(after, latency, route="/r/<token:token>", method="GET")
        - value(before, latency, route="/r/<token:token>", method="GET")
        == 2
    )
    assert value(after, "eventreg_http_requests_in_progress") == 1  # the scrape itself


def test_registrations_are_counted_by_outcome(app, client):
    event = create_test_event(app, capacity=1)
    before = scrape(client)
    register_test_delegate(app, event, email="first@example.org")
    register_test_delegate(app, event, email="second@example.org")
    with pytest.raises(DuplicateRegistration):
        register_test_delegate(app, event, email="second@example.org")
    after = scrape(client)
    name = "eventreg_registrations_total"
    for outcome, reason in [("confirmed", ""), ("waitlisted", ""), ("refused", "duplicate_registration")]:
        assert (
            value(after, name, outcome=outcome, reason=reason) - value(before, name, outcome=outcome, reason=reason)
            == 1
        ), outcome


def test_the_outbox_figures_are_read_from_the_database(app, client):
    event = create_test_event(app)
    for n in range(3):
        register_test_delegate(app, event, email=f"d{n}@example.org")
    with app.app_context():
        first, second = db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(2)).all()
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == first).values(created_at=utcnow() - timedelta(hours=2))
        )
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == second).values(state=OutboxState.FAILED))
        db.session.commit()
        queued = db.session.scalar(select(func.count()).where(OutboxMessage.state == OutboxState.QUEUED))
    samples = scrape(client)
    assert value(samples, "eventreg_outbox_read_ok") == 1
    assert value(samples, "eventreg_outbox_messages", state="queued") == queued == 2
    assert value(samples, "eventreg_outbox_messages", state="failed") == 1
    assert value(samples, "eventreg_outbox_messages", state="sent") == 0
    assert 2 * 3600 <= value(samples, "eventreg_outbox_oldest_queued_age_seconds") < 3 * 3600


class RefuseSome(Collect):
    """A real SMTP server that refuses for good every recipient whose address begins with "refused"."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_app(tmp_path):
    handler = RefuseSome()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app = make_app(tmp_path, **sending_to(controller.port))
    yield app, handler
    drop_tables(app)
    controller.stop()


def test_mails_sent_and_failed_and_the_workers_polls(refusing_app):
    app, smtp_server = refusing_app
    client = app.test_client()
    event = create_test_event(app)
    for address in ("d1@example.org", "refused@example.org", "d2@example.org"):
        register_test_delegate(app, event, email=address)
    before = scrape(client)
    with app.app_context():
        run_worker(once=True)
    assert sorted(envelope.rcpt_tos[0] for envelope in smtp_server.envelopes) == ["d1@example.org", "d2@example.org"]
    after = scrape(client)
    for name, count in [("eventreg_mails_sent_total", 2), ("eventreg_mails_failed_total", 1)]:
        assert value(after, name) - value(before, name) == count, name
    assert value(after, "eventreg_outbox_worker_polls_total") > value(before, "eventreg_outbox_worker_polls_total")
    # a worker that stopped takes its heartbeat out (the gunicorn test below sees one while it runs)
    assert not [key for key in after if key[0] == "eventreg_outbox_worker_last_poll_timestamp_seconds"]


# ---- under gunicorn: two workers, one multiprocess directory, and an outbox worker writing to it too

HEARTBEAT = "eventreg_outbox_worker_last_poll_timestamp_seconds"


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def per_worker_probes(directory: Path, pids: list[int]) -> dict[int, float]:
    """How many /healthz each gunicorn worker counted, read from its own file."""
    counts = {}
    for pid in pids:
        files = [str(path) for path in directory.glob(f"counter_{pid}.db")]
        samples = [s for metric in MultiProcessCollector.merge(files) for s in metric.samples]
        counts[pid] = sum(s.value for s in samples if s.name.endswith("_total") and s.labels.get("route") == "/healthz")
    return counts


def wait_for(condition, what: str, seconds: float = 60):
    """Poll `condition()` until it gives something true (bounded, not timed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def test_under_gunicorn_the_counts_of_every_process_add_up(tmp_path, start_gunicorn, monkeypatch, smtp_server):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_4194303.db").write_bytes(b"left by a previous run")  # on_starting wipes it
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    keys = [new_key()]
    app = make_app(tmp_path, DATA_KEYS=keys)
    worker = None
    try:
        event = create_test_event(app)
        register_test_delegate(app, event)  # one confirmation mail queued
        settings = {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "gunicorn-test-secret-key",
            "DATA_KEYS": keys,
            "RATELIMIT_ENABLED": False,
        }
        server = start_gunicorn(settings, workers=2)
        assert not (directory / "counter_4194303.db").exists()
        pids = server.worker_pids()
        assert len(pids) == 2

        # Concurrent probes until both workers have answered some (a bounded number of rounds).
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            for _round in range(20):
                assert set(pool.map(lambda _n: get(server.port, "/healthz")[0], range(16))) == {200}
                sent += 16
                if all(per_worker_probes(directory, pids).values()):
                    break
        counts = per_worker_probes(directory, pids)
        assert all(counts.values()), counts
        status, body = get(server.port, "/metrics")
        assert status == 200
        total = value(parse(body), "eventreg_http_requests_total", route="/healthz", method="GET", status="200")
        assert total == sum(counts.values()) == sent

        # A worker killed: its counts stay in the figures, its live gauge (requests in progress) goes (child_exit).
        gone = pids[0]
        assert (directory / f"gauge_livesum_{gone}.db").exists()
        os.kill(gone, signal.SIGKILL)
        server.wait_for_replacement(gone, workers=2)
        wait_for(lambda: not (directory / f"gauge_livesum_{gone}.db").exists(), "child_exit to mark the worker dead")
        samples = parse(get(server.port, "/metrics")[1])
        assert value(samples, "eventreg_http_requests_total", route="/healthz", method="GET", status="200") == sent
        assert value(samples, "eventreg_http_requests_in_progress") == 1  # the scrape; the dead worker's are gone

        # The outbox worker, a process of its own, writes to the same directory: its mail and heartbeat show.
        worker_settings = {**settings, "SERVER_NAME": "reg.example.org", "OUTBOX_POLL_SECONDS": 0.2}
        worker_settings.update(sending_to(smtp_server.port))
        with open(tmp_path / "worker.log", "wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "outbox-worker"],
                cwd=ROOT,
                env=server_environment(worker_settings),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def worker_figures():
            samples = parse(get(server.port, "/metrics")[1])
            beats = [v for (name, _labels), v in samples.items() if name == HEARTBEAT]
            return samples if beats and value(samples, "eventreg_mails_sent_total") == 1 else None

        samples = wait_for(worker_figures, "the outbox worker's figures")
        assert len(smtp_server.envelopes) == 1
        assert value(samples, "eventreg_outbox_messages", state="sent") == 1
        assert value(samples, "eventreg_outbox_messages", state="queued") == 0
        worker.terminate()
        assert worker.wait(timeout=30) == 0
        samples = parse(get(server.port, "/metrics")[1])
        assert not [name for name, _labels in samples if name == HEARTBEAT]  # it marked itself dead
        assert value(samples, "eventreg_mails_sent_total") == 1  # what it did stays counted
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
        drop_tables(app)
