"""Response headers that keep private pages private and the site out of frames and sniffing; HTTPS when asked.

Every response carries a Content-Security-Policy that allows scripts and styles only from our own files (no inline
script, no event handler attributes, no style attributes: tests/test_headers.py parses every page for them). With
FORCE_HTTPS, plain HTTP is redirected to HTTPS and HTTPS answers carry HSTS; the session cookie is Secure whenever
the request came over HTTPS (directly, or through a trusted proxy's X-Forwarded-Proto), so plain HTTP on
127.0.0.1 keeps working in development.

The mark `@public` lives here too: these headers and the login check (auth/access.py, which hands it on to the
views beside `@requires`) both read it, and auth depends on this module, never the other way round.
"""

from flask import Flask, current_app, has_request_context, redirect, request
from flask.sessions import SecureCookieSessionInterface

# Public pages that show one person's registration (the private link and what a delegate does through it): never
# cached, never indexed. The lost-link page is not stored either: its message repeats the typed address.
PRIVATE_PUBLIC_ENDPOINTS = {
    "self_service.view_registration",
    "self_service.edit_own",
    "self_service.cancel_own",
    "self_service.erase_own",
    "self_service.change_email",
    "self_service.confirm_new_email",
    "tickets.ticket",
    "tickets.ticket_qr",
    "tickets.ticket_calendar",
    "visa_letters.verify",
    "visa_letters.own_letter",
    "certificates.own_certificate",
}
NO_STORE_ENDPOINTS = {"self_service.lost_link"}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The check-in desk's scanner uses the camera; nothing uses the rest.
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"


def public(view):
    """Mark a view as reachable without logging in."""
    view.is_public = True
    return view


def is_static(endpoint: str | None) -> bool:
    """True for the endpoints that serve static files (the app's and any blueprint's)."""
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def is_public_endpoint(app: Flask, endpoint: str | None) -> bool:
    """True for endpoints anyone may reach: static files and views marked @public."""
    if endpoint is None or is_static(endpoint):
        return True
    view = app.view_functions.get(endpoint)
    return bool(getattr(view, "is_public", False))


def cookie_secure() -> bool:
    """Whether cookies set now get the Secure flag: always with FORCE_HTTPS or SESSION_COOKIE_SECURE, else when
    this request came over HTTPS."""
    config = current_app.config
    return bool(config["SESSION_COOKIE_SECURE"] or config["FORCE_HTTPS"]) or (
        has_request_context() and request.is_secure
    )


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag decided per request (see cookie_secure)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure over HTTPS, and always when HTTPS is enforced."""
        return cookie_secure()


def plain_http(view):
    """Mark a view that answers plain HTTP even with FORCE_HTTPS: health probes and Prometheus talk to the app host
    directly, without TLS, and follow no redirect (ops/health.py, ops/metrics.py)."""
    view.plain_http = True
    return view


def _require_https():
    """With FORCE_HTTPS, send a plain-HTTP request to the same URL over HTTPS (308 keeps a POST a POST)."""
    if current_app.config["FORCE_HTTPS"] and not request.is_secure:
        if getattr(current_app.view_functions.get(request.endpoint), "plain_http", False):
            return None
        return redirect(request.url.replace("http://", "https://", 1), code=308)
    return None


def _set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors, for browsers that predate it
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    # A private link must not leak to other sites through the Referer header.
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["FORCE_HTTPS"] and request.is_secure:
        headers.setdefault("Strict-Transport-Security", f"max-age={int(current_app.config['HSTS_SECONDS'])}")
    endpoint = request.endpoint
    if endpoint in PRIVATE_PUBLIC_ENDPOINTS or not is_public_endpoint(current_app, endpoint):
        headers["Cache-Control"] = "no-store"
        headers["X-Robots-Tag"] = "noindex, nofollow"
    elif endpoint in NO_STORE_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response; with FORCE_HTTPS, redirect plain HTTP and build links with https."""
    app.session_interface = SessionInterface()
    if app.config["FORCE_HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    # First of all: before the login check sends an http:// request to the login page.
    app.before_request_funcs.setdefault(None, []).insert(0, _require_https)
    app.after_request(_set_headers)
