"""With CSRF protection on (as in production), a POST without the token is refused."""

import re

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import ApiToken, AuditEntry, Event, Organizer, OutboxMessage, Registration
from tests.conftest import create_test_event, drop_tables, make_app
from tests.test_registration import form
from tests.test_roles import PASSWORD, email_of, session_rules, url_values, urls, world  # noqa: F401 - a fixture


@pytest.fixture
def csrf_app(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    drop_tables(app)


def test_registration_without_the_token_is_refused(csrf_app):
    event = create_test_event(csrf_app)
    client = csrf_app.test_client()
    response = client.post(f"/e/{event.slug}/register", data=form(given_name="Ирина"))
    assert response.status_code == 400
    assert "This form had expired, so nothing was sent." in response.text
    assert 'value="Ирина"' in response.text  # what was typed is kept, with a fresh token to send it again
    retry = client.post(f"/e/{event.slug}/register", data={**form(), "csrf_token": token_from(response.text)})
    assert retry.status_code == 303
    with csrf_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 1


def test_registration_with_the_token_is_accepted(csrf_app):
    event = create_test_event(csrf_app)
    client = csrf_app.test_client()
    page = client.get(f"/e/{event.slug}/register").text
    response = client.post(f"/e/{event.slug}/register", data={**form(), "csrf_token": token_from(page)})
    assert response.status_code == 303


def token_from(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_login_and_logout_need_the_token(csrf_app):
    from eventreg.auth.services import create_organizer

    with csrf_app.app_context():
        create_organizer("admin@example.org", "correct horse battery")
    client = csrf_app.test_client()
    credentials = {"email": "admin@example.org", "password": "correct horse battery"}
    assert client.post("/auth/login", data=credentials).status_code == 400
    token = token_from(client.get("/auth/login").text)
    assert client.post("/auth/login", data={**credentials, "csrf_token": token}).status_code == 302
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/organizer/").status_code == 200  # still logged in


def test_every_form_post_needs_the_token(app, world):  # noqa: F811 - pytest hands in the imported fixture
    """Walk every POST route as an administrator, with CSRF protection on: each refuses (400) and changes nothing."""
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email_of("admin"), "password": PASSWORD}).status_code == 302
    app.config["WTF_CSRF_ENABLED"] = True  # read at each request and each form: on from here, as in production
    before = _row_counts(app)
    checked = []
    for rule in session_rules(app):
        if "POST" not in rule.methods:
            continue
        for url in urls(rule, url_values(world, "admin")):
            response = client.post(url, data={"confirmed": "yes", "action": "cancel", "ids": "1"})
            assert response.status_code == 400, (rule.rule, response.status_code)
            checked.append(rule.endpoint)
    assert _row_counts(app) == before
    assert {"attendees.bulk_action", "admin.reset_password", "tokens.revoke", "events.settings"} <= set(checked)


def _row_counts(app) -> dict:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Registration, AuditEntry, OutboxMessage, ApiToken, Organizer, Event)
        }
