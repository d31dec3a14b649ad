"""Organizer login, and the rule that every page needs a login unless its view is marked public."""

import pytest
from werkzeug.routing import IntegerConverter

from eventreg.auth.access import is_public_endpoint

# The only endpoints anyone may reach. Adding one here is a decision, reviewed like any other.
PUBLIC_ENDPOINTS = {
    "static",
    "flags.static",  # the vendored SVG flags of countries and regions
    "registration.index",
    "registration.show_event",
    "registration.register",
    "registration.submitted",  # "thank you, the outcome was mailed to c…@example.org": no data, no link
    "self_service.view_registration",
    "self_service.edit_own",
    "self_service.cancel_own",
    "self_service.erase_own",  # erasing one's personal data through the private link
    "self_service.change_email",
    "self_service.confirm_new_email",
    "self_service.lost_link",
    # the ticket behind the private link: the printable page, its QR code, the calendar entry
    "tickets.ticket",
    "tickets.ticket_qr",
    "tickets.ticket_calendar",
    "counter.delegates",
    "counter.delegates_json",
    "auth.login",
    "api.openapi",
    "languages.switch",  # the language switcher: a cookie, and the account's language when logged in
    # the invitee's personal link: the pre-filled form, and declining
    "invitation.open_invitation",
    "invitation.decline",
    # behind a focal point's or a member's private link: the delegation section, its members, joining and leaving
    "delegation.focal_section",
    "delegation.edit_delegation_member",
    "delegation.cancel_delegation_member",
    "delegation.join",
    "delegation.leave",
    # a consulate checks a visa letter: its number and code in the address, rate-limited
    "visa_letters.verify",
    # behind the delegate's private link: their visa letter and their certificate of attendance
    "visa_letters.own_letter",
    "certificates.own_certificate",
    # probes and Prometheus: no login; /readyz names its checks only, /metrics has its own address or token check
    "health.healthz",
    "health.readyz",
    "metrics.metrics",
}


def url_for_rule(rule) -> str:
    values = {name: 1 if isinstance(rule._converters[name], IntegerConverter) else "x" for name in rule.arguments}
    return rule.build(values)[1]


def test_every_non_public_route_sends_anonymous_users_to_login(app, client):
    checked = set()
    for rule in app.url_map.iter_rules():
        assert is_public_endpoint(app, rule.endpoint) == (rule.endpoint in PUBLIC_ENDPOINTS), rule.endpoint
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url_for_rule(rule), method=method)
            if getattr(app.view_functions[rule.endpoint], "token_right", None):  # the API: a token, not a login
                assert response.status_code == 401, (rule, method)
                assert response.is_json, (rule, method)
                continue
            assert response.status_code == 302, (rule, method)
            assert response.headers["Location"].startswith("/auth/login?next="), (rule, method)
            checked.add(rule.endpoint)
    assert {"organizer.index", "organizer.dashboard", "auth.logout"} <= checked


def test_login_page_is_linked_from_public_pages(client):
    assert 'href="/auth/login"' in client.get("/").text


def test_login_then_reach_the_dashboard_and_log_out(client, make_organizer):
    email, password = make_organizer()
    response = client.post("/auth/login?next=/organizer/", data={"email": email.upper(), "password": password})
    assert response.status_code == 302
    assert response.headers["Location"] == "/organizer/"
    assert client.get("/organizer/").status_code == 200
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert client.get("/organizer/").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [("admin@example.org", "wrong password"), ("nobody@example.org", "correct horse battery")],
)
def test_wrong_credentials_get_one_message_for_both_cases(client, make_organizer, email, password):
    make_organizer()
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 200
    assert "The email address or the password is not right." in response.text
    assert client.get("/organizer/").status_code == 302


def test_control_characters_in_the_login_are_refused_not_queried(client, make_organizer):
    make_organizer()
    response = client.post("/auth/login", data={"email": "admin\x00@example.org", "password": "x"})
    assert response.status_code == 200
    assert "single line" in response.text


@pytest.mark.parametrize("target", ["https://evil.example.com/", "//evil.example.com/", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, make_organizer, target):
    email, password = make_organizer()
    response = client.post("/auth/login", query_string={"next": target}, data={"email": email, "password": password})
    assert response.headers["Location"] == "/organizer/"


def test_passwords_are_stored_hashed(app, make_organizer):
    from eventreg.auth.services import find_organizer

    _, password = make_organizer()
    with app.app_context():
        organizer = find_organizer("admin@example.org")
        assert password not in organizer.password_hash
        assert organizer.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_create_organizer_command_asks_for_the_password(app, runner):
    result = runner.invoke(args=["create-organizer", "chair@example.org"], input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "Created Administrator chair@example.org." in result.output
    client = app.test_client()
    assert (
        client.post("/auth/login", data={"email": "chair@example.org", "password": "a long password"}).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-organizer", "x@example.org", "--password", "short"], "at least 12 characters"),
        (["create-organizer", "x@example.org", "--password", "long enough pw", "--role", "king"], "Invalid value"),
    ],
)
def test_create_organizer_refuses_bad_input(runner, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output


def test_create_organizer_refuses_a_duplicate(runner):
    args = ["create-organizer", "x@example.org", "--password", "long enough pw"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=["create-organizer", "X@Example.org", "--password", "long enough pw"])
    assert result.exit_code != 0
    assert "exists already" in result.output


def test_every_public_page_links_to_the_organizer_login(client, make_event, make_registration):
    event = make_event()
    _, token = make_registration(event)
    for path in ("/", f"/e/{event.slug}", f"/e/{event.slug}/register", f"/r/{token}", "/no-such-page"):
        assert 'href="/auth/login"' in client.get(path).text, path


def test_logout_ends_every_copy_of_the_session(app, make_organizer):
    email, password = make_organizer()
    first, second = app.test_client(), app.test_client()
    first.post("/auth/login", data={"email": email, "password": password})
    cookie = first.get_cookie("session")
    second.set_cookie("session", cookie.value)  # a copy, as left on a shared desk computer
    assert second.get("/organizer/").status_code == 200
    first.post("/auth/logout")
    assert second.get("/organizer/").status_code == 302


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not an email", "long enough pw", "is not a valid email address"),
        ("a@example.org\nx", "long enough pw", "is not a valid email address"),
        ("ＯＲＧＡＮＩＺＥＲ@example.org", "long enough pw", "is not a valid email address"),
        ("x@example.org", " " * 12, "at least 12 characters"),
    ],
)
def test_create_organizer_checks_the_address_and_password(runner, email, password, message):
    result = runner.invoke(args=["create-organizer", email, "--password", password])
    assert result.exit_code != 0
    assert message in result.output
