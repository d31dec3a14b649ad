"""The app in the delegate's language, in a real Chromium: a French browser gets its confirmation in French, the
public counter in Russian uses the right plural, the Arabic pages mirror (labels, tables, charts), and the Chinese
country list follows pinyin.

The expected sentences are the catalogs' own translations, written out here: a missing or fuzzy entry (which would
show the English msgid) fails the test.
"""

import html as html_text
import re
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from eventreg.auth.services import create_organizer
from tests.browser import BROWSER_TIMEOUT_MS, launch
from tests.conftest import create_test_event, drop_tables, make_app, register_test_delegate, sending_to, serving
from tests.test_registration import registrations

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def open_page(chromium) -> Iterator[Callable[..., Page]]:
    """Pages of one headless Chromium, each in a context of its own whose browser asks for `locale`."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:

            def page_for(locale: str, viewport: dict = DESKTOP) -> Page:
                page = browser.new_context(locale=locale, viewport=viewport).new_page()
                page.set_default_timeout(BROWSER_TIMEOUT_MS)
                return page

            yield page_for
        finally:
            browser.close()


def fill_registration_form(page: Page, email: str) -> None:
    """Fill the registration form by field ids (the labels are in the page's language) and send it."""
    page.locator("#given_name").fill("Claire")
    page.locator("#family_name").fill("Dubois")
    page.locator("#email").fill(email)
    page.locator("#institution").fill("Sorbonne Université")
    page.locator("#country").select_option("FR")
    page.locator("#category").select_option("delegate")
    page.locator("#accompanying").fill("0")
    page.locator("#consent").check()
    page.locator(".registration-form button[type=submit]").click()


@pytest.mark.browser
def test_a_browser_that_asks_for_french_registers_and_gets_the_confirmation_in_french(
    chromium, open_page, tmp_path, smtp_server
):
    app = make_app(
        tmp_path,
        WTF_CSRF_ENABLED=True,
        **sending_to(smtp_server.port),
    )
    try:
        with serving(app) as base_url:
            event = create_test_event(app)
            page = open_page("fr-FR")  # Accept-Language: fr-FR
            page.goto(f"{base_url}/e/{event.slug}/register")
            assert page.locator("html").get_attribute("lang") == "fr"
            expect(page.get_by_role("heading", level=1)).to_have_text("S'inscrire à Inaugural Ceremony")
            fill_registration_form(page, "claire.dubois@example.org")
            expect(page).to_have_url(f"{base_url}/e/{event.slug}/submitted")
            [registration] = registrations(app)
            assert registration.language == "fr"

            result = app.test_cli_runner().invoke(args=["outbox-worker", "--once"])
            assert result.exit_code == 0, result.output
    finally:
        drop_tables(app)

    [envelope] = smtp_server.envelopes
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"] == "Votre inscription à Inaugural Ceremony"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    for part in (text, html_text.unescape(html)):
        assert "Bonjour Claire Dubois," in part
        assert "Votre inscription à Inaugural Ceremony est confirmée." in part
        assert "Code d'enregistrement" in part
        assert "Your registration" not in part and "Dear " not in part
    assert '<html lang="fr" dir="ltr">' in html


# The catalog's three Russian forms: 1 участник, 2 участника, 5 участников (and "из 1 страны или региона").
RUSSIAN_HEADLINES = {
    1: "1 подтверждённый участник из 1 страны или региона",
    2: "2 подтверждённых участника из 1 страны или региона",
    5: "5 подтверждённых участников из 1 страны или региона",
}


@pytest.mark.browser
def test_the_public_counter_in_russian_uses_the_plural_the_number_needs(live_server, open_page):
    app, base_url = live_server
    app.config["COUNTER_REFRESH_SECONDS"] = 1
    event = create_test_event(app)
    register_test_delegate(app, event, email="d1@example.org", country="RU")
    page = open_page("ru-RU")
    page.goto(f"{base_url}/e/{event.slug}/delegates")
    headline = page.locator("#counter-headline")
    expect(headline).to_have_text(RUSSIAN_HEADLINES[1])
    page.evaluate("window.notReloaded = true")

    # counter.js refreshes the page from the JSON, whose sentence the server formed in the reader's language.
    register_test_delegate(app, event, email="d2@example.org", country="RU")
    expect(headline).to_have_text(RUSSIAN_HEADLINES[2])
    for number in range(3, 6):
        register_test_delegate(app, event, email=f"d{number}@example.org", country="RU")
    expect(headline).to_have_text(RUSSIAN_HEADLINES[5])
    assert page.evaluate("window.notReloaded") is True  # updated in place
    polled = page.request.get(f"{base_url}/e/{event.slug}/delegates.json", headers={"Accept-Language": "ru"}).json()
    assert polled["headline"] == RUSSIAN_HEADLINES[5]


def text_and_box(page: Page, selector: str) -> list[dict]:
    """For each field matched: its control's id and type, the box of its label's text and the control's box."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].map((field) => {
            const control = field.querySelector("input:not([type=hidden]), select, textarea");
            const label = field.querySelector("label");
            const range = document.createRange();
            range.selectNodeContents(label);
            const text = range.getBoundingClientRect();
            const box = control.getBoundingClientRect();
            return {id: control.id, type: control.type, text: [text.left, text.right], box: [box.left, box.right]};
        })""",
        selector,
    )


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP])
def test_the_arabic_form_puts_each_label_at_the_right_of_its_field(live_server, open_page, viewport):
    app, base_url = live_server
    event = create_test_event(app)
    page = open_page("ar", viewport)
    page.goto(f"{base_url}/e/{event.slug}/register")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator("#visa_letter").check()  # the visa letter's fields show, and are checked with the rest
    expect(page.locator("#visa-passport_name")).to_be_visible()
    fields = text_and_box(page, ".registration-form .field")
    assert len(fields) >= 12
    for field in fields:
        text_left, text_right = field["text"]
        box_left, box_right = field["box"]
        if field["type"] == "checkbox":
            # The box comes first, at the right; its label follows to the left of it.
            assert box_left >= text_right - 1, field
        else:
            # The label above its field starts at the field's right edge and runs leftwards (a label as long as
            # the field is wide wraps, and its lines then span it).
            assert abs(text_right - box_right) <= 2, field
            assert text_left > box_left + 10 or text_right - text_left >= box_right - box_left - 10, field
    boxes = {field["id"]: field["box"] for field in fields}
    if viewport == DESKTOP:  # the given name, first in reading order, stands right of the family name
        assert boxes["given_name"][0] >= boxes["family_name"][1], boxes


def log_in_by_ids(page: Page, base_url: str, email: str, password: str) -> None:
    """Log in through the login form in whatever language it shows; returns on the organizer index."""
    page.goto(f"{base_url}/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form.narrow-form button[type=submit]").click()
    page.wait_for_url(f"{base_url}/organizer/")


@pytest.mark.browser
def test_the_organizer_pages_mirror_in_arabic_tables_and_chart_labels(live_server, open_page):
    app, base_url = live_server
    event = create_test_event(app, capacity=50)
    for number, (country, category) in enumerate([("CN", "delegate"), ("EG", "speaker"), ("FR", "delegate")]):
        register_test_delegate(
            app, event, email=f"p{number}@example.org", country=country, category=category, institution="جامعة القاهرة"
        )
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery")
    page = open_page("ar")
    log_in_by_ids(page, base_url, "admin@example.org", "correct horse battery")

    page.goto(f"{base_url}/organizer/events/{event.slug}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    # Every text of every chart lies within its chart: a label anchored on the wrong side would stick out.
    outside = page.evaluate(
        """() => [...document.querySelectorAll("svg.chart")].flatMap((svg) => {
            const frame = svg.getBoundingClientRect();
            return [...svg.querySelectorAll("text")].filter((text) => {
                const box = text.getBoundingClientRect();
                return box.width > 0 && (box.left < frame.left - 1 || box.right > frame.right + 1);
            }).map((text) => `${svg.id}: ${text.textContent}`);
        })"""
    )
    assert outside == []
    # Bars grow from the right: each bar's right edge is the chart's right edge.
    bars = page.evaluate(
        """() => [...document.querySelectorAll("#chart-categories rect.chart-bar")].map((bar) => {
            const frame = bar.ownerSVGElement.getBoundingClientRect();
            return frame.right - bar.getBoundingClientRect().right;
        })"""
    )
    assert bars and all(abs(gap) <= 1 for gap in bars), bars

    page.goto(f"{base_url}/organizer/events/{event.slug}/registrations")
    # Headings and names start at the right of their cells; numbers end at the left, as Arabic tables align them.
    cells = page.evaluate(
        """() => [...document.querySelectorAll("#attendee-list thead th:not(.select)")].map((cell) => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            const text = range.getBoundingClientRect(), box = cell.getBoundingClientRect();
            return {numeric: cell.classList.contains("num"), start: box.right - text.right, end: text.left - box.left};
        })"""
    )
    assert cells
    for cell in cells:
        if cell["numeric"]:
            assert cell["end"] < cell["start"], cell
        else:
            assert cell["start"] < cell["end"], cell


@pytest.mark.browser
def test_the_chinese_country_list_offers_china_and_follows_pinyin(live_server, open_page):
    """Depends on the countries and regions work (eventreg/geo: CLDR names, ICU's collator)."""
    app, base_url = live_server
    event = create_test_event(app)
    page = open_page("zh-CN")
    page.goto(f"{base_url}/e/{event.slug}/register")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    options = page.locator("#country option").evaluate_all("(options) => options.map((o) => [o.value, o.text])")
    names = dict(options)
    assert names["CN"] == "中国"
    order = [value for value, _ in options]
    # Pinyin: Āijí, Àodàlìyà, Bāxī, Déguó, Fǎguó, Rìběn, Zhōngguó. In code-point order 中 would come first and
    # 澳 after 巴 (U+4E2D < U+57C3 < U+5DF4 < U+6FB3).
    expected = ["EG", "AU", "BR", "DE", "FR", "JP", "CN"]
    assert [names[code] for code in expected] == ["埃及", "澳大利亚", "巴西", "德国", "法国", "日本", "中国"]
    assert sorted(expected, key=order.index) == expected
    assert re.fullmatch(r"[\u4e00-\u9fff]+", names["JP"])
