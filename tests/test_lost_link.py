""" "Lost your link?": the same answer whether or not the address is registered, a mail only when it is; and the
rate limits of the forms that send mail on request, in memory and in Redis."""

import uuid

import pytest
from sqlalchemy import select

from eventreg.extensions import db, limiter
from eventreg.models import Registration
from tests.conftest import (
    create_test_event,
    drop_tables,
    free_port,
    make_app,
    register_test_delegate,
    require_redis,
)
from tests.test_registration import form
from tests.test_registration_actions import flashes, mails
from tests.test_self_service import composed, set_status

REDIS_URL = "redis://127.0.0.1:6379"


def ask(client, event, email, **kwargs):
    return client.post(f"/e/{event.slug}/lost-link", data={"email": email}, **kwargs)


def test_the_answer_is_the_same_whether_or_not_the_address_is_registered(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    answers = []
    for email in ("chunli.bai@example.org", "nobody@example.org"):
        response = ask(client, event, email)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/e/{event.slug}/lost-link"
        page = client.get(response.headers["Location"])
        assert page.status_code == 200
        answers.append(page.text.replace(email, "ADDRESS"))
        assert flashes(page) == [
            f"If {email} is registered for this event, we have sent the link to your registration to it. "
            "It should arrive within a few minutes; please also look in your spam folder."
        ]
    assert answers[0] == answers[1]
    assert page.headers["Cache-Control"] == "no-store"  # its message repeats the typed address
    assert mails(app, registration_id) == [
        ("confirmation", "chunli.bai@example.org"),
        ("lost_link", "chunli.bai@example.org"),
    ]
    [mail] = composed(app, registration_id, "lost_link")
    assert mail.subject == "Your registration link for Inaugural Ceremony"
    assert mail.recipients[0][1] == "chunli.bai@example.org"
    assert f"http://localhost/r/{token}" in mail.body and f'href="http://localhost/r/{token}"' in mail.html
    assert "Status: Confirmed" in mail.body


FULL_WIDTH = "ｃｈｕｎｌｉ．ｂａｉ＠ｅｘａｍｐｌｅ．ｏｒｇ"  # typed on a phone's Chinese keyboard


@pytest.mark.parametrize("typed", ["CHUNLI.BAI@EXAMPLE.ORG", FULL_WIDTH, " chunli.bai@example.org "])
def test_the_address_is_found_however_it_is_typed(app, client, make_event, make_registration, typed):
    event = make_event()
    registration_id, _ = make_registration(event)
    ask(client, event, typed)
    assert mails(app, registration_id)[-1] == ("lost_link", "chunli.bai@example.org")


@pytest.mark.parametrize("status", ["cancelled", "rejected"])
def test_no_link_for_a_registration_that_is_no_longer_active(app, client, make_event, make_registration, status):
    event = make_event()
    registration_id, _ = make_registration(event)
    set_status(app, registration_id, status)
    assert ask(client, event, "chunli.bai@example.org").status_code == 302
    assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation"]


def test_only_this_events_registration_is_sent(app, client, make_event, make_registration):
    event = make_event()
    other = make_event(title="Another Ceremony")
    registration_id, _ = make_registration(other)
    ask(client, event, "chunli.bai@example.org")
    assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Please fill in this field."),
        ("chunli.bai@", "Something is missing after the @ sign."),
        ("a" * 300, "At most"),
    ],
)
def test_a_malformed_address_is_explained(app, client, make_event, make_registration, typed, message):
    event = make_event()
    registration_id, _ = make_registration(event)
    response = ask(client, event, typed)
    assert response.status_code == 200 and message in response.text
    assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation"]


def test_an_unknown_event_is_a_404(client):
    assert client.get("/e/no-such-event/lost-link").status_code == 404
    assert client.post("/e/no-such-event/lost-link", data={"email": "a@example.org"}).status_code == 404


def test_the_event_page_and_the_form_lead_to_it(client, make_event):
    event = make_event()
    link = f'href="/e/{event.slug}/lost-link"'
    assert link in client.get(f"/e/{event.slug}").text
    assert link in client.get(f"/e/{event.slug}/register").text


def test_registering_again_sends_the_link_again(app, client, make_event, make_registration):
    """A delegate who registers twice by mistake still finds their link: the form answers as for anyone, and the
    address gets the lost-link mail."""
    event = make_event()
    registration_id, token = make_registration(event)
    response = client.post(f"/e/{event.slug}/register", data=form(email="Chunli.Bai@example.org"))
    assert response.status_code == 303 and response.headers["Location"] == f"/e/{event.slug}/submitted"
    assert mails(app, registration_id) == [
        ("confirmation", "chunli.bai@example.org"),
        ("lost_link", "chunli.bai@example.org"),
    ]
    [mail] = composed(app, registration_id, "lost_link")
    assert f"http://localhost/r/{token}" in mail.body


# ---- rate limits


@pytest.fixture
def limited(tmp_path, monkeypatch):
    """An app with rate limits on (the other tests run without them), and a fresh store in memory."""
    # The one Limiter remembers a store found unreachable (test_an_unreachable_store_…) and would count in memory
    # for a while: forget it after each test.
    monkeypatch.setattr(limiter, "_storage_dead", False)
    apps = []

    def make(**config):
        app = make_app(tmp_path, RATELIMIT_ENABLED=True, **config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        drop_tables(app)


def unique_address() -> str:
    return f"{uuid.uuid4().hex}@example.org"


def unique_ip() -> str:
    number = uuid.uuid4().int
    return f"10.{number % 250}.{number // 250 % 250}.{number // 62500 % 250 + 1}"


def test_tests_run_without_rate_limits(app, client, make_event):
    event = make_event()
    for _ in range(30):
        assert ask(client, event, "same@example.org").status_code == 302


def test_registering_a_registered_address_again_cannot_mail_bomb_it(limited):
    """The lost-link mails the registration form sends count against LOST_LINK_LIMIT_PER_ADDRESS, together with the
    lost-link form's; beyond it the answer stays the same and nothing more is sent."""
    app = limited(LOST_LINK_LIMIT_PER_ADDRESS="2 per hour")
    event = create_test_event(app)
    client = app.test_client()
    client.post(f"/e/{event.slug}/register", data=form())
    for _ in range(4):
        response = client.post(f"/e/{event.slug}/register", data=form(email="chunli.bai@EXAMPLE.org"))
        assert response.status_code == 303 and response.headers["Location"] == f"/e/{event.slug}/submitted"
    [registration_id] = registration_ids(app)
    assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation", "lost_link", "lost_link"]
    # The lost-link form counts in the same place: the address has had its share.
    assert client.post(f"/e/{event.slug}/lost-link", data={"email": "chunli.bai@example.org"}).status_code == 429


def registration_ids(app) -> list[int]:
    with app.app_context():
        return db.session.scalars(select(Registration.id).order_by(Registration.id)).all()


def check_the_limit_per_address(app) -> str:
    """Five requests for one address pass, the sixth is refused; returns the network address they came from."""
    event = create_test_event(app)
    registration_id, _ = register_test_delegate(app, event, email=(address := unique_address()))
    client = app.test_client()
    ip = {"REMOTE_ADDR": unique_ip()}
    variants = [address, address.upper(), f" {address} ", address.replace("@", "＠"), address]
    for typed in variants:  # one address however it is typed: five requests
        assert ask(client, event, typed, environ_base=ip).status_code == 302
    refused = ask(client, event, address.title(), environ_base=ip)
    assert refused.status_code == 429
    assert "Please wait a little before you try again" in refused.text
    assert "asked for many times in a short while for this email address." in refused.text
    assert "Please try again in about an hour." in refused.text  # the hourly limit was reached just now
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation"] + ["lost_link"] * 5
    assert ask(client, event, unique_address(), environ_base=ip).status_code == 302  # another address may ask
    assert client.get(f"/e/{event.slug}/lost-link", environ_base=ip).status_code == 200  # the form still shows
    return ip["REMOTE_ADDR"]


def test_the_lost_link_form_is_limited_per_address(limited):
    check_the_limit_per_address(limited())


def test_the_lost_link_form_is_limited_per_network_address(limited):
    app = limited(LOST_LINK_LIMIT_PER_IP="3 per hour")
    event = create_test_event(app)
    client = app.test_client()
    ip = {"REMOTE_ADDR": unique_ip()}
    for _ in range(3):
        sent = ask(client, event, unique_address(), environ_base=ip)
        assert sent.status_code == 302
        # a successful answer carries no rate-limit headers: a client might honour a Retry-After
        assert not [name for name, _ in sent.headers if name.lower().startswith(("x-ratelimit", "retry-after"))]
    refused = ask(client, event, unique_address(), environ_base=ip)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "sent many times in a short while from your network (all the devices" in refused.text
    assert ask(client, event, unique_address(), environ_base={"REMOTE_ADDR": unique_ip()}).status_code == 302


def test_the_change_of_email_is_limited_per_registration(limited):
    app = limited()
    event = create_test_event(app)
    registration_id, token = register_test_delegate(app, event)
    _, other_token = register_test_delegate(app, event, email="other@example.org")
    client = app.test_client()
    for _ in range(5):
        assert client.post(f"/r/{token}/email", data={"email": unique_address()}).status_code == 302
    refused = client.post(f"/r/{token}/email", data={"email": unique_address()})
    assert refused.status_code == 429 and "Please wait a little" in refused.text
    assert "a change of email address has been asked for many times in a short while" in refused.text
    assert "This limit counts for each registration" in refused.text
    assert [kind for kind, _ in mails(app, registration_id)].count("email_change") == 5
    assert client.post(f"/r/{other_token}/email", data={"email": unique_address()}).status_code == 302


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (3601, "about an hour"),
        (3600, "about an hour"),
        (3300, "about an hour"),
        (3000, "about 50 minutes"),
        (1850, "about 31 minutes"),
        (90, "about 2 minutes"),
        (61, "about 1 minute"),
        (5, "about 1 minute"),
        (2 * 3600 + 600, "about 2 hours"),
        (86400, "about 24 hours"),
    ],
)
def test_the_wait_is_rounded_sensibly(app, seconds, said):
    from eventreg.registration.limits import wait_in_words

    with app.test_request_context():
        assert wait_in_words(seconds) == said


def test_the_limits_hold_in_redis(limited):
    """Production with several processes keeps the counts in Redis; the same limits hold there."""
    store = require_redis(REDIS_URL)
    app = limited(RATELIMIT_STORAGE_URI=REDIS_URL)
    ip = check_the_limit_per_address(app)
    key = f"LIMITS:LIMITER/eventreg/{ip}/self_service.lost_link/20/1/hour"
    try:
        assert store.llen(key) == 7  # the counts are in Redis, shared by every process, not in this one
    finally:
        store.delete(key)
        store.close()


def test_an_unreachable_store_lets_requests_through(limited, caplog):
    """A Redis outage must not take the form down: the request is answered (counted in this process's memory
    meanwhile, see test_rate_limits.py), and the outage logged."""
    app = limited(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}")
    event = create_test_event(app)
    registration_id, _ = register_test_delegate(app, event)
    assert ask(app.test_client(), event, "chunli.bai@example.org").status_code == 302
    assert mails(app, registration_id)[-1] == ("lost_link", "chunli.bai@example.org")
    assert any("rate limit" in record.getMessage().lower() for record in caplog.records)
