"""Security headers on every page: every GET route in the URL map is called with real arguments and its headers
read; every HTML page is parsed for inline script, event handlers and style attributes (which the CSP would block);
cookies are HttpOnly, SameSite=Lax and Secure over HTTPS; FORCE_HTTPS redirects and sends HSTS."""

import re
from http.cookies import SimpleCookie

import pytest

from eventreg.security import CONTENT_SECURITY_POLICY
from tests.browser import csp_violations, log_in, watched_page
from tests.conftest import drop_tables, make_app
from tests.site_pages import fetch, inline_styles_and_scripts, page_urls, parse, seed

ADMIN = "admin@example.org"
PASSWORD = "correct horse battery"
PROTECTIVE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# GET routes that do not answer 200 to a logged-in organizer with the seeded arguments, and what they answer.
NOT_200 = {
    "auth.login": 302,  # already logged in: on to the organizer pages
    "languages.switch": 303,  # the language switcher: back to the page it was on
    "delegation.leave": 302,  # the seeded link is its delegation's focal point, who cannot leave: back to its page
    "certificates.own_certificate": 403,  # the seeded delegate is not checked in: the page says why
    "messages.confirm": 302,  # the seeded message was sent: on to its page, nothing sent again
    "health.readyz": 503,  # tables made without migrations: no revision, so the schema reads as behind
}


def check_headers(response, where: str) -> None:
    """The protective headers, exactly, and no inline code in an HTML page."""
    for name, value in PROTECTIVE_HEADERS.items():
        assert response.headers.get(name) == value, (where, name)
    assert "camera=(self)" in response.headers["Permissions-Policy"], where
    if response.mimetype == "text/html":
        assert inline_styles_and_scripts(parse(response.text)) == [], where


def test_every_get_route_carries_the_headers_and_no_inline_code(app, logged_in):
    seeded = seed(app, ADMIN)
    urls = page_urls(app, seeded)
    for endpoint, url in urls:
        response = fetch(logged_in, endpoint, url, seeded)
        assert response.status_code == NOT_200.get(endpoint, 200), (endpoint, url, response.status_code)
        check_headers(response, url)
    every_get_route = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert {endpoint for endpoint, _url in urls} == every_get_route
    assert len(every_get_route) > 40


def test_public_pages_and_error_pages_carry_them_for_visitors(app, client, make_organizer):
    make_organizer()
    seeded = seed(app, ADMIN)
    public = [
        "/",
        "/auth/login",
        f"/e/{seeded.slug}",
        f"/e/{seeded.slug}/register",
        f"/e/{seeded.slug}/delegates",
        f"/r/{seeded.token}",
        f"/r/{seeded.token}/ticket",
    ]
    for path in public:
        response = client.get(path)
        assert response.status_code == 200, path
        check_headers(response, path)
    for path, status in [
        ("/no-such-page", 404),
        (f"/organizer/events/{seeded.slug}", 302),  # to the login page
        ("/auth/logout", 405),
        ("/api/v1/events", 401),
    ]:
        response = client.get(path)
        assert response.status_code == status, path
        check_headers(response, path)
    refused = client.post(f"/e/{seeded.slug}/register", data={"given_name": "x"})  # a form sent back with errors
    check_headers(refused, "refused registration")
    assert "error" in refused.text


def session_cookie(response) -> SimpleCookie:
    """The session cookie the response sets, with its flags."""
    [header] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    return SimpleCookie(header)["session"]


def login(client, **kwargs):
    return client.post("/auth/login", data={"email": ADMIN, "password": PASSWORD}, **kwargs)


def test_the_session_cookie_is_httponly_lax_and_not_secure_over_plain_http(client, make_organizer):
    make_organizer()
    response = login(client)
    assert response.status_code == 302
    cookie = session_cookie(response)
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # development on http://127.0.0.1 keeps its login
    assert "Strict-Transport-Security" not in response.headers
    assert client.get("/organizer/").status_code == 200


def test_over_https_the_session_cookie_is_secure_without_any_setting(client, make_organizer):
    make_organizer()
    response = login(client, base_url="https://localhost")
    assert response.status_code == 302
    assert session_cookie(response)["secure"] is True
    assert "Strict-Transport-Security" not in response.headers  # HSTS only when HTTPS is enforced


@pytest.fixture
def https_app(tmp_path):
    app = make_app(tmp_path, FORCE_HTTPS=True, SERVER_NAME=None)
    yield app
    drop_tables(app)


def test_force_https_redirects_plain_http_to_the_same_url(https_app):
    client = https_app.test_client()
    response = client.get("/auth/login?next=/organizer/", base_url="http://register.example.org")
    assert response.status_code == 308
    assert response.headers["Location"] == "https://register.example.org/auth/login?next=/organizer/"
    assert "Strict-Transport-Security" not in response.headers  # HSTS means nothing over plain HTTP
    posted = client.post("/auth/login", data={"email": ADMIN}, base_url="http://register.example.org")
    assert posted.status_code == 308  # a POST stays a POST at the new address
    organizer_page = client.get("/organizer/", base_url="http://register.example.org")
    assert organizer_page.headers["Location"] == "https://register.example.org/organizer/"  # before the login check


def test_force_https_sends_hsts_secure_cookies_and_https_links(https_app):
    from eventreg.auth.services import create_organizer
    from eventreg.extensions import db

    with https_app.app_context():
        create_organizer(ADMIN, PASSWORD, "admin")
        db.session.commit()
    client = https_app.test_client()
    response = login(client, base_url="https://register.example.org")
    assert response.status_code == 302
    assert re.fullmatch(r"max-age=\d{8}", response.headers["Strict-Transport-Security"])
    assert session_cookie(response)["secure"] is True
    assert https_app.config["PREFERRED_URL_SCHEME"] == "https"
    page = client.get("/organizer/", base_url="https://register.example.org")
    assert page.status_code == 200
    check_headers(page, "/organizer/ over https")


def test_force_https_behind_a_trusted_proxy_trusts_its_scheme(tmp_path):
    app = make_app(tmp_path, FORCE_HTTPS=True, TRUSTED_PROXY_COUNT=1, SERVER_NAME=None)
    try:
        client = app.test_client()
        behind = client.get("/auth/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"})
        assert behind.status_code == 200
        assert "Strict-Transport-Security" in behind.headers
        plain = client.get("/auth/login", headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "192.0.2.1"})
        assert plain.status_code == 308
    finally:
        drop_tables(app)


# ---- in a real browser: the policy blocks nothing the pages need


@pytest.mark.browser
def test_pages_show_no_csp_violation_in_a_real_browser(chromium, live_server):
    app, base_url = live_server
    from eventreg.auth.services import create_organizer

    with app.app_context():
        create_organizer(ADMIN, PASSWORD, "admin")
    seeded = seed(app, ADMIN)
    event_url = f"{base_url}/organizer/events/{seeded.slug}"
    pages = [
        event_url,
        f"{event_url}/registrations",
        f"{event_url}/registrations/{seeded.registration_id}",
        f"{event_url}/registrations/{seeded.registration_id}/edit",
        f"{event_url}/settings",
        f"{event_url}/outbox",
        f"{base_url}/checkin/{seeded.slug}",
        f"{base_url}/checkin/{seeded.slug}/r/{seeded.registration_id}",
        f"{base_url}/admin/audit",
        f"{base_url}/auth/tokens",
        f"{base_url}/e/{seeded.slug}",
        f"{base_url}/e/{seeded.slug}/register",
        f"{base_url}/e/{seeded.slug}/delegates",
        f"{base_url}/r/{seeded.token}",
        f"{base_url}/r/{seeded.token}/ticket",
        f"{base_url}/r/{seeded.token}/edit",
    ]
    found, console = [], []
    with watched_page() as page:
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{base_url}/auth/login")
        # Control: an inline script is blocked and reported, so an empty list below means something.
        page.evaluate("document.body.append(Object.assign(document.createElement('script'), {text: '1'}))")
        page.wait_for_function("window.__cspViolations.length > 0")
        assert csp_violations(page) == ["script-src-elem blocked inline"]
        assert any("Content Security Policy" in text for text in console)
        console.clear()
        log_in(page, base_url, ADMIN, PASSWORD)
        for url in pages:
            page.goto(url)
            page.wait_for_load_state("load")
            page.wait_for_timeout(200)  # the deferred scripts ran, and their first poll
            found += [f"{url}: {violation}" for violation in csp_violations(page)]
    assert found == []
    assert [text for text in console if "Content Security Policy" in text] == []
