"""Health checks for load balancers and orchestrators: /healthz (the process is up) and /readyz (it can serve).

/readyz answers 200 only when the database answers, its schema is not behind this code's migrations and the rate
limits' Redis answers where one is configured; else 503. Its JSON names each check and nothing of the
configuration: it is public, as probes carry no credentials. Neither needs a login, neither is redirected by
FORCE_HTTPS (probes talk plain HTTP to the app host), neither is rate limited or touches the session.

A schema newer than this code is ready: during a rolling deploy the new release's expand migration has run while
hosts of the previous release still serve (docs/architecture.md, "Upgrades"). Behind means missing or older: this
code would query columns that are not there yet.
"""

from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from limits.storage import storage_from_string
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from ..extensions import db, limiter
from ..security import plain_http, public

bp = Blueprint("health", __name__)
limiter.exempt(bp)  # a probe every few seconds from one address must never be refused

# Seconds a check may take: a dead database or Redis fails the probe quickly instead of holding it (and a worker).
CHECK_TIMEOUT_SECONDS = 2
OK, FAIL, BEHIND, SKIPPED = "ok", "fail", "behind", "skipped"


def _answer(body: dict, status: int = 200):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # a cached "ok" would hide an outage
    return response


@bp.get("/healthz")
@public
@plain_http
def healthz():
    """Liveness: 200 while the process answers; it asks nothing of the database."""
    return _answer({"status": OK})


@bp.get("/readyz")
@public
@plain_http
def readyz():
    """Readiness: 200 when the database, its schema and Redis (if configured) are fit to serve, else 503."""
    checks = {"database": FAIL, "schema": FAIL, "redis": FAIL}
    try:
        checks["redis"] = _redis_check(current_app)
    except Exception as error:  # noqa: BLE001 - a store that cannot even be opened (bad URI, no driver) is a 503
        current_app.logger.warning("readyz: redis check failed: %s", error)
    try:
        with _probe_engine(current_app).connect() as connection:
            connection.execute(text("SELECT 1"))
            checks["database"] = OK
            checks["schema"] = _schema_check(connection, _migrations(current_app.extensions["migrate"].directory))
    except Exception as error:  # noqa: BLE001 - whatever the failure, the answer is 503 and the log says why
        current_app.logger.warning(
            "readyz: %s check failed: %s", "schema" if checks["database"] == OK else "database", error
        )
    failed = [name for name, state in checks.items() if state not in (OK, SKIPPED)]
    return _answer({"status": FAIL if failed else OK, "checks": checks}, 503 if failed else 200)


def _probe_engine(app: Flask) -> Engine:
    """The engine the database check uses: on PostgreSQL one of its own, opening a connection per probe with
    short connect and statement timeouts (the app's pool would wait for as long as the operating system does);
    SQLite is a local file and uses the app's."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        return db.engine
    engine = app.extensions.get("eventreg_probe_engine")
    if engine is None:
        timeout_ms = CHECK_TIMEOUT_SECONDS * 1000
        engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={"connect_timeout": CHECK_TIMEOUT_SECONDS, "options": f"-c statement_timeout={timeout_ms}"},
        )
        app.extensions["eventreg_probe_engine"] = engine
    return engine


@cache
def _migrations(directory: str) -> tuple[frozenset[str], frozenset[str]]:
    """This code's migrations: their heads and every revision they know (read once: they change with the code)."""
    script = ScriptDirectory(str(Path(directory)))
    return frozenset(script.get_heads()), frozenset(revision.revision for revision in script.walk_revisions())


def _schema_check(connection, migrations: tuple[frozenset[str], frozenset[str]]) -> str:
    """ok when the database is at this code's head or at a revision it does not know (a later release's);
    behind when it has no revision or an older one."""
    heads, known = migrations
    if not inspect(connection).has_table("alembic_version"):
        return BEHIND  # never migrated (tables made some other way): nothing says they match this code
    current = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if current - known:
        return OK  # a newer release migrated it (expand first): this code still finds everything it reads
    return OK if current and heads <= current else BEHIND


def _redis_check(app: Flask) -> str:
    """ok when the rate limits' shared store answers, skipped when they count in memory (memory://)."""
    uri = app.config["RATELIMIT_STORAGE_URI"]
    if not uri or uri.startswith("memory://"):
        return SKIPPED
    storage = app.extensions.get("eventreg_probe_storage")
    if storage is None:
        # The store as Flask-Limiter opens it, with its socket timeouts (RATELIMIT_STORAGE_OPTIONS), apart from the
        # limiter's own, so a probe never switches the limiter to its in-memory fallback.
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        if uri.startswith("redis"):
            options.setdefault("socket_connect_timeout", CHECK_TIMEOUT_SECONDS)
            options.setdefault("socket_timeout", CHECK_TIMEOUT_SECONDS)
        storage = storage_from_string(uri, **options)
        app.extensions["eventreg_probe_storage"] = storage
    return OK if storage.check() else FAIL
