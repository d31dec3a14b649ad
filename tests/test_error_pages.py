"""Every error a visitor can meet is a friendly page in the site's layout, and JSON under /api/: 400 (a missing
CSRF token), 403, 404, 405, 413, 429 and 500, each caused the way it happens for real where a real route can."""

import uuid

import pytest
from flask import request
from flask_babel import LazyString
from markupsafe import escape

from eventreg import errors
from eventreg.auth.access import public
from eventreg.extensions import limiter
from tests.conftest import create_test_event, drop_tables, make_app
from tests.test_api import make_account


def assert_error_page(response, code: int, message: str) -> None:
    """An HTML page in the site's layout (header, navigation, main, footer) that says what happened."""
    assert response.status_code == code, response.text[:500]
    assert response.mimetype == "text/html"
    page = response.text
    assert 'class="site-header"' in page and '<main id="content"' in page and 'class="site-footer"' in page
    assert str(escape(message)) in page
    assert 'href="/"' in page  # a way back: the brand link, and the list of events


def assert_json_error(response, code: int, message: str | None = None) -> None:
    """A JSON body {"error": "…"} that says what happened, never an HTML page."""
    assert response.status_code == code, response.text[:500]
    assert response.mimetype == "application/json"
    assert response.json["error"].strip()
    if message is not None:
        assert response.json["error"] == message


@pytest.fixture
def odd_routes_app(tmp_path, monkeypatch):
    """An app with routes that only tests have: an API route that reads a form body (none of the real ones reads a
    body, so their 413 and CSRF refusals could not otherwise be seen under /api/), one limited to one request an hour,
    and routes that fail; CSRF and rate limits on, errors not propagated (as in production)."""
    monkeypatch.setattr(limiter, "_key_prefix", None)  # the one Limiter keeps the first app's prefix otherwise
    app = make_app(
        tmp_path,
        WTF_CSRF_ENABLED=True,
        RATELIMIT_ENABLED=True,
        RATELIMIT_KEY_PREFIX=f"error-pages-{uuid.uuid4().hex}",
        LOST_LINK_LIMIT_PER_IP="1 per hour",
        PROPAGATE_EXCEPTIONS=False,
    )

    @app.post("/api/v1/echo-for-a-test")
    @public
    def echo():
        return {"fields": len(request.form)}

    @app.get("/api/v1/limited-for-a-test")
    @app.get("/limited-for-a-test")
    @public
    @limiter.limit("1 per hour")
    def limited():
        return {"ok": True}

    @app.get("/api/v1/broken-for-a-test")
    @app.get("/broken-for-a-test")
    @public
    def broken():
        raise RuntimeError("a bug")

    yield app
    drop_tables(app)


# ---- 404


def test_an_unknown_address_is_a_404_page(client):
    assert_error_page(client.get("/no-such-page"), 404, str(errors.MESSAGES[404]))
    assert_error_page(client.get("/e/no-such-event/register"), 404, str(errors.MESSAGES[404]))


def test_an_unknown_api_address_is_json(app, client, make_event):
    make_event()
    headers = make_account(app, "admin@example.org", "admin")
    assert_json_error(client.get("/api/v1/no-such-resource", headers=headers), 404, "There is no such resource.")
    assert_json_error(client.get("/api/v1/events/no-such-event", headers=headers), 404, "There is no such resource.")


# ---- 401 (the API) and 403


def test_an_api_request_without_a_token_is_json(client):
    response = client.get("/api/v1/events")
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_page_the_role_may_not_see_is_a_403_page(client, make_organizer):
    email, password = make_organizer(email="desk@example.org", role="checkin")
    assert client.post("/auth/login", data={"email": email, "password": password}).status_code == 302
    response = client.get("/admin/accounts")
    assert_error_page(response, 403, str(errors.MESSAGES[403]))
    assert "Check-in desk" in response.text  # the navigation of the one who is logged in


def test_a_forbidden_api_resource_is_json(app, client, make_event):
    event = make_event()
    headers = make_account(app, "organizer@example.org", "organizer")  # runs no event
    assert_json_error(client.get(f"/api/v1/events/{event.slug}", headers=headers), 403)


# ---- 405


def test_a_wrong_method_is_a_405_page_and_json_under_the_api(app, client):
    response = client.get("/auth/logout")
    assert_error_page(response, 405, str(errors.MESSAGES[405]))
    assert "POST" in response.headers["Allow"]
    response = client.post("/api/v1/events", headers=make_account(app, "admin@example.org", "admin"))
    assert_json_error(response, 405, "This resource cannot be used with that method.")
    assert "GET" in response.headers["Allow"]


# ---- 413


def test_an_oversized_form_is_a_413_page(client, make_event):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data={"dietary": "x" * (2 * 1024 * 1024)})
    assert_error_page(response, 413, str(errors.MESSAGES[413]))


def test_an_oversized_body_under_the_api_is_json(odd_routes_app):
    client = odd_routes_app.test_client()
    response = client.post("/api/v1/echo-for-a-test", data={"text": "x" * (2 * 1024 * 1024)})
    assert_json_error(response, 413, str(errors.MESSAGES[413]))


# ---- 429


def test_too_many_requests_is_a_429_page(odd_routes_app):
    event = create_test_event(odd_routes_app)
    client = odd_routes_app.test_client()
    page = client.get(f"/e/{event.slug}/lost-link").text
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    ask = {"email": "someone@example.org", "csrf_token": token}
    assert client.post(f"/e/{event.slug}/lost-link", data=ask).status_code == 302
    response = client.post(f"/e/{event.slug}/lost-link", data=ask)
    assert_error_page(response, 429, "Please wait a little before you try again")
    assert int(response.headers["Retry-After"]) > 0
    # A limit on any other page, too.
    assert client.get("/limited-for-a-test").status_code == 200
    response = client.get("/limited-for-a-test")
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert '<main id="content"' in response.text


def test_too_many_api_requests_are_json(odd_routes_app):
    client = odd_routes_app.test_client()
    assert client.get("/api/v1/limited-for-a-test").status_code == 200
    response = client.get("/api/v1/limited-for-a-test")
    assert_json_error(response, 429, str(errors.MESSAGES[429]))
    assert int(response.headers["Retry-After"]) > 0


# ---- 400: the CSRF token


def test_a_form_without_its_csrf_token_is_a_400_page(odd_routes_app):
    client = odd_routes_app.test_client()
    response = client.post("/auth/login", data={"email": "admin@example.org", "password": "correct horse battery"})
    assert_error_page(response, 400, str(errors.CSRF_MESSAGE))


def test_an_api_request_without_its_csrf_token_is_json(odd_routes_app):
    client = odd_routes_app.test_client()
    response = client.post("/api/v1/echo-for-a-test", data={"text": "hello"})
    assert_json_error(response, 400, str(errors.API_CSRF_MESSAGE))


# ---- 500


def test_a_bug_is_a_500_page_and_json_under_the_api(odd_routes_app):
    client = odd_routes_app.test_client()
    assert_error_page(client.get("/broken-for-a-test"), 500, str(errors.MESSAGES[500]))
    assert_json_error(client.get("/api/v1/broken-for-a-test"), 500, str(errors.MESSAGES[500]))


# ---- the wording


def test_every_error_message_follows_the_request_language():
    """Lazy strings, translated when shown, not once at import in the language of no one."""
    for message in [*errors.MESSAGES.values(), *errors.API_MESSAGES.values()]:
        assert isinstance(message, LazyString)
    assert isinstance(errors.CSRF_MESSAGE, LazyString) and isinstance(errors.API_CSRF_MESSAGE, LazyString)
