"""The registration form's country select can be searched in a real browser, by the page's language or by English
names, with the keyboard alone, in Arabic too; without scripts it is the plain sorted select."""

import pytest
from playwright.sync_api import expect

from scripts.messages import read_catalog
from tests.browser import BROWSER_TIMEOUT_MS, CSP_WATCH, csp_violations
from tests.conftest import create_test_event
from tests.test_accessibility import violations
from tests.test_countries import SIX

pytestmark = pytest.mark.browser


@pytest.fixture
def form_page(live_server, browser_page):
    """Open the registration form in a browser that asks for a language: form_page("fr")."""
    app, base_url = live_server
    app.config["LANGUAGES"] = SIX
    event = create_test_event(app)
    browser = browser_page.context.browser
    contexts = []

    def open_in(language: str):
        context = browser.new_context(locale=language)  # its Accept-Language
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(BROWSER_TIMEOUT_MS)
        page.add_init_script(CSP_WATCH)
        page.goto(f"{base_url}/e/{event.slug}/register")
        return page

    yield open_in
    for context in contexts:
        context.close()


def offered(page) -> list[str]:
    return page.locator("#country option").evaluate_all("options => options.map(o => o.value)")


@pytest.mark.parametrize(
    ("language", "typed", "code"),
    [
        ("fr", "Chine", "CN"),
        ("fr", "china", "CN"),  # the English name
        ("fr", "egypte", "EG"),  # Égypte, accents ignored
        ("zh-Hans", "中", "CN"),
        ("zh-Hans", "China", "CN"),
        ("ar", "الصين", "CN"),
        ("ar", "CHINA", "CN"),
        ("ar", "الامارات", "AE"),  # الإمارات typed without its hamza
    ],
)
def test_typing_a_localized_or_english_name_finds_it(form_page, language, typed, code):
    page = form_page(language)
    search = page.locator("#country-search")
    search.fill(typed)
    assert code in offered(page)
    assert len(offered(page)) < 20  # filtered: the empty choice and the few names that contain it
    status = page.locator("#country-search-status")
    expect(status).not_to_be_empty()
    assert str(len(offered(page)) - 1) in status.text_content()
    search.fill("")
    assert len(offered(page)) > 240  # every country and region again
    assert csp_violations(page) == []


def test_the_search_picks_the_first_match_and_keeps_a_choice_that_still_matches(form_page):
    page = form_page("zh-Hans")
    select = page.locator("#country")
    page.locator("#country-search").fill("中国")
    assert select.input_value() == "CN"  # 中国 before 中国台湾, 中国香港特别行政区… in pinyin order
    page.locator("#country-search").fill("中")  # 中非共和国 comes first now, but 中国 still matches: kept
    assert select.input_value() == "CN"
    before = offered(page)
    page.locator("#country-search").fill("no such place")
    nothing = read_catalog("zh_Hans")["No country or region matches. The list is unchanged."].string
    assert page.locator("#country-search-status").text_content() == nothing
    assert select.input_value() == "CN" and offered(page) == before


def test_keyboard_alone_in_arabic(form_page):
    page = form_page("ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator("#institution").focus()
    for _ in range(4):  # position, then the search, in the order of the page
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "country-search":
            break
    assert page.evaluate("document.activeElement.id") == "country-search"
    page.evaluate("window.stillHere = true; window.submits = 0; addEventListener('submit', () => window.submits++)")
    page.keyboard.type("مصر")
    page.keyboard.press("Enter")  # on to the select, not sending the form
    assert page.evaluate("window.stillHere === true && window.submits === 0")
    assert page.evaluate("document.activeElement.id") == "country"
    assert page.locator("#country").input_value() == "EG"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_search_passes_axe(form_page, language):
    page = form_page(language)
    page.locator("#country-search").fill("a")
    assert violations(page) == []


def test_without_scripts_the_select_is_plain_and_sorted(live_server, chromium):
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    app, base_url = live_server
    app.config["LANGUAGES"] = SIX
    event = create_test_event(app)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(java_script_enabled=False, extra_http_headers={"Accept-Language": "zh-Hans"})
            page = context.new_page()
            page.goto(f"{base_url}/e/{event.slug}/register")
            assert page.locator("#country-search").count() == 0
            labels = page.locator("#country option").all_text_contents()
            assert labels.index("埃及") < labels.index("澳大利亚") < labels.index("巴西") < labels.index("中国")
        finally:
            browser.close()
