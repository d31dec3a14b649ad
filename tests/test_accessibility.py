"""axe-core finds no violation of WCAG 2.1 A and AA on any page delegates and organizers use, in English and in
Arabic (right to left), on a phone and on a desktop; and the Arabic registration form works by keyboard alone.

The pages are read from the app's URL map (tests/site_pages.py), so a new page is checked without touching this file:
public ones logged out, the others logged in as an administrator. One browser and one login for all of them; each
page is loaded once per language and checked at both widths.
"""

from datetime import timedelta
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import Page, expect

from eventreg.auth.services import create_organizer
from eventreg.models import utcnow
from eventreg.registration.privacy import erase_registration
from eventreg.security import is_public_endpoint
from tests.conftest import create_test_event, register_test_delegate
from tests.site_pages import page_urls, seed
from tests.test_registration import registrations

AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LANGUAGES = ("en", "ar")
# GET routes that answer something other than a page: data, files, redirects.
NOT_PAGES = (
    "api.",
    "badges.",  # PDFs
    "certificates.own_certificate",  # a PDF (the seeded delegate's refusal page is walked by its own test)
    "checkin_json.",
    "document_settings.show_image",
    "documents.download_job",
    "documents.job_status",  # a print run's progress, polled as JSON
    "counter.delegates_json",
    "exports.",
    "flags.static",
    "health.",  # /healthz and /readyz: JSON for the load balancer
    "invitations.import_progress",  # the import's progress, polled as JSON
    "languages.switch",
    "metrics.metrics",  # the Prometheus figures, plain text
    "static",
    "tickets.ticket_calendar",
    "tickets.ticket_qr",
    "visa_letters.own_letter",  # PDFs
    "visas.download_letter",
)


def violations(page, tags: list[str] | None = None) -> list[str]:
    """axe-core's findings on the page as 'rule (impact): first offending element' lines; only the rules of `tags`
    when given (all of axe's rules otherwise)."""
    page.evaluate(AXE_SCRIPT)  # evaluate, not a <script> tag: the Content-Security-Policy forbids inline script
    options = {"resultTypes": ["violations"], **({"runOnly": {"type": "tag", "values": tags}} if tags else {})}
    result = page.evaluate("(options) => axe.run(document, options)", options)
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['html']}" for v in result["violations"]]


class Walk:
    """Checks the page the browser shows at both widths, keeping the findings by page, language and width."""

    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.found: dict[str, list[str]] = {}
        self.checked: set[str] = set()

    def check(self, name: str, language: str) -> None:
        assert self.page.locator("html").get_attribute("lang") == language, f"{name} is not in {language}"
        for viewport in (PHONE, DESKTOP):
            self.page.set_viewport_size(viewport)
            self.found[f"{name} [{language}, {viewport['width']}px]"] = violations(self.page, WCAG_TAGS)
        self.checked.add(name)

    def visit(self, name: str, path: str, language: str) -> None:
        self.page.goto(self.base_url + path)
        self.check(name, language)

    def choose_language(self, language: str) -> None:
        """Choose the language through the page's switcher (a link, or a button once logged in)."""
        self.page.locator(f".language-switcher [lang={language}]").click()
        expect(self.page.locator("html")).to_have_attribute("lang", language)
        expect(self.page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")


@pytest.mark.browser
def test_every_page_has_no_axe_violations_in_english_and_arabic_on_a_phone_and_a_desktop(live_server, browser_page):
    app, base_url = live_server
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery")
    seeded = seed(app, "admin@example.org", {"capacity": 100, "description": "The founding ceremony."})
    event = create_test_event(app, title="Second Ceremony")
    register_test_delegate(app, event, given_name="Layla", family_name="Haddad", native_name="ليلى حداد")
    erased_id, erased_token = register_test_delegate(app, event, email="erased@example.org")
    with app.app_context():
        erase_registration(erased_id, actor=None)
    later = create_test_event(app, title="Later Ceremony", registration_opens_at=utcnow() + timedelta(days=10))
    pages = [
        (endpoint, url)
        for endpoint, url in page_urls(app, seeded, query="Chunli")
        if not endpoint.startswith(NOT_PAGES)
    ]
    public = [(endpoint, url) for endpoint, url in pages if is_public_endpoint(app, endpoint)]
    private = [(endpoint, url) for endpoint, url in pages if not is_public_endpoint(app, endpoint)]
    walk = Walk(browser_page, base_url)

    for language in LANGUAGES:  # what delegates see, logged out
        walk.page.goto(f"{base_url}/")
        walk.choose_language(language)
        for endpoint, url in public:
            walk.visit(endpoint, url, language)
        walk.visit("not found", "/e/no-such-event", language)
        walk.visit("link problem", "/email-change?key=not-a-key", language)
        walk.visit("erased", f"/r/{erased_token}", language)
        walk.visit("not open yet", f"/e/{later.slug}/register", language)
        walk.page.goto(f"{base_url}/e/{seeded.slug}/register")
        walk.page.locator(".registration-form button[type=submit]").click()  # everything empty: every error at once
        expect(walk.page.locator("#form-errors")).to_be_visible()
        walk.check("form with errors", language)

    walk.page.goto(f"{base_url}/auth/login")  # in Arabic, the last language chosen
    walk.page.locator("#email").fill("admin@example.org")
    walk.page.locator("#password").fill("correct horse battery")
    walk.page.locator("form.narrow-form button[type=submit]").click()
    walk.page.wait_for_url(f"{base_url}/organizer/")
    for language in LANGUAGES:  # what organizers and the desk see, logged in
        walk.choose_language(language)
        for endpoint, url in private:
            walk.visit(endpoint, url, language)
        walk.page.goto(f"{base_url}/organizer/events/{seeded.slug}/registrations")
        walk.page.locator("input[name=ids]").first.check()
        walk.page.locator("button[name=action][value=cancel]").click()
        walk.check("bulk confirmation", language)
        walk.page.goto(f"{base_url}/auth/tokens")
        walk.page.locator("#name").fill(f"Nightly sync {language}")
        walk.page.locator("form.narrow-form button[type=submit]").click()
        walk.check("token created", language)

    assert {endpoint for endpoint, _ in pages} <= walk.checked
    assert len(walk.found) == 2 * 2 * (len(pages) + 7)  # languages × widths × pages
    assert {name: found for name, found in walk.found.items() if found} == {}


def tab_until(page: Page, selector: str, most: int) -> None:
    """Press Tab until the focused element matches `selector`; fails if it is not reached in `most` presses."""
    for _ in range(most):
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} was not reached with the Tab key")


def tab_to(page: Page, element_id: str, most: int = 60) -> None:
    """Press Tab until the element with `element_id` has the focus."""
    tab_until(page, f"#{element_id}", most)


@pytest.mark.browser
def test_the_arabic_registration_form_is_completed_and_sent_by_keyboard_alone(live_server, browser_page):
    app, base_url = live_server
    event = create_test_event(app)
    page = browser_page
    page.goto(f"{base_url}/e/{event.slug}/register")
    tab_until(page, ".language-switcher [lang=ar]", most=30)  # the language too is chosen with the keyboard
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page).to_have_url(f"{base_url}/e/{event.slug}/register")

    tab_to(page, "honorific")
    page.keyboard.press("ArrowDown")  # a closed select changes its choice with the arrow keys
    for element_id, text in [
        ("given_name", "ليلى"),
        ("family_name", "حداد"),
        ("native_name", "Layla Haddad"),
        ("email", "layla.haddad@example.org"),
        ("institution", "جامعة القاهرة"),
        ("position", "أستاذة"),
    ]:
        tab_to(page, element_id, most=3)
        page.keyboard.type(text)
    if page.locator("#country-search").count():  # the search typed into, then Enter goes on to the select
        tab_to(page, "country-search", most=3)
        page.keyboard.type("مصر")
        page.keyboard.press("Enter")
    else:
        tab_to(page, "country", most=3)
        page.keyboard.type("مصر")  # typing picks the option that begins so
    tab_to(page, "country", most=3)
    tab_to(page, "category", most=3)
    page.keyboard.press("ArrowDown")
    tab_to(page, "accompanying", most=3)
    page.keyboard.type("1")
    tab_to(page, "dietary", most=3)
    page.keyboard.type("نباتي")
    # The visa letter's box is left unticked: its fields are walked by tests/test_visa_data_browser.py.
    tab_to(page, "consent", most=12)  # past the privacy notice's links, if any
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{base_url}/e/{event.slug}/submitted")
    [registration] = registrations(app)
    assert (registration.given_name, registration.family_name, registration.native_name) == (
        "ليلى",
        "حداد",
        "Layla Haddad",
    )
    assert registration.honorific and registration.category
    assert (registration.country, registration.accompanying, registration.dietary) == ("EG", 1, "نباتي")
    assert registration.visa_letter is False and registration.consent_at is not None
    assert registration.language == "ar"
