"""The language switcher of every page, the cookie it sets, and an organizer account's own language."""

import re

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.languages import LANGUAGE_COOKIE
from eventreg.models import Organizer
from tests.conftest import drop_tables, make_app
from tests.site_pages import parse

NAMES = {"en": "English", "zh_Hans": "简体中文", "fr": "Français", "es": "Español", "ru": "Русский", "ar": "العربية"}
TAGS = {"en": "en", "zh_Hans": "zh-Hans", "fr": "fr", "es": "es", "ru": "ru", "ar": "ar"}


def switcher(response):
    """The switcher's <nav> of a page."""
    assert response.status_code == 200, response.status_code
    [nav] = parse(response.text).xpath('//nav[contains(@class, "language-switcher")]')
    return nav


def lang_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return parse(response.text).get("lang")


def account_language(app, email="admin@example.org") -> str:
    with app.app_context():
        return db.session.scalar(select(Organizer.language).where(Organizer.email == email))


def set_account_language(app, language, email="admin@example.org") -> None:
    with app.app_context():
        db.session.scalars(select(Organizer).where(Organizer.email == email)).one().language = language
        db.session.commit()


# ---- anonymous visitors: links


def test_a_public_page_lists_each_language_in_its_own_script_as_links(client, make_event):
    event = make_event()
    nav = switcher(client.get(f"/e/{event.slug}", headers={"Accept-Language": "fr-FR"}))
    links = nav.xpath(".//a")
    assert [link.text_content() for link in links] == list(NAMES.values())
    assert [link.get("lang") for link in links] == list(TAGS.values())
    assert [link.get("hreflang") for link in links] == list(TAGS.values())
    assert [link.get("href") for link in links] == [f"/language/{code}?next=/e/{event.slug}" for code in NAMES]
    assert [link.get("aria-current") for link in links] == [None, None, "true", None, None, None]
    assert nav.get("aria-label") and not nav.xpath(".//form")


def test_an_error_page_has_the_switcher_too(client):
    response = client.get("/e/missing")
    assert response.status_code == 404
    [nav] = parse(response.text).xpath('//nav[contains(@class, "language-switcher")]')
    assert nav.xpath(".//a/@href")[0] == "/language/en?next=/e/missing"


def test_the_switcher_keeps_the_query_string_of_the_page(client, make_event):
    event = make_event()
    nav = switcher(client.get(f"/e/{event.slug}/delegates?x=1&y=%C3%A9"))
    hrefs = [link.get("href") for link in nav.xpath(".//a")]
    assert hrefs[2] == f"/language/fr?next=/e/{event.slug}/delegates?x%3D1%26y%3D%25C3%25A9"
    response = client.get(hrefs[2])
    assert response.headers["Location"] == f"/e/{event.slug}/delegates?x=1&y=%C3%A9"


def test_the_skip_link_stays_the_first_thing_a_keyboard_reaches(client):
    page = parse(client.get("/").text)
    focusable = page.xpath("//body//*[self::a or self::button or self::input[not(@type='hidden')] or self::select]")
    assert focusable[0].get("class") == "skip-link"
    assert focusable[1].get("class") == "brand"
    assert page.xpath("//header//nav[contains(@class, 'language-switcher')]")


def test_following_a_link_keeps_the_choice_in_a_long_lived_cookie_and_goes_back(client, make_event):
    event = make_event()
    response = client.get(f"/language/zh_Hans?next=/e/{event.slug}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/e/{event.slug}"
    assert "no-store" in response.headers["Cache-Control"]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=zh_Hans;")
    assert "Max-Age=31536000" in cookie and "SameSite=Lax" in cookie and "HttpOnly" in cookie
    assert "Path=/" in cookie and "Secure" not in cookie  # plain HTTP, as on 127.0.0.1 in development
    assert [cookie.split("=")[0] for cookie in response.headers.getlist("Set-Cookie")] == [LANGUAGE_COOKIE]
    page = client.get(f"/e/{event.slug}", headers={"Accept-Language": "ru"})
    assert lang_of(page) == "zh-Hans"
    assert switcher(page).xpath(".//a[@aria-current]")[0].text_content() == "简体中文"


def test_the_cookie_is_secure_over_https(client):
    response = client.get("/language/fr?next=/", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/%0a/evil.example".replace("%0a", "\n"),
        "javascript:alert(1)",
        "evil.example",
        "",
        "/" + "x" * 3000,
    ],
)
def test_the_switcher_never_sends_the_visitor_to_another_site(client, target):
    response = client.get("/language/fr", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert response.headers["Set-Cookie"].startswith(f"{LANGUAGE_COOKIE}=fr;")


@pytest.mark.parametrize("code", ["de", "zh-Hans", "EN", "zh_hans", "x" * 300, "%00"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_language_is_not_found(client, code, method):
    response = client.open(f"/language/{code}?next=/", method=method)
    assert response.status_code == 404
    assert "Set-Cookie" not in response.headers


def test_pages_say_they_vary_with_the_language_cookie_and_accept_language(client):
    response = client.get("/")
    assert {"Cookie", "Accept-Language"} <= set(response.vary)


# ---- pages whose address holds a secret: a form, so the secret stays out of query strings


def test_a_private_page_switches_through_a_form_that_keeps_the_secret_out_of_urls(
    client, make_event, make_registration
):
    _registration_id, token = make_registration(make_event())
    nav = switcher(client.get(f"/r/{token}"))
    assert token not in "".join(element.get("href", "") + element.get("formaction", "") for element in nav.iter())
    [form] = nav.xpath(".//form")
    assert form.get("method") == "post" and form.xpath(".//input[@name='next']/@value") == [f"/r/{token}"]
    buttons = form.xpath(".//button")
    assert [(b.text_content(), b.get("lang"), b.get("formaction")) for b in buttons] == [
        (NAMES[code], TAGS[code], f"/language/{code}") for code in NAMES
    ]
    response = client.post("/language/ru", data={"next": f"/r/{token}"})
    assert response.status_code == 303 and response.headers["Location"] == f"/r/{token}"
    assert lang_of(client.get(f"/r/{token}")) == "ru"


# ---- logged in: a POST form that also saves the account's language


def test_an_organizer_page_switches_through_a_post_form_with_its_csrf_token(tmp_path):
    app = make_app(tmp_path / "csrf", WTF_CSRF_ENABLED=True)
    try:
        with app.app_context():
            from eventreg.auth.services import create_organizer

            create_organizer("admin@example.org", "correct horse battery", "admin")
        client = app.test_client()
        login_page = client.get("/auth/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        credentials = {"email": "admin@example.org", "password": "correct horse battery", "csrf_token": token}
        assert client.post("/auth/login", data=credentials).status_code == 302
        nav = switcher(client.get("/organizer/"))
        assert not nav.xpath(".//a")
        [form] = nav.xpath(".//form")
        assert form.get("method") == "post"
        fields = {field.get("name"): field.get("value") for field in form.xpath(".//input")}
        assert fields["next"] == "/organizer/" and fields["csrf_token"]
        buttons = form.xpath(".//button")
        assert [(b.text_content(), b.get("lang")) for b in buttons] == [(NAMES[c], TAGS[c]) for c in NAMES]
        assert [b.get("aria-current") for b in buttons] == ["true", None, None, None, None, None]

        refused = client.post("/language/fr", data={"next": "/organizer/"})  # no token: refused, nothing saved
        assert refused.status_code == 400 and account_language(app) == ""
        response = client.post("/language/fr", data=fields)
        assert response.status_code == 303 and response.headers["Location"] == "/organizer/"
        assert account_language(app) == "fr"
        assert lang_of(client.get("/organizer/")) == "fr"
    finally:
        drop_tables(app)


def test_the_cookie_survives_login_and_logout(app, client, make_organizer):
    email, password = make_organizer()
    client.get("/language/es?next=/")
    assert client.post("/auth/login", data={"email": email, "password": password}).status_code == 302
    assert lang_of(client.get("/")) == "es"
    assert lang_of(client.get("/organizer/")) == "es"  # the account has no language of its own: the choice
    client.post("/auth/logout")
    assert lang_of(client.get("/", headers={"Accept-Language": "fr"})) == "es"
    assert account_language(app) == ""  # an anonymous choice is not the account's


def test_the_account_language_wins_on_organizer_pages_only(app, logged_in, make_event, make_registration):
    event = make_event()
    registration_id, _token = make_registration(event)
    set_account_language(app, "ar")
    logged_in.set_cookie(LANGUAGE_COOKIE, "fr")
    headers = {"Accept-Language": "ru"}
    for path in (
        "/organizer/",
        f"/organizer/events/{event.slug}/registrations",
        f"/organizer/events/{event.slug}/registrations/{registration_id}",
        f"/checkin/{event.slug}",
        "/admin/accounts",
        "/auth/account",
    ):
        page = logged_in.get(path, headers=headers)
        assert (lang_of(page), parse(page.text).get("dir")) == ("ar", "rtl"), path
    for path in ("/", f"/e/{event.slug}", f"/e/{event.slug}/delegates"):
        assert lang_of(logged_in.get(path, headers=headers)) == "fr", path


def test_without_an_account_language_organizer_pages_follow_the_browser(app, logged_in):
    assert lang_of(logged_in.get("/organizer/", headers={"Accept-Language": "ru-RU"})) == "ru"


def test_the_switcher_of_a_logged_in_organizer_saves_the_account_language(app, logged_in):
    nav = switcher(logged_in.get("/"))  # a public page, logged in: the form too
    assert nav.xpath(".//form") and not nav.xpath(".//a")
    response = logged_in.post("/language/zh_Hans", data={"next": "/organizer/"})
    assert response.status_code == 303 and response.headers["Location"] == "/organizer/"
    assert account_language(app) == "zh_Hans"
    assert lang_of(logged_in.get("/organizer/", headers={"Accept-Language": "fr"})) == "zh-Hans"
    logged_in.delete_cookie(LANGUAGE_COOKIE)
    assert lang_of(logged_in.get("/organizer/", headers={"Accept-Language": "fr"})) == "zh-Hans"  # the account's


def test_my_account_page_chooses_the_account_language(app, logged_in):
    page = parse(logged_in.get("/auth/account").text)
    [select] = page.xpath("//select[@name='language']")
    options = [(option.get("value"), option.text_content(), option.get("lang")) for option in select.xpath("option")]
    assert options[0][0] == "" and options[1:] == [(code, NAMES[code], TAGS[code]) for code in NAMES]
    response = logged_in.post("/auth/account/language", data={"language": "ru"}, follow_redirects=True)
    assert account_language(app) == "ru"
    assert lang_of(response) == "ru"
    response = logged_in.post("/auth/account/language", data={"language": ""})
    assert response.status_code == 302 and account_language(app) == ""
    assert lang_of(logged_in.get("/auth/account", headers={"Accept-Language": "es"})) == "es"


@pytest.mark.parametrize("value", ["de", "zh-Hans", "x" * 100])
def test_my_account_page_refuses_a_language_not_offered(app, logged_in, value):
    response = logged_in.post("/auth/account/language", data={"language": value}, follow_redirects=True)
    assert response.status_code == 200
    assert account_language(app) == ""
    assert parse(response.text).xpath("//p[contains(@class, 'flash-error')]")
