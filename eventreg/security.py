"""Response headers that keep private pages private and the site out of frames and sniffing."""

from flask import Flask, current_app, request

from .auth.access import is_public_endpoint

# Public pages that show one person's registration (the private link and what a delegate does through it): never
# cached, never indexed. The lost-link page is not stored either: its message repeats the typed address.
PRIVATE_PUBLIC_ENDPOINTS = {
    "registration.view_registration",
    "registration.edit_own",
    "registration.cancel_own",
    "registration.change_email",
    "registration.confirm_new_email",
    "registration.ticket",
    "registration.ticket_qr",
    "registration.ticket_calendar",
}
NO_STORE_ENDPOINTS = {"registration.lost_link"}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # A private link must not leak to other sites through the Referer header.
    headers.setdefault("Referrer-Policy", "same-origin")
    endpoint = request.endpoint
    if endpoint in PRIVATE_PUBLIC_ENDPOINTS or not is_public_endpoint(current_app, endpoint):
        headers["Cache-Control"] = "no-store"
        headers["X-Robots-Tag"] = "noindex, nofollow"
    elif endpoint in NO_STORE_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response."""
    app.after_request(_set_headers)
