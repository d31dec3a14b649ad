"""/metrics for Prometheus, and the hooks that count every request (the metrics themselves: ops/instruments.py).

Under gunicorn (PROMETHEUS_MULTIPROC_DIR set) a scrape adds up the files of every process of the host; otherwise
it renders this process's registry. The outbox figures (messages by state, age of the oldest queued one) are read
from the database at scrape time and rendered apart: custom collectors do not work in multiprocess mode, and a
gauge set by one worker would be mixed with the stale values of the others.

Only addresses in METRICS_ALLOW (as ProxyFix sees the client, with TRUSTED_PROXY_COUNT) or a request with
`Authorization: Bearer <METRICS_TOKEN>` may read it; anyone else gets 403, so that an operator whose scraper is
refused sees why (the path is Prometheus's usual one: hiding it behind a 404 would hide nothing).
"""

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, limiter
from ..models import OutboxMessage, OutboxState, utcnow
from ..security import plain_http, public
from . import instruments

bp = Blueprint("metrics", __name__)
limiter.exempt(bp)  # scraped every few seconds from one address
UNMATCHED_ROUTE = "<unmatched>"  # a path no rule matches (404, 405): its raw path could be anything


@bp.get("/metrics")
@public
@plain_http
def metrics():
    """Prometheus's scrape: the counters of every process of this host, then the outbox read from the database."""
    if not _may_scrape():
        return Response("forbidden\n", status=403, mimetype="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry) + generate_latest(_OutboxFigures())
    response = Response(body, mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


class _OutboxFigures:
    """The outbox as the database says now, rendered on its own (a collector of one scrape)."""

    def collect(self):
        """Messages by state and the age of the oldest queued one; eventreg_outbox_read_ok 0 when the database
        could not be read (the other figures are left out rather than shown as zero)."""
        read_ok = GaugeMetricFamily("eventreg_outbox_read_ok", "1 when this scrape could read the outbox.")
        try:
            counts = dict(
                db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
            )
            oldest = db.session.scalar(
                select(func.min(OutboxMessage.created_at)).where(OutboxMessage.state == OutboxState.QUEUED)
            )
        except SQLAlchemyError as error:
            db.session.rollback()
            current_app.logger.warning("metrics: the outbox could not be read: %s", error)
            read_ok.add_metric([], 0)
            yield read_ok
            return
        read_ok.add_metric([], 1)
        yield read_ok
        depth = GaugeMetricFamily("eventreg_outbox_messages", "Outbox messages by state.", labels=["state"])
        for state in OutboxState:
            depth.add_metric([state.value], counts.get(state, 0))
        yield depth
        age = GaugeMetricFamily(
            "eventreg_outbox_oldest_queued_age_seconds", "Age of the oldest queued message (0 when none is queued)."
        )
        age.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0)
        yield age


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _may_scrape() -> bool:
    """From an allowed address, or with the token."""
    token = current_app.config.get("METRICS_TOKEN")
    scheme, _space, offered = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), str(token).encode()):
        return True
    # Every address the request came through must be allowed: the client as ProxyFix reads it from X-Forwarded-For
    # (TRUSTED_PROXY_COUNT) and the socket's peer. ProxyFix believes any peer, so a client that reaches gunicorn
    # directly and sends "X-Forwarded-For: 127.0.0.1" is still refused by its own address; through nginx the peer
    # is nginx (127.0.0.1) and the client must be allowed too.
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", request.remote_addr)
    allowed = current_app.extensions["eventreg_metrics_allow"]
    try:
        addresses = {ipaddress.ip_address(value or "") for value in (request.remote_addr, peer)}
    except ValueError:
        return False
    return all(any(address in network for network in allowed) for address in addresses)


def allowed_networks(setting) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """METRICS_ALLOW as networks: a list, or a string of addresses and networks separated by commas or spaces
    (FLASK_METRICS_ALLOW=10.0.0.5 is not JSON, so it arrives as a string). Raises ValueError on a bad entry."""
    entries = setting.replace(",", " ").split() if isinstance(setting, str) else list(setting or [])
    return [ipaddress.ip_network(str(entry).strip(), strict=False) for entry in entries]


def _start_request():
    g.metrics_started = time.perf_counter()
    instruments.REQUESTS_IN_PROGRESS.inc()


def _count_request(response):
    started = g.get("metrics_started")
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
        # The method is the client's word: any other than HTTP's own is "other", or each made-up one would be new
        # series in every process's files and every scrape.
        method = request.method if request.method in KNOWN_METHODS else "other"
        instruments.REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
        instruments.REQUEST_SECONDS.labels(route=route, method=method).observe(time.perf_counter() - started)
    return response


def _end_request(_error: BaseException | None) -> None:
    if g.pop("metrics_started", None) is not None:
        instruments.REQUESTS_IN_PROGRESS.dec()


def init_app(app: Flask) -> None:
    """Count every request (called after security.init_app, so that a FORCE_HTTPS redirect is counted too) and
    check METRICS_ALLOW at start-up."""
    app.extensions["eventreg_metrics_allow"] = allowed_networks(app.config["METRICS_ALLOW"])
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_count_request)
    app.teardown_request(_end_request)
