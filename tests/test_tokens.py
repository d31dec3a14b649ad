"""API tokens in the organizer pages: listed, created (shown once), revoked; stored hashed; audited without secrets."""

import json
import re

import pytest
from sqlalchemy import select

from eventreg.auth.services import create_organizer
from eventreg.auth.tokens import MAX_LIVE_TOKENS, TokenError, create_token
from eventreg.extensions import db
from eventreg.models import ApiToken, AuditEntry, Organizer
from tests.conftest import drop_tables, make_app
from tests.test_csrf import token_from

PASSWORD = "correct horse battery"


def login(app, email="organizer@example.org", role="organizer"):
    with app.app_context():
        create_organizer(email, PASSWORD, role)
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def new_token(client, name="Nightly sync") -> str:
    """Create a token through the page; returns the raw token shown once."""
    response = client.post("/auth/tokens", data={"name": name})
    assert response.status_code == 201, response.text
    return re.search(r'id="new-token"[^>]* value="(evr_[^"]+)"', response.text).group(1)


def audit_entries(app, action):
    with app.app_context():
        return [
            (entry.actor, entry.before, entry.after)
            for entry in db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        ]


def test_no_tokens_yet(app):
    client = login(app)
    page = client.get("/auth/tokens")
    assert page.status_code == 200
    assert "You have no API tokens yet." in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_a_new_token_is_shown_once_and_works(app):
    client = login(app)
    response = client.post("/auth/tokens", data={"name": "  Nightly    sync "})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert "Copy this token now: it is shown only once." in response.text
    raw = new_token(client, "Second")
    listing = client.get("/auth/tokens").text
    assert "Nightly sync" in listing and "Second" in listing
    assert raw not in listing
    assert raw[:10] in listing  # the beginning, to tell tokens apart
    assert "Never" in listing
    api = app.test_client()
    assert api.get("/api/v1/events", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    # Last used: now, in UTC, as the reader's language writes it ("17 Mar 2031, 09:30").
    assert re.search(r"<td>\d{1,2} \w{3} \d{4}, \d\d:\d\d</td>", client.get("/auth/tokens").text.split("Second")[1])


def test_only_a_hash_is_stored_and_the_audit_keeps_no_secret(app):
    client = login(app)
    raw = new_token(client)
    with app.app_context():
        [token] = db.session.scalars(select(ApiToken)).all()
        assert raw not in (token.token_hash, token.prefix)
        assert len(token.token_hash) == 64
        token_id = token.id
    [(actor, before, after)] = audit_entries(app, "token.created")
    assert actor == "organizer@example.org"
    assert before is None
    assert after == {"token_id": token_id, "name": "Nightly sync", "prefix": raw[:10]}
    assert raw not in json.dumps(after)


def test_revoking_stops_the_token_at_once(app):
    client = login(app)
    raw = new_token(client)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    response = client.post(f"/auth/tokens/{token_id}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/tokens"
    listing = client.get("/auth/tokens").text
    assert "The token “Nightly sync” is revoked; it no longer works." in listing
    assert "Revoked on" in listing
    response = app.test_client().get("/api/v1/events", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    [(actor, before, after)] = audit_entries(app, "token.revoked")
    assert actor == "organizer@example.org" and after is None
    assert before == {"token_id": token_id, "name": "Nightly sync", "prefix": raw[:10]}
    assert client.post(f"/auth/tokens/{token_id}/revoke").status_code == 404  # once is enough


def test_nobody_revokes_another_organizers_token(app):
    owner = login(app)
    raw = new_token(owner)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    intruder = login(app, "admin@example.org", "admin")
    assert intruder.post(f"/auth/tokens/{token_id}/revoke").status_code == 404
    assert "Nightly sync" not in intruder.get("/auth/tokens").text
    assert app.test_client().get("/api/v1/events", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert audit_entries(app, "token.revoked") == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Please give the token a name."),
        ("   ", "Please give the token a name."),
        ("x" * 101, "At most 100 characters, please."),
        ("one\nline", "Please use a single line without control characters."),
        ("nul\x00byte", "Please use a single line without control characters."),
        ("‮tpircs", "Please remove the invisible text-direction characters."),
    ],
)
def test_a_bad_name_is_refused_with_a_message(app, name, message):
    client = login(app)
    response = client.post("/auth/tokens", data={"name": name})
    assert response.status_code == 400
    assert message in response.text
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).all() == []


def test_too_many_live_tokens_are_refused(app):
    client = login(app)
    with app.app_context():
        organizer = db.session.scalar(select(Organizer))
        for number in range(MAX_LIVE_TOKENS):
            create_token(organizer, f"token {number}")
    response = client.post("/auth/tokens", data={"name": "one more"})
    assert response.status_code == 400
    assert f"You already have {MAX_LIVE_TOKENS} active tokens." in response.text


def test_the_service_refuses_a_role_without_the_api(app):
    with app.app_context():
        desk = create_organizer("desk@example.org", PASSWORD, "checkin")
        with pytest.raises(TokenError, match="cannot use the API"):
            create_token(desk, "desk script")


def test_check_in_staff_cannot_reach_the_page(app):
    client = login(app, "desk@example.org", "checkin")
    assert client.get("/auth/tokens").status_code == 403
    assert client.post("/auth/tokens", data={"name": "x"}).status_code == 403


def test_last_use_is_shown(app):
    client = login(app)
    raw = new_token(client)
    assert "Never" in client.get("/auth/tokens").text
    app.test_client().get("/api/v1/events", headers={"Authorization": f"Bearer {raw}"})
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) is not None
    assert "Never" not in client.get("/auth/tokens").text


@pytest.fixture
def csrf_app(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    drop_tables(app)


def test_create_and_revoke_need_the_forms_token(csrf_app):
    with csrf_app.app_context():
        create_organizer("organizer@example.org", PASSWORD, "organizer")
    client = csrf_app.test_client()
    page = client.get("/auth/login").text
    data = {"email": "organizer@example.org", "password": PASSWORD, "csrf_token": token_from(page)}
    assert client.post("/auth/login", data=data).status_code == 302
    assert client.post("/auth/tokens", data={"name": "no csrf"}).status_code == 400
    page = client.get("/auth/tokens").text
    response = client.post("/auth/tokens", data={"name": "with csrf", "csrf_token": token_from(page)})
    assert response.status_code == 201
    with csrf_app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert client.post(f"/auth/tokens/{token_id}/revoke").status_code == 400
    page = client.get("/auth/tokens").text
    response = client.post(f"/auth/tokens/{token_id}/revoke", data={"csrf_token": token_from(page)})
    assert response.status_code == 302


NEW_PASSWORD = "a new and longer password"


def change_own_password(app, owner, admin):
    data = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert owner.post("/auth/account", data=data).status_code == 302
    return owner  # this browser stays logged in


def reset_by_an_administrator(app, owner, admin):
    organizer_id = owner_id(app)
    data = {"password-password": NEW_PASSWORD, "password-confirm_password": NEW_PASSWORD}
    response = admin.post(f"/admin/accounts/{organizer_id}/password", data=data)
    assert "its API tokens are revoked" in admin.get(response.headers["Location"]).text
    return login_again(app, NEW_PASSWORD)


def deactivate_then_reactivate(app, owner, admin):
    organizer_id = owner_id(app)
    response = admin.post(f"/admin/accounts/{organizer_id}/deactivate")
    assert "their API tokens are revoked" in admin.get(response.headers["Location"]).text
    assert admin.post(f"/admin/accounts/{organizer_id}/reactivate").status_code == 302
    return login_again(app, PASSWORD)


def owner_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Organizer.id).where(Organizer.email == "organizer@example.org"))


def login_again(app, password):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": "organizer@example.org", "password": password})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    ("action", "actor"),
    [
        (change_own_password, "organizer@example.org"),
        (reset_by_an_administrator, "admin@example.org"),
        (deactivate_then_reactivate, "admin@example.org"),
    ],
)
def test_a_password_change_reset_or_deactivation_revokes_every_token_for_good(app, action, actor):
    owner = login(app)
    admin = login(app, "admin@example.org", "admin")
    raws = [new_token(owner, "Nightly sync"), new_token(owner, "Badge printing")]
    other = new_token(admin, "The administrator's own")
    api = app.test_client()
    assert {api.get("/api/v1/events", headers={"Authorization": f"Bearer {raw}"}).status_code for raw in raws} == {200}

    owner = action(app, owner, admin)

    for raw in raws:
        response = api.get("/api/v1/events", headers={"Authorization": f"Bearer {raw}"})
        assert response.status_code == 401
    assert api.get("/api/v1/events", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    listing = owner.get("/auth/tokens").text
    assert listing.count("Revoked on") == 2 and "Revoke Nightly sync" not in listing
    entries = audit_entries(app, "token.revoked")
    assert [(entry_actor, before["name"], before["account"]) for entry_actor, before, _after in entries] == [
        (actor, "Nightly sync", "organizer@example.org"),
        (actor, "Badge printing", "organizer@example.org"),
    ]
    assert not any(raw in json.dumps(entries) for raw in raws)


def test_the_header_to_send_is_shown_as_text(app):
    client = login(app)
    response = client.post("/auth/tokens", data={"name": "Nightly sync"})
    assert response.status_code == 201
    assert '<code dir="ltr">Authorization: Bearer &lt;token&gt;</code>' in response.text
    assert "<token>" not in response.text
