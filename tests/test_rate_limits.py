"""Rate limits, counted in the real Redis that production uses: the registration form per network address, login
attempts per account and per network address (with the known-device exemption; taken before the password is
checked, so parallel guesses get no more checks than the limit), the lost-link form; each limit is reached, shows
the 429 page (JSON under /api/) with Retry-After, and lets requests through again once its window has passed
(short windows, waited out for real). With Redis unreachable, the site answers and the same limits count in the
process's memory."""

import logging
import socket
import threading
import time
import uuid

import pytest
import requests
from limits import parse as parse_limit
from werkzeug.serving import make_server

from eventreg.auth.access import public
from eventreg.auth.services import create_organizer
from eventreg.auth.throttle import DEVICE_COOKIE
from eventreg.extensions import limiter
from eventreg.models import Organizer
from tests.conftest import create_test_event, drop_tables, free_port, make_app, register_test_delegate, require_redis
from tests.test_registration import form

REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of its own; each test also has its own key prefix
PASSWORD = "correct horse battery"
WINDOW = 3  # seconds: the short window the reset tests configure ("3 per 3 second") and wait out; a failed
# login takes a quarter of a second (scrypt), so three of them and a refusal fit in it on a busy machine


@pytest.fixture
def store():
    """The Redis that holds the counts, and a key prefix of this test's own; skipped without Redis (failed in CI)."""
    client = require_redis(REDIS_URL)
    prefix = f"eventreg-test-{uuid.uuid4().hex}"
    yield client, prefix
    for key in client.scan_iter(match=f"LIMITS:LIMITER/{prefix}/*"):
        client.delete(key)
    client.close()


@pytest.fixture
def limited(tmp_path, store, monkeypatch):
    """An app with rate limits on, counting in Redis under this test's prefix, plus the settings given."""
    # The one Limiter keeps the key prefix of the first app it was bound to; forget it, so this app's is used.
    monkeypatch.setattr(limiter, "_key_prefix", None)
    # It also remembers a store found unreachable (by an earlier test), and would count in memory for a while.
    monkeypatch.setattr(limiter, "_storage_dead", False)
    apps = []

    def make(**config):
        settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": store[1]}
        app = make_app(tmp_path, **settings, **config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        drop_tables(app)


@pytest.fixture
def redis_down(tmp_path, monkeypatch):
    """An app with rate limits on and its store a Redis address where nothing listens, plus the settings given."""
    monkeypatch.setattr(limiter, "_storage_dead", False)  # found dead by this app, and forgotten after the test
    unreachable = f"redis://127.0.0.1:{free_port()}/11"
    apps = []

    def make(**config):
        app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=unreachable, **config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        drop_tables(app)


def from_ip(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def log_in(client, email, password=PASSWORD, ip="192.0.2.1"):
    return client.post("/auth/login", data={"email": email, "password": password}, **from_ip(ip))


def add_organizer(app, email="chair@example.org"):
    with app.app_context():
        create_organizer(email, PASSWORD, "organizer")
    return email


def wait_out_the_window():
    time.sleep(WINDOW + 0.2)


def assert_friendly_429(response, *phrases):
    """The 429 page in the site's layout, saying what was counted and when to come back."""
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert "Please wait a little before you try again" in response.text
    assert 'href="/auth/login"' in response.text  # the site's header: the page is in the layout
    for phrase in phrases:
        assert phrase in response.text


def test_the_test_suite_runs_with_limits_off(app, client, make_event, make_organizer):
    """Every other test module relies on this: without it, their many requests would meet the limits."""
    assert app.config["RATELIMIT_ENABLED"] is False
    email, _ = make_organizer()
    assert {log_in(client, email, "a wrong password").status_code for _ in range(31)} == {200}
    event = make_event()
    assert {client.post(f"/e/{event.slug}/register", data={}).status_code for _ in range(105)} == {200}


def test_the_registration_form_is_limited_per_network_address_and_resets(limited, store):
    app = limited(REGISTRATION_LIMIT_PER_IP=f"3 per {WINDOW} second")
    event = create_test_event(app)
    client = app.test_client()
    office = from_ip("198.51.100.7")
    sent = [
        client.post(f"/e/{event.slug}/register", data=form(email=f"delegate{n}@example.org"), **office)
        for n in range(2)
    ]
    sent.append(client.post(f"/e/{event.slug}/register", data={}, **office))  # a form with mistakes counts too
    assert [response.status_code for response in sent] == [303, 303, 200]
    refused = client.post(f"/e/{event.slug}/register", data=form(email="delegate3@example.org"), **office)
    assert_friendly_429(refused, "The registration form has been sent many times in a short while from your network")
    assert "please write to the organizers" in refused.text and "mailto:office@example.org" in refused.text
    assert "emails per hour" not in refused.text  # the mail forms' explanation is not this form's
    assert client.get(f"/e/{event.slug}/register", **office).status_code == 200  # reading the form is not limited
    other = client.post(f"/e/{event.slug}/register", data=form(email="other@example.org"), **from_ip("203.0.113.9"))
    assert other.status_code == 303
    wait_out_the_window()
    again = client.post(f"/e/{event.slug}/register", data=form(email="delegate3@example.org"), **office)
    assert again.status_code == 303


def test_failed_logins_are_limited_per_account_and_reset(limited, store):
    app = limited(LOGIN_LIMIT_PER_ACCOUNT=f"3 per {WINDOW} second", LOGIN_LIMIT_PER_IP="100 per hour")
    email = add_organizer(app)
    other = add_organizer(app, "treasurer@example.org")
    client = app.test_client()
    # one account however its address is typed, failures from anywhere: three failures fill its count
    for n, typed in enumerate([email, email.upper(), f"  {email.title()} "]):
        answer = log_in(client, typed, "a wrong password", ip=f"192.0.2.{n + 10}")
        assert answer.status_code == 200 and "The email address or the password is not right." in answer.text
    refused = log_in(app.test_client(), email, ip="192.0.2.99")  # the right password, from elsewhere
    assert_friendly_429(refused, "Logging in to this account has been tried many times in a short while")
    assert "emails per hour" not in refused.text
    assert log_in(app.test_client(), other).status_code == 302  # other accounts are not held up
    wait_out_the_window()
    assert log_in(app.test_client(), email, ip="192.0.2.99").status_code == 302


def test_unknown_addresses_are_limited_like_accounts(limited, store):
    """The limit answers the same whether or not an account exists: it tells no one which addresses are real."""
    app = limited(LOGIN_LIMIT_PER_ACCOUNT="2 per hour", LOGIN_LIMIT_PER_IP="100 per hour")
    add_organizer(app)
    client = app.test_client()
    for email in ("chair@example.org", "nobody@example.org"):
        assert [log_in(client, email, "a wrong password").status_code for _ in range(3)] == [200, 200, 429]
    # the counts are in Redis, under this test's prefix, and hold no address
    keys = [key.decode() for key in store[0].scan_iter(match=f"LIMITS:LIMITER/{store[1]}/*")]
    assert len([key for key in keys if "/account:" in key]) == 2
    assert not any("example.org" in key for key in keys)


def test_a_successful_login_keeps_its_hit(limited):
    """The count is taken before the password is checked, and a moving window cannot give it back."""
    app = limited(LOGIN_LIMIT_PER_ACCOUNT="3 per hour", LOGIN_LIMIT_PER_IP="100 per hour")
    email = add_organizer(app)
    assert log_in(app.test_client(), email).status_code == 302  # a browser that has not logged in here before
    client = app.test_client()
    assert [log_in(client, email, "a wrong password").status_code for _ in range(3)] == [200, 200, 429]


def test_parallel_wrong_logins_get_no_more_password_checks_than_the_limit(limited, monkeypatch):
    """50 wrong passwords for one account sent at once, to a threaded server: at most the limit is checked."""
    app = limited(LOGIN_LIMIT_PER_IP="1000 per hour")
    limit = parse_limit(app.config["LOGIN_LIMIT_PER_ACCOUNT"]).amount  # the default, as production has it
    email = add_organizer(app)
    checks = []  # the passwords that reached the hash check (list.append is atomic)
    check_password = Organizer.check_password

    def counted_check(organizer, password):
        checks.append(password)
        return check_password(organizer, password)

    monkeypatch.setattr(Organizer, "check_password", counted_check)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["SERVER_NAME"] = f"127.0.0.1:{server.server_port}"
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    start = threading.Barrier(50)
    answers = []

    def guess(number):
        start.wait()
        with requests.Session() as browser:  # a browser of its own: no known-device cookie
            url = f"http://127.0.0.1:{server.server_port}/auth/login"
            answer = browser.post(url, data={"email": email, "password": f"guess {number}"}, timeout=60)
            answers.append(answer.status_code)

    guesses = [threading.Thread(target=guess, args=(number,)) for number in range(50)]
    try:
        for thread in guesses:
            thread.start()
        for thread in guesses:
            thread.join()
    finally:
        server.shutdown()
        server.server_close()
        serving.join()
    assert sorted(answers) == [200] * limit + [429] * (50 - limit)
    assert len(checks) == limit


def test_a_known_browser_is_not_locked_out_by_someone_elses_failures(limited):
    app = limited(LOGIN_LIMIT_PER_ACCOUNT="3 per hour", LOGIN_LIMIT_PER_IP="100 per hour")
    email = add_organizer(app)
    own_browser = app.test_client()
    assert log_in(own_browser, email).status_code == 302
    cookie = own_browser.get_cookie(DEVICE_COOKIE, path="/auth/login")
    assert cookie is not None and cookie.http_only and cookie.max_age > 0
    own_browser.post("/auth/logout")
    attacker = app.test_client()
    # the organizer's first login (from a browser not yet known) took one of the strangers' three
    codes = [log_in(attacker, email, f"guess {n}", ip="203.0.113.66").status_code for n in range(3)]
    assert codes == [200, 200, 429]
    assert log_in(app.test_client(), email).status_code == 429  # a browser the account never used waits
    assert log_in(own_browser, email).status_code == 302  # the organizer's own browser logs in
    own_browser.post("/auth/logout")
    # the known browser's own attempts count too, in its own count of the same size (each login marks the browser
    # anew, so this count starts empty)
    assert [log_in(own_browser, email, "a typo").status_code for _ in range(4)] == [200, 200, 200, 429]
    # a stolen cookie is worth no more than that; copied to another account, or altered, it is worth nothing
    other = add_organizer(app, "treasurer@example.org")
    for _ in range(3):
        log_in(attacker, other, "a guess", ip="203.0.113.66")
    thief = app.test_client()
    thief.set_cookie(DEVICE_COOKIE, cookie.value, path="/auth/login")
    assert log_in(thief, other).status_code == 429
    thief.set_cookie(DEVICE_COOKIE, cookie.value[:-2] + "xx", path="/auth/login")
    assert log_in(thief, email).status_code == 429


def test_failed_logins_are_limited_per_network_address_and_reset(limited):
    app = limited(LOGIN_LIMIT_PER_ACCOUNT="100 per hour", LOGIN_LIMIT_PER_IP=f"3 per {WINDOW} second")
    email = add_organizer(app)
    client = app.test_client()
    for n in range(3):  # a spray: one password tried on many addresses
        assert log_in(client, f"person{n}@example.org", ip="203.0.113.5").status_code == 200
    refused = log_in(client, email, ip="203.0.113.5")
    assert_friendly_429(refused, "Logging in has been tried many times in a short while from your network")
    assert log_in(app.test_client(), email, ip="203.0.113.6").status_code == 302
    wait_out_the_window()
    assert log_in(app.test_client(), email, ip="203.0.113.5").status_code == 302


def test_the_lost_link_limit_resets(limited):
    app = limited(LOST_LINK_LIMIT_PER_ADDRESS=f"3 per {WINDOW} second")
    event = create_test_event(app)
    register_test_delegate(app, event, email="chunli.bai@example.org")
    client = app.test_client()

    def ask():
        return client.post(f"/e/{event.slug}/lost-link", data={"email": "chunli.bai@example.org"})

    assert [ask().status_code for _ in range(3)] == [302, 302, 302]
    assert_friendly_429(ask(), "asked for many times in a short while for this email address")
    wait_out_the_window()
    assert ask().status_code == 302


def test_a_limit_under_the_api_answers_json(limited):
    app = limited()

    @app.get("/api/v1/limited-for-a-test")
    @public
    @limiter.limit("1 per hour")
    def limited_for_a_test():
        return {"ok": True}

    client = app.test_client()
    assert client.get("/api/v1/limited-for-a-test").status_code == 200
    refused = client.get("/api/v1/limited-for-a-test")
    assert refused.status_code == 429 and refused.mimetype == "application/json"
    assert refused.json == {"error": "Too many requests. Please wait a moment and try again."}
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600


def test_an_unreachable_store_takes_no_form_down(redis_down, caplog):
    """A Redis outage is no 500: the forms answer as usual, and the log says the limits count in memory."""
    app = redis_down()
    event = create_test_event(app)
    email = add_organizer(app)
    client = app.test_client()
    assert client.get(f"/e/{event.slug}/register").status_code == 200
    assert client.post(f"/e/{event.slug}/register", data=form()).status_code == 303
    assert client.get("/auth/login").status_code == 200
    wrong = log_in(client, email, "a wrong password")
    assert wrong.status_code == 200 and "The email address or the password is not right." in wrong.text
    assert log_in(client, email).status_code == 302
    warning = "Rate limit storage unreachable - falling back to in-memory storage"
    assert ("eventreg", logging.WARNING, warning) in caplog.record_tuples  # in the app's log, where it shows


def test_failed_logins_are_still_limited_while_the_store_is_unreachable(redis_down):
    """Making Redis unreachable must not buy unlimited guesses: the configured limit holds, in each process."""
    app = redis_down()
    assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == "10 per 15 minutes"
    email = add_organizer(app)
    guesses = [log_in(app.test_client(), email, f"guess {n}", ip=f"192.0.2.{n + 10}") for n in range(10)]
    assert [answer.status_code for answer in guesses] == [200] * 10
    refused = log_in(app.test_client(), email, ip="192.0.2.99")  # the 11th, with the right password
    assert_friendly_429(refused, "Logging in to this account has been tried many times in a short while")
    assert log_in(app.test_client(), add_organizer(app, "treasurer@example.org")).status_code == 302


def test_the_registration_form_is_still_limited_while_the_store_is_unreachable(redis_down):
    app = redis_down(REGISTRATION_LIMIT_PER_IP="3 per hour")
    event = create_test_event(app)
    client = app.test_client()
    office = from_ip("198.51.100.7")
    sent = [
        client.post(f"/e/{event.slug}/register", data=form(email=f"delegate{n}@example.org"), **office)
        for n in range(3)
    ]
    assert [response.status_code for response in sent] == [303, 303, 303]
    refused = client.post(f"/e/{event.slug}/register", data=form(email="delegate3@example.org"), **office)
    assert_friendly_429(refused, "The registration form has been sent many times in a short while from your network")
    other = client.post(f"/e/{event.slug}/register", data=form(email="other@example.org"), **from_ip("203.0.113.9"))
    assert other.status_code == 303


@pytest.fixture
def silent_store():
    """A Redis address that takes connections and never answers (the kernel completes the handshakes of a listening
    socket that nobody accepts from): a store behind a network fault, or stuck."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/11"


def test_a_store_that_stops_answering_holds_no_request_for_long(tmp_path, monkeypatch, silent_store):
    """Without a socket timeout each request would wait for the silent store for ever; with one it gives up,
    counts in memory and answers (the 30 s below is a bound on a hang, not a speed target)."""
    monkeypatch.setattr(limiter, "_storage_dead", False)  # found dead by this app, and forgotten after the test
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=silent_store)
    try:
        email = add_organizer(app)
        answers = []
        attempt = threading.Thread(
            target=lambda: answers.append(log_in(app.test_client(), email, "wrong")), daemon=True
        )
        attempt.start()
        attempt.join(30)
        assert not attempt.is_alive(), "the login waited for the silent store"
        assert answers[0].status_code == 200 and "The email address or the password is not right." in answers[0].text
        assert log_in(app.test_client(), email).status_code == 302
    finally:
        drop_tables(app)
