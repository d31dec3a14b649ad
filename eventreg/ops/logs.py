"""Structured logs: with LOG_FORMAT = "json" every line of eventreg's loggers goes to standard error as one JSON
object (python-json-logger), one line per request and one per mail attempt among them.

A request's line names its request id (the proxy's X-Request-ID when it is a plain short token, else a new one; sent
back as X-Request-ID), route, method, path, status, duration, organizer and client address. Other lines logged during
the request carry the same request_id, so an operator finds everything one request did. A mail attempt's line names
the outbox message, its kind, the result and the SMTP error. Paths and the Referer pass through
private_paths.mask_private_paths, the masking of the access log: no private link, email-change key or ticket code
reaches a log file. A recipient's address appears only masked ('w…@cas.cn').

With LOG_FORMAT = "text" (development) Flask's own handler stays, and the request lines are INFO records that show
only where INFO is on (`flask run --debug`).
"""

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request, request_finished, request_started
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

from ..mail.addresses import mask_address_in, masked_address
from ..mail.retry import describe_error
from ..models import OutboxState
from ..private_paths import mask_private_paths

LOG_FORMATS = ("text", "json")
REQUEST_ID_HEADER = "X-Request-ID"
# An incoming request id is kept only when it is a short plain token (nginx's $request_id is 32 hex digits):
# anything else could forge log lines or carry a secret into the logs, and is replaced.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_log = logging.getLogger("eventreg.requests")
mail_log = logging.getLogger("eventreg.mail.attempts")
# A try's result by the state it left the message in: still queued means another try comes.
_MAIL_RESULTS = {OutboxState.SENT: "sent", OutboxState.QUEUED: "retry", OutboxState.FAILED: "failed"}


class RequestIdFilter(logging.Filter):
    """Adds the request id of the request being served (if any) to every record, as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and has_request_context() and "request_id" in g:
            record.request_id = g.request_id
        return True


class _StandardError(logging.StreamHandler):
    """A handler on whatever sys.stderr is when a line is written (a test's captured stream, too)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass  # StreamHandler's constructor sets it; the current sys.stderr is always used


def json_handler() -> logging.Handler:
    """A handler that writes each record as one JSON line on standard error, with the request id when there is one."""
    handler = _StandardError()
    handler.setFormatter(
        JsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            timestamp="time",  # ISO 8601 in UTC
            rename_fields={"levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(app: Flask) -> None:
    """Install the JSON handler on eventreg's loggers when LOG_FORMAT is "json"; undo it when "text".

    The logger "eventreg" is the app's and the parent of the request, worker and mail loggers; it is one object per
    process, so a second app (tests) first takes back what an earlier one installed.
    """
    log_format = app.config["LOG_FORMAT"]
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    logger = app.logger  # created now, so that Flask's default handler is in place before it is replaced
    for handler in list(logger.handlers):
        previous = getattr(handler, "eventreg_replaced", None)
        if previous is not None:
            logger.removeHandler(handler)
            logger.setLevel(previous["level"])
            logger.propagate = previous["propagate"]
            if previous["default_handler"]:
                logger.addHandler(default_handler)
    if log_format == "json":
        handler = json_handler()
        handler.eventreg_replaced = {
            "level": logger.level,
            "propagate": logger.propagate,
            "default_handler": default_handler in logger.handlers,
        }
        logger.removeHandler(default_handler)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
        # Not also through the root logger: `flask outbox-worker` gives that a text handler (basicConfig).
        logger.propagate = False


def request_id() -> str:
    """This request's id: the incoming X-Request-ID if it is a sane token, else a new random one."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    return g.request_id


def _begin(_app: Flask, **_extra) -> None:
    # request_started comes before every before_request function (an HTTPS redirect, the login check, the rate
    # limiter), so the duration counts them and the id is there for the lines they log.
    g.request_started = time.perf_counter()
    request_id()


def _send_request_id(response):
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def _finished(_app: Flask, response, **_extra) -> None:
    # request_finished comes after every after_request function (and for an error page too): the final status.
    _log_request(response.status_code)


def _failed(_error: BaseException | None) -> None:
    # An exception that escaped Flask's handling (PROPAGATE_EXCEPTIONS) ends the request with no response: the
    # server answers 500.
    # (A request context pushed by hand, test_request_context(), never started: it is no request to log.)
    if "request_started" in g and "request_logged" not in g:
        _log_request(500)


def _log_request(status: int) -> None:
    g.request_logged = True
    if not request_log.isEnabledFor(logging.INFO):
        return  # no one reads the line: do not build it
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    query = request.query_string.decode("latin-1")
    path = mask_private_paths(request.path + (f"?{query}" if query else ""))
    fields = {
        "request_id": request_id(),
        "route": request.url_rule.rule if request.url_rule else None,
        "endpoint": request.endpoint,
        "method": request.method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "organizer_id": _organizer_id(),
        "client": request.remote_addr,
        "referrer": mask_private_paths(request.referrer) if request.referrer else None,
    }
    request_log.info("%s %s %s %s ms", request.method, path, status, duration_ms, extra=fields)


def _organizer_id() -> int | None:
    """The logged-in organizer's id if the request has loaded the account (Flask-Login keeps it in g._login_user).
    Asking current_user would load it: a query for a request that did not need it (a static file), and one that
    fails again when the database is what made the request fail."""
    user = g.get("_login_user")
    return user.id if user is not None and user.is_authenticated else None


def log_mail_attempt(message, error: Exception | None, seconds: float) -> None:
    """One line for one try at sending an outbox message (its result recorded on it): "sent", "retry" or "failed",
    the recipient masked, and the error as organizers see it less the recipient's address and any private link."""
    recipient = message.recipient or ""
    result = _MAIL_RESULTS[message.state]
    error_text = describe_error(error) if error is not None else ""
    mail_log.info(
        "outbox message %s (%s) %s",
        message.id,
        message.kind,
        result,
        extra={
            "outbox_id": message.id,
            "kind": message.kind,
            "result": result,
            "attempt": message.attempts,
            "recipient": masked_address(recipient) if recipient else "",
            "message_id": message.message_id,
            "error": mask_private_paths(mask_address_in(error_text, recipient)),
            "duration_ms": round(seconds * 1000, 1),
        },
    )


def init_app(app: Flask) -> None:
    """Configure the log handlers, and log one line per request with an X-Request-ID on every response."""
    configure_logging(app)
    request_started.connect(_begin, app)
    request_finished.connect(_finished, app)
    app.after_request(_send_request_id)
    app.teardown_request(_failed)
