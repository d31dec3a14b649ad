"""axe-core finds no accessibility violations on the pages delegates and organizers use, on a phone and a desktop."""

from pathlib import Path

import axe_playwright_python
import pytest

from eventreg.auth.services import create_organizer
from tests.conftest import create_test_event, register_test_delegate

AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def violations(page) -> list[str]:
    """axe-core's findings on the page as 'rule (impact): first offending element' lines."""
    page.evaluate(AXE_SCRIPT)  # evaluate, not a <script> tag: the Content-Security-Policy forbids inline script
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['html']}" for v in result["violations"]]


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}])
def test_pages_have_no_axe_violations(live_server, browser_page, viewport):
    app, base_url = live_server
    page = browser_page
    page.set_viewport_size(viewport)
    event = create_test_event(app, capacity=100, description="The founding ceremony.")
    _, token = register_test_delegate(app, event, given_name="Layla", family_name="Haddad", native_name="ليلى حداد")
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery")

    checked = {}
    for name, path in [
        ("home", "/"),
        ("event", f"/e/{event.slug}"),
        ("form", f"/e/{event.slug}/register"),
        ("private page", f"/r/{token}"),
        ("login", "/auth/login"),
        ("not found", "/e/no-such-event"),
    ]:
        page.goto(base_url + path)
        checked[name] = violations(page)

    page.goto(f"{base_url}/e/{event.slug}/register")
    page.get_by_role("button", name="Register", exact=True).click()  # everything empty: every error at once
    checked["form with errors"] = violations(page)

    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email", exact=True).fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.goto(f"{base_url}/organizer/events/{event.slug}")
    checked["dashboard"] = violations(page)
    page.goto(f"{base_url}/organizer/")
    checked["organizer index"] = violations(page)

    assert {name: found for name, found in checked.items() if found} == {}
