"""What the scale-out test (tests/test_scale_out_pg.py) runs: app hosts and outbox workers sharing one PostgreSQL,
one Redis and one set of keys; a client that fails over to the other host as a load balancer does; and an SMTP
server that answers slowly and can hold one worker in the middle of a batch while the test kills it.

Every host is a real gunicorn master (tests/gunicorn_server.py) and every worker a real `flask outbox-worker`
process; nothing here stands in for them.
"""

import asyncio
import contextlib
import email
import email.policy
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine

from tests.conftest import IN_CI, TEST_DATABASE_URL, require_redis, sending_to
from tests.gunicorn_server import (
    Browser,
    GunicornServer,
    Reply,
    gunicorn_server,
    outbox_worker,
)
from tests.test_rush import form_fields, submitted

# A database number of its own, and a key prefix per run within it (RATELIMIT_KEY_PREFIX), so that nothing else's
# counts mix with the test's and the test deletes only its own keys.
REDIS_URL = "redis://127.0.0.1:6379/5"
KEY_PREFIX_STEM = "eventreg-scale-out"
# One secret and one data keyring for every host, every worker and the test's own app: what "one site" means.
SECRET_KEY = "scale-out-test-secret-key"
DATA_KEYS = ["c2NhbGUtb3V0LXRlc3QtZGF0YS1rZXktMzItYnl0ZXM="]
SERVER_NAME = "register.example.org"
STOP_TIMEOUT_SECONDS = 30
CLAIM_SIZE = 10  # messages one outbox worker claims (locks) and sends before it records them in one commit


def require_services() -> str:
    """TEST_DATABASE_URL's PostgreSQL and the Redis at REDIS_URL, both answering; skipped outside the PostgreSQL
    pass, and where either is missing (a failure in CI). Returns the database URL."""
    if not TEST_DATABASE_URL.startswith("postgresql"):
        pytest.skip("two app hosts on one PostgreSQL: runs in the PostgreSQL pass (TEST_DATABASE_URL=postgresql…)")
    engine = create_engine(TEST_DATABASE_URL, connect_args={"connect_timeout": 5})
    try:
        engine.connect().close()
    except Exception as error:  # noqa: BLE001 - any failure to connect means "not here"
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {error}")
        pytest.skip(f"PostgreSQL does not answer ({type(error).__name__}); set CI=true to make this a failure")
    finally:
        engine.dispose()
    store = require_redis(REDIS_URL)
    try:
        # Keys of an earlier run that was killed before it could delete them.
        for key in store.scan_iter(match=f"*{KEY_PREFIX_STEM}*"):
            store.delete(key)
    finally:
        store.close()
    return TEST_DATABASE_URL


def delete_keys(prefix: str) -> None:
    """Remove the rate-limit counts stored under `prefix`."""
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        for key in store.scan_iter(match=f"*{prefix}*"):
            store.delete(key)
    finally:
        store.close()


def site_settings(database_url: str, key_prefix: str, **overrides) -> dict:
    """What every process of one site is configured with (FLASK_* names without the prefix): production's shape,
    with rate limits counted in the shared Redis."""
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": SECRET_KEY,
        "DATA_KEYS": DATA_KEYS,
        "SERVER_NAME": SERVER_NAME,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": key_prefix,
        **overrides,
    }


class Hosts:
    """The app hosts of a test module: gunicorn masters started side by side (each start imports the whole app, a
    few seconds), and all stopped at once at the end (each takes seconds to stop)."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[GunicornServer] = []
        self._servers = contextlib.ExitStack()
        self._lock = threading.Lock()

    def start(self, settings: dict, count: int = 1, workers: int = 2) -> list[GunicornServer]:
        """`count` gunicorn masters with `workers` worker processes each, configured by `settings`, answering."""
        with ThreadPoolExecutor(max_workers=count) as pool:
            starting = [pool.submit(self._start_one, settings, workers) for _ in range(count)]
        return [server.result() for server in starting]

    def _start_one(self, settings: dict, workers: int) -> GunicornServer:
        server_log = gunicorn_server(settings, self.log_dir / f"host-{uuid.uuid4().hex[:8]}.log", workers)
        server = server_log.__enter__()
        with self._lock:
            self._servers.push(server_log.__exit__)
            self.started.append(server)
        return server

    def stop_all(self) -> None:
        """SIGTERM every master still running, then wait for each (gunicorn_server's own stop kills what hangs)."""
        for server in self.started:
            if server.process.poll() is None:
                server.process.terminate()
        self._servers.close()


# ---- the hosts, as a client sees them


def request_json(port: int, path: str, headers: dict | None = None) -> tuple[int, dict]:
    """GET `path` from the host on `port`: the status and the JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Accept-Language": "en", **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        return response.status, json.loads(body) if response.status == 200 else {}
    finally:
        connection.close()


def on_port(browser: Browser, port: int) -> Browser:
    """The same browser (the very same cookies) talking to another port of 127.0.0.1, as a real browser does:
    cookies are not port-specific (RFC 6265, section 8.5)."""
    other = Browser(port)
    other.cookies = browser.cookies
    return other


def register(port: int, slug: str, email: str, post_port: int | None = None) -> Reply:
    """A delegate loads the form from one host and sends it, to the same host or to `post_port`."""
    browser = Browser(port)
    page = browser.get(f"/e/{slug}/register")
    assert page.status == 200, page.text[:500]
    if post_port is not None:
        browser = on_port(browser, post_port)
    return browser.post(f"/e/{slug}/register", {**Browser.hidden_fields(page), **form_fields(email)})


def log_in(port: int, email: str, password: str) -> tuple[Browser, Reply]:
    """A fresh browser that loads the login form from the host on `port` and sends it."""
    browser = Browser(port)
    page = browser.get("/auth/login")
    assert page.status == 200, page.text[:500]
    reply = browser.post("/auth/login", {**Browser.hidden_fields(page), "email": email, "password": password})
    return browser, reply


@dataclass
class FailoverLoad:
    """Delegates registering without pause through a load balancer that sends each request to the next host in
    turn, and on a refused or broken connection sends the same request to the next one (nginx's
    `proxy_next_upstream error`). A request is never retried on an HTTP answer: every answer is what a delegate saw.

    `ports` may be changed while it runs (a host taken out, a new one added)."""

    slug: str
    ports: list[int]
    answers: list[tuple[str, int, int]] = field(default_factory=list)  # (email, port, status) of each POST answered
    page_statuses: Counter = field(default_factory=Counter)  # the form pages' statuses
    failovers: int = 0
    _turn: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _next_port(self) -> int:
        with self._lock:
            self._turn += 1
            ports = list(self.ports)
            return ports[self._turn % len(ports)]

    def _send(self, browser: Browser, send: Callable[[Browser], Reply]) -> tuple[int, Reply]:
        """One request through the balancer: the port that answered, and its answer."""
        for _try in range(20):
            browser.port = self._next_port()
            try:
                return browser.port, send(browser)
            except (OSError, http.client.HTTPException):  # the host is down or going down: the next one
                with self._lock:
                    self.failovers += 1
        raise AssertionError(f"no host answered 20 tries in a row ({self.ports})")

    def _delegate(self, email: str) -> None:
        browser = Browser(0)
        _port, page = self._send(browser, lambda b: b.get(f"/e/{self.slug}/register"))
        with self._lock:
            self.page_statuses[page.status] += 1
        if page.status != 200:
            return
        fields = {**Browser.hidden_fields(page), **form_fields(email)}
        port, reply = self._send(browser, lambda b: b.post(f"/e/{self.slug}/register", fields))
        with self._lock:
            self.answers.append((email, port, reply.status if submitted(reply) else -reply.status))

    def answered_by(self, port: int) -> int:
        """How many registrations the host on `port` answered."""
        with self._lock:
            return sum(1 for _email, answered, _status in self.answers if answered == port)

    @contextlib.contextmanager
    def running(self, delegates: int, pause: float = 0.1) -> Iterator["FailoverLoad"]:
        """`delegates` browsers registering one after the other (`pause` seconds apart: every registration is a
        mail for the mail test to send), each under its own addresses, while the block runs; they finish the
        registration in hand when it ends."""

        def keep_registering(number: int) -> None:
            sent = 0
            while not self._stop.wait(pause):
                self._delegate(f"rolling{number}-{sent}@example.org")
                sent += 1

        threads = [threading.Thread(target=keep_registering, args=(n,), daemon=True) for n in range(delegates)]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "a delegate's request never ended"

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
        """Block until `condition()` holds (bounded, not timed)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not reached in {timeout} s ({len(self.answers)} answered)")
            time.sleep(0.05)


def stop_gracefully(process: subprocess.Popen) -> int:
    """SIGTERM a gunicorn master (it finishes the requests in hand, then exits), and wait for it; its exit code."""
    process.terminate()
    return process.wait(timeout=STOP_TIMEOUT_SECONDS)


# ---- the outbox workers and the mail server


@contextlib.contextmanager
def outbox_workers(settings: dict, smtp_port: int, log_dir: Path, count: int) -> Iterator[list[subprocess.Popen]]:
    """`count` outbox workers sending to the SMTP server on `smtp_port`; each stopped (SIGTERM, then SIGKILL) at
    the end, unless the test killed it already."""
    settings = {**settings, **sending_to(smtp_port), "OUTBOX_POLL_SECONDS": 0.2, "OUTBOX_CLAIM_SIZE": CLAIM_SIZE}
    workers = [outbox_worker(settings, log_dir / f"worker{n}.log") for n in range(count)]
    try:
        yield workers
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@dataclass(frozen=True)
class Received:
    """One mail the SMTP server accepted: from which connection (the client's port), its Message-ID, recipients
    and subject."""

    peer_port: int
    message_id: str
    recipients: tuple[str, ...]
    subject: str


class SlowServer:
    """An aiosmtpd handler that takes `delay` seconds over each message, as a remote server does, so that a batch
    takes time; and that holds one worker in the middle of a batch: once two connections have delivered mail, the
    first one that has delivered `hold_after` messages of a batch (full batches of CLAIM_SIZE while the backlog
    lasts) gets no answer to its next message until `release()`."""

    def __init__(self, delay: float, hold_after: int):
        self.delay = delay
        self.hold_after = hold_after
        self.received: list[Received] = []
        self.held_peer: int | None = None  # the port of the connection being held
        self.unrecorded: list[str] = []  # the Message-IDs it had delivered of the batch it was in
        self.holding = threading.Event()
        self._released = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        peer = session.peer[1]
        if self._hold(peer):
            self.holding.set()
            while not self._released.is_set():
                await asyncio.sleep(0.01)
            return "421 closing"  # its sender is gone by now: nobody reads this
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(peer, mail["Message-ID"], tuple(envelope.rcpt_tos), str(mail["Subject"])))
        return "250 OK"

    def _hold(self, peer: int) -> bool:
        """Whether to hold this message of `peer` (the held connection's later messages are held too)."""
        if self.held_peer is not None or self._released.is_set():
            return peer == self.held_peer and not self._released.is_set()
        delivered = [mail.message_id for mail in self.received if mail.peer_port == peer]
        both_sending = len({mail.peer_port for mail in self.received}) >= 2
        if both_sending and len(delivered) % CLAIM_SIZE == self.hold_after:
            self.held_peer = peer
            self.unrecorded = delivered[-self.hold_after :]
            return True
        return False

    def release(self) -> None:
        """Let the held connection go (and hold no other)."""
        self._released.set()


def process_with_local_port(pids: list[int], port: int) -> int | None:
    """The process among `pids` that owns a TCP socket bound to local `port` on this machine (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            columns = line.split()
            if int(columns[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{columns[9]}]")
    for pid in pids:
        with contextlib.suppress(OSError):  # the process ended meanwhile
            if inodes & {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}:
                return pid
    return None
