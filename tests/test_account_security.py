"""Organizer accounts against guessing and leaks: the password length on every way a password is set, sessions
ended by a change of password, logins that tell no one which addresses have accounts, the known-device cookie,
and a lost-link form whose timing does not tell a registered address."""

import time

import pytest
import werkzeug.security
from sqlalchemy import select

from eventreg.auth import services as auth_services
from eventreg.auth.services import DUMMY_HASH, MIN_PASSWORD_LENGTH, create_organizer
from eventreg.auth.throttle import DEVICE_COOKIE
from eventreg.extensions import db
from eventreg.models import Organizer
from eventreg.models import accounts as account_models
from tests.conftest import create_test_event, drop_tables, make_app, register_test_delegate
from tests.test_registration_actions import mails

PASSWORD = "correct horse battery"
ELEVEN = "eleven char"  # one character short
TWELVE = "twelve chars"


def log_in(client, email, password=PASSWORD):
    return client.post("/auth/login", data={"email": email, "password": password})


@pytest.fixture
def admin(app, make_organizer):
    make_organizer("admin@example.org", PASSWORD, role="admin")
    client = app.test_client()
    assert log_in(client, "admin@example.org").status_code == 302
    return client


def account_id(app, email) -> int:
    with app.app_context():
        return db.session.scalar(select(Organizer.id).where(Organizer.email == email))


def test_the_minimum_password_length_is_at_least_twelve():
    assert MIN_PASSWORD_LENGTH >= 12
    assert len(ELEVEN) == MIN_PASSWORD_LENGTH - 1 and len(TWELVE) == MIN_PASSWORD_LENGTH


def test_the_command_line_applies_the_minimum(app, runner):
    refused = runner.invoke(args=["create-organizer", "a@example.org", "--password", ELEVEN])
    assert refused.exit_code != 0 and "at least 12 characters" in refused.output
    assert runner.invoke(args=["create-organizer", "a@example.org", "--password", TWELVE]).exit_code == 0
    assert log_in(app.test_client(), "a@example.org", TWELVE).status_code == 302


def test_an_administrator_adding_an_account_gets_the_minimum(app, admin):
    data = {"email": "new@example.org", "role": "organizer", "password": ELEVEN, "confirm_password": ELEVEN}
    refused = admin.post("/admin/accounts/new", data=data)
    assert refused.status_code == 200 and "Between 12 and 1,024 characters" in refused.text
    assert account_id(app, "new@example.org") is None
    accepted = admin.post("/admin/accounts/new", data=data | {"password": TWELVE, "confirm_password": TWELVE})
    assert accepted.status_code == 302


def test_an_administrator_resetting_a_password_gets_the_minimum(app, admin, make_organizer):
    make_organizer("org@example.org", PASSWORD, role="organizer")
    url = f"/admin/accounts/{account_id(app, 'org@example.org')}/password"
    refused = admin.post(url, data={"password-password": ELEVEN, "password-confirm_password": ELEVEN})
    assert "Between 12 and 1,024 characters" in refused.text
    assert log_in(app.test_client(), "org@example.org").status_code == 302  # unchanged


def test_a_change_of_ones_own_password_gets_the_minimum(app, admin):
    data = {"current_password": PASSWORD, "new_password": ELEVEN, "confirm_password": ELEVEN}
    assert "Between 12 and 1,024 characters" in admin.post("/auth/account", data=data).text
    with app.app_context(), pytest.raises(auth_services.AccountError, match="at least 12 characters"):
        # the service refuses it too, whatever form called it (spaces at the ends do not count)
        create_organizer("b@example.org", f"  {ELEVEN} ", "organizer")


def test_a_password_change_ends_every_other_copy_of_the_session(app, admin):
    """Even a copy of this very browser's cookie, taken before the change, stops working; the browser that changed
    the password carries on with a new cookie."""
    copy = app.test_client()
    copy.set_cookie("session", admin.get_cookie("session").value)
    other_browser = app.test_client()
    assert log_in(other_browser, "admin@example.org").status_code == 302
    assert copy.get("/organizer/").status_code == 200 and other_browser.get("/organizer/").status_code == 200
    data = {
        "current_password": PASSWORD,
        "new_password": "a new and longer one",
        "confirm_password": "a new and longer one",
    }
    assert admin.post("/auth/account", data=data).status_code == 302
    assert admin.get("/organizer/").status_code == 200
    for ended in (copy, other_browser):
        assert ended.get("/organizer/").headers["Location"].startswith("/auth/login")


@pytest.fixture
def hash_checks(monkeypatch):
    """Every password hash checked during a login, by the real function (counted, not replaced)."""
    checked = []
    real = werkzeug.security.check_password_hash

    def counting(pwhash, password):
        checked.append(pwhash.split("$", 1)[0])  # the method and its cost, e.g. scrypt:32768:8:1
        return real(pwhash, password)

    monkeypatch.setattr(auth_services, "check_password_hash", counting)
    monkeypatch.setattr(account_models, "check_password_hash", counting)
    return checked


@pytest.mark.parametrize(
    ("email", "password", "active"),
    [
        ("nobody@example.org", PASSWORD, True),  # no such account
        ("admin@example.org", "a wrong password", True),  # a wrong password
        ("admin@example.org", PASSWORD, False),  # a deactivated account
    ],
)
def test_a_failed_login_does_the_same_work_and_says_the_same(app, make_organizer, hash_checks, email, password, active):
    """An unknown address costs one password hash check like a wrong password, with the same method and cost, and
    the answer is the same page: neither the words nor the time tell which addresses have accounts."""
    make_organizer("admin@example.org", PASSWORD)
    if not active:
        with app.app_context():
            db.session.scalar(select(Organizer)).active = False
            db.session.commit()
    hash_checks.clear()
    response = log_in(app.test_client(), email, password)
    assert response.status_code == 200
    assert "The email address or the password is not right." in response.text
    new_hash_method = werkzeug.security.generate_password_hash("anything").split("$", 1)[0]
    assert hash_checks == [new_hash_method]
    assert DUMMY_HASH.split("$", 1)[0] == new_hash_method


def test_a_successful_login_marks_the_browser_and_a_failed_one_does_not(app, make_organizer):
    make_organizer()
    failed = app.test_client()
    log_in(failed, "admin@example.org", "a wrong password")
    assert failed.get_cookie(DEVICE_COOKIE, path="/auth/login") is None
    client = app.test_client()
    response = log_in(client, "admin@example.org")
    [header] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(DEVICE_COOKIE)]
    assert "HttpOnly" in header and "Path=/auth/login" in header and "SameSite=Lax" in header
    assert "admin@example.org" not in header and "admin%40example.org" not in header  # signed, holds a hash


@pytest.fixture
def padded_app(tmp_path):
    app = make_app(tmp_path, LOST_LINK_MIN_SECONDS=0.3)
    yield app
    drop_tables(app)


def test_the_lost_link_answer_takes_the_same_time_whether_or_not_the_address_is_registered(padded_app):
    """Both answers wait out the floor, so the ~3 ms a queued mail costs is hidden under it."""
    event = create_test_event(padded_app)
    registration_id, _ = register_test_delegate(padded_app, event, email="chunli.bai@example.org")
    client = padded_app.test_client()
    for email in ("chunli.bai@example.org", "nobody@example.org"):
        started = time.perf_counter()
        response = client.post(f"/e/{event.slug}/lost-link", data={"email": email})
        assert response.status_code == 302
        assert time.perf_counter() - started >= 0.3
    assert [kind for kind, _ in mails(padded_app, registration_id)] == ["confirmation", "lost_link"]


def test_private_links_are_found_by_digest_and_compared_in_constant_time(
    app, make_event, make_registration, monkeypatch
):
    """The lookup never compares the token itself in SQL: it asks for its digest, then hmac.compare_digest decides."""
    import hmac as hmac_module

    from eventreg.models import Registration, token_digest
    from eventreg.registration import services

    registration_id, _token = make_registration(make_event())
    compared = []
    real_compare = hmac_module.compare_digest
    monkeypatch.setattr(services.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real_compare(a, b))
    with app.app_context():
        stored = db.session.get(Registration, registration_id)
        assert stored.token_digest == token_digest(stored.token)
        assert services.find_registration(stored.token).id == registration_id
        assert compared == [(stored.token.encode(), stored.token.encode())]
        assert services.find_registration(stored.token[:-1] + ("A" if stored.token[-1] != "A" else "B")) is None
        # A changed token (an erasure replaces it) moves its digest with it.
        stored.token = "replaced-token"
        assert stored.token_digest == token_digest("replaced-token")
        db.session.rollback()
