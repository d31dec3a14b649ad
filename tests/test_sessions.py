"""Organizer sessions: a fresh session at login and none left at logout (a CSRF token from before does not carry
over), and an end after SESSION_IDLE_MINUTES without activity or PERMANENT_SESSION_LIFETIME after the login; the
numbers a page polls by itself are not activity.

Time passing is played by moving the times the session cookie holds back, as a browser left alone would find them.
"""

import pytest

from eventreg.auth.services import create_organizer
from eventreg.auth.sessions import ACTIVE_AT, LOGGED_IN_AT, POLLING_ENDPOINTS
from tests.conftest import create_test_event, drop_tables, make_app
from tests.test_csrf import csrf_app, token_from  # noqa: F401 - a fixture
from tests.test_roles import PASSWORD

EMAIL = "admin@example.org"
CSRF_REFUSAL = "Your form expired or was sent without its security token."
ENDED = "Your session has ended. Please log in again."


def log_in(client, **data):
    return client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD, **data})


def rewind(client, minutes: float, *keys) -> None:
    """Let `minutes` pass for the session's times (both, unless named)."""
    with client.session_transaction() as session:
        for key in keys or (LOGGED_IN_AT, ACTIVE_AT):
            session[key] -= int(minutes * 60)


@pytest.fixture
def admin(app, make_organizer):
    """A client logged in as an administrator."""
    make_organizer(EMAIL, PASSWORD)
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


def test_a_csrf_token_from_before_the_login_or_the_logout_is_refused_after_it(csrf_app):  # noqa: F811 - pytest hands in the imported fixture
    with csrf_app.app_context():
        create_organizer(EMAIL, PASSWORD, "admin")
    client = csrf_app.test_client()
    before_login = token_from(client.get("/auth/login").text)
    assert log_in(client, csrf_token=before_login).status_code == 302

    refused = client.post("/auth/logout", data={"csrf_token": before_login})
    assert refused.status_code == 400 and CSRF_REFUSAL in refused.text
    assert client.get("/organizer/").status_code == 200  # still logged in: the refused form did nothing

    before_logout = token_from(client.get("/auth/account").text)
    assert client.post("/auth/logout", data={"csrf_token": before_logout}).status_code == 302
    refused = log_in(client, csrf_token=before_logout)
    assert refused.status_code == 400 and CSRF_REFUSAL in refused.text
    assert log_in(client, csrf_token=token_from(client.get("/auth/login").text)).status_code == 302


def test_a_session_idle_for_the_set_time_ends(admin):
    rewind(admin, 119)
    assert admin.get("/organizer/").status_code == 200  # and that request was activity
    rewind(admin, 119)
    assert admin.get("/organizer/").status_code == 200
    rewind(admin, 120)
    response = admin.get("/organizer/")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login?next=%2Forganizer%2F"
    assert ENDED in admin.get(response.headers["Location"]).text
    assert admin.get("/organizer/").status_code == 302  # for good: the session is empty
    assert log_in(admin).status_code == 302 and admin.get("/organizer/").status_code == 200


def test_the_idle_time_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_SESSION_IDLE_MINUTES", "30")
    app = make_app(tmp_path)
    try:
        with app.app_context():
            create_organizer(EMAIL, PASSWORD, "admin")
        client = app.test_client()
        assert log_in(client).status_code == 302
        rewind(client, 29)
        assert client.get("/organizer/").status_code == 200
        rewind(client, 30)
        assert client.get("/organizer/").status_code == 302
    finally:
        drop_tables(app)


def test_a_busy_session_still_ends_at_its_lifetime(app, admin):
    for _ in range(7):  # 11 hours 40 minutes of work, a request every 100 minutes
        rewind(admin, 100)
        assert admin.get("/organizer/").status_code == 200
    rewind(admin, 20)  # 12 hours since the login, 20 minutes since the last request
    response = admin.get("/organizer/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize(
    ("url", "activity"),
    [
        ("/checkin/{slug}/counts.json", False),  # the desk's and the dashboard's check-in counts
        ("/e/{slug}/delegates.json", False),  # the public counter, open in the organizer's browser
        ("/organizer/events/{slug}", True),  # a page the organizer opened
        ("/e/{slug}/delegates", True),
    ],
)
def test_a_pages_automatic_refresh_is_not_activity(app, admin, url, activity):
    event = create_test_event(app)
    rewind(admin, 119)
    answer = admin.get(url.format(slug=event.slug))
    assert answer.status_code == 200
    rewind(admin, 2)
    response = admin.get("/organizer/")
    assert response.status_code == (200 if activity else 302)


def test_a_poll_after_the_idle_time_ends_the_session_too(app, admin):
    event = create_test_event(app)
    rewind(admin, 121)
    poll = admin.get(f"/checkin/{event.slug}/counts.json")
    assert poll.status_code == 302 and poll.headers["Location"].startswith("/auth/login")
    assert admin.get("/organizer/").status_code == 302


def test_the_polled_endpoints_exist(app):
    """A renamed endpoint would silently count as activity again."""
    assert set(app.view_functions) >= POLLING_ENDPOINTS
