"""Friendly error pages in the site's layout."""

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You do not have the right to see this page."),
    404: _l("There is nothing at this address. Please check the link."),
    405: _l("This page cannot be used that way."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Please try again in a moment."),
}

# Where the page's wording speaks of pages and links, API clients get their own.
API_MESSAGES = {
    403: _l("This account does not have the right to read this."),
    404: _l("There is no such resource."),
    405: _l("This resource cannot be used with that method."),
}
CSRF_MESSAGE = _l("Your form expired or was sent without its security token. Please reload the page and try again.")
API_CSRF_MESSAGE = _l("The request was refused: its security token is missing or expired.")


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _render(error: HTTPException):
    code = error.code or 500
    message = MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500])
    # Keep what the exception says in its headers (Allow on a 405, Retry-After on a 429), not its body type.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if _is_api():
        # API clients read JSON, never an HTML page
        return jsonify(error=str(API_MESSAGES.get(code, message))), code, headers
    return render_template("error.html", code=code, message=message), code, headers


def _csrf_error(error: CSRFError):
    if _is_api():
        return jsonify(error=str(API_CSRF_MESSAGE)), 400
    return render_template("error.html", code=400, message=CSRF_MESSAGE), 400


def init_app(app: Flask) -> None:
    """Render every HTTP error through the error page."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _render)
