"""The Prometheus metrics that the code counts as it goes: requests, registrations, mail sent, worker polls.

This module depends on prometheus-client only, so that the registration service and the outbox worker can count
without importing the web layer. /metrics (ops/metrics.py) renders them, with the outbox figures it reads from the
database at scrape time.

Under gunicorn PROMETHEUS_MULTIPROC_DIR is set (gunicorn.conf.py wipes it at start): prometheus-client then keeps
each process's values in files there, and a scrape of any worker adds up every process of the host, the outbox
workers too when they run with the same directory. It decides that when prometheus_client is first imported, so
the variable must be in the environment before the process starts.
"""

import contextlib
import os
import socket
import time

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.multiprocess import mark_process_dead

REQUESTS = Counter(
    "eventreg_http_requests",
    "HTTP requests answered, by route (the URL rule, never the path: private links hold tokens) and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "eventreg_http_request_duration_seconds",
    "Time from the start of a request's handling to its response, by route.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# livesum: a process that died mid-request (killed, timed out) leaves no request in progress behind it, once
# gunicorn's child_exit has marked it dead.
REQUESTS_IN_PROGRESS = Gauge(
    "eventreg_http_requests_in_progress",
    "Requests being handled right now.",
    multiprocess_mode="livesum",
)
REGISTRATIONS = Counter(
    "eventreg_registrations",
    "Registrations asked for, by outcome (confirmed, pending, waitlisted, refused) and, for a refusal, its reason.",
    ["outcome", "reason"],
)
MAILS_SENT = Counter("eventreg_mails_sent", "Mails the outbox workers handed to the mail server.")
MAILS_DEFERRED = Counter("eventreg_mails_deferred", "Tries that failed for a passing reason; the mail stays queued.")
MAILS_FAILED = Counter("eventreg_mails_failed", "Mails given up on (refused for good, or failing too long).")
WORKER_POLLS = Counter("eventreg_outbox_worker_polls", "Passes of the outbox workers over the queue.")
# liveall: one series per live worker process (prometheus-client adds a pid label); a worker that stopped cleanly
# removes its own (mark_worker_stopped), one that was killed keeps its last value, and so grows old: alert on
# time() - eventreg_outbox_worker_last_poll_timestamp_seconds.
WORKER_LAST_POLL = Gauge(
    "eventreg_outbox_worker_last_poll_timestamp_seconds",
    "When each outbox worker last looked at the queue (Unix time).",
    ["worker"],
    multiprocess_mode="liveall",
)


def _worker_name() -> str:
    """This worker in the heartbeat's label: host and process id (read each time: a process may have forked)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def count_registration(status: str) -> None:
    """Count a registration written with `status` (confirmed, pending or waitlisted)."""
    REGISTRATIONS.labels(outcome=str(status), reason="").inc()


def count_refusal(refusal: Exception) -> None:
    """Count a registration refused; the reason is the refusal's class in snake case (event_full, …)."""
    name = type(refusal).__name__
    reason = "".join(f"_{letter.lower()}" if letter.isupper() else letter for letter in name).lstrip("_")
    REGISTRATIONS.labels(outcome="refused", reason=reason).inc()


def count_mail_results(states: list[str]) -> None:
    """Count the results of one batch of the outbox worker, once committed: each message's state after its try
    (sent; queued again: deferred; failed)."""
    MAILS_SENT.inc(states.count("sent"))
    MAILS_DEFERRED.inc(states.count("queued"))
    MAILS_FAILED.inc(states.count("failed"))


def worker_polled() -> None:
    """The worker's heartbeat: it looked at the queue now."""
    WORKER_POLLS.inc()
    WORKER_LAST_POLL.labels(worker=_worker_name()).set(time.time())


def mark_worker_stopped() -> None:
    """A worker leaving: take its heartbeat out of the host's figures (gunicorn's workers are marked by its
    child_exit hook instead)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        mark_process_dead(os.getpid())
    else:
        with contextlib.suppress(KeyError):  # it never polled
            WORKER_LAST_POLL.remove(_worker_name())
