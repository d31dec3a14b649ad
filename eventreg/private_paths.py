"""Secrets that travel in URLs, masked wherever a URL is logged: the access log (gunicorn.conf.py), the app's own
log (Flask's "Exception on <path>") and the development server's request log.

A private link, an email-change confirmation or a ticket code in a log file would give whoever reads the logs (or a
backup of them) the delegate's registration. Every such secret is one pattern below, its secret part the group
named `secret`: a new private URL is one more line in PRIVATE_URL_PARTS.
"""

import logging
import re

from flask import Flask

MASK = "[private]"

# Where a path begins: at the start of the text, after a space or quote (a request line, a log message), or after
# scheme://host[:port] (a Referer or any absolute URL).
_PATH_START = r'(?:^|(?<=[\s"\'])|\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s"\']*)'
# A query parameter's value: up to the next parameter, fragment, space or quote.
_VALUE = r'[^&#\s"\']+'

PRIVATE_URL_PARTS = [
    re.compile(_PATH_START + r"/r/(?P<secret>[^/?#\s\"']+)"),  # a private link /r/<token>, and all under it
    re.compile(_PATH_START + r"/i/(?P<secret>[^/?#\s\"']+)"),  # an invitation's personal link /i/<token>
    re.compile(r"(?:^|[?&])key=(?P<secret>" + _VALUE + ")"),  # an email-change confirmation /email-change?key=
    re.compile(r"(?:^|[?&])code=(?P<secret>" + _VALUE + ")"),  # a ticket's check-in code typed at the desk
]


def _mask_secret(match: re.Match) -> str:
    start, end = match.span("secret")
    return match.group(0)[: start - match.start()] + MASK + match.group(0)[end - match.start() :]


def mask_private_paths(text: str) -> str:
    """`text` (a path, a query string, a URL, a request line or a whole log line) with every secret that a
    private URL carries replaced by [private]; the rest (the page, the other parameters) stays readable."""
    for pattern in PRIVATE_URL_PARTS:
        text = pattern.sub(_mask_secret, text)
    return text


class MaskPrivatePaths(logging.Filter):
    """A logging filter that masks private URLs in a record's message (formatted with its arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_private_paths(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def init_app(app: Flask) -> None:
    """Mask private URLs in the app's log ("Exception on /r/<token> [GET]") and the development server's."""
    for logger in (app.logger, logging.getLogger("werkzeug")):
        if not any(isinstance(existing, MaskPrivatePaths) for existing in logger.filters):
            logger.addFilter(MaskPrivatePaths())
