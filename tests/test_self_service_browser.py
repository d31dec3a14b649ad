"""The private pages in a real Chromium: edit and cancel through the private link on a 360 px phone, and axe-core
on every self-service page at phone and desktop widths."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import create_test_event, register_test_delegate
from tests.test_accessibility import violations
from tests.test_registration_actions import load, mails
from tests.test_self_service import composed


@pytest.mark.browser
def test_edit_and_cancel_through_the_private_link_on_a_phone(live_server, browser_page):
    app, base_url = live_server
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    event = create_test_event(app, capacity=10)
    registration_id, token = register_test_delegate(app, event, accompanying=1)

    page.goto(f"{base_url}/r/{token}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    page.get_by_role("link", name="Change my details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your registration for Inaugural Ceremony")
    expect(page.get_by_label("Email", exact=True)).to_have_count(0)  # changed through a confirmation instead
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label("Accompanying persons", exact=True).fill("9")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Please give a number from 0 to 5.")
    page.get_by_label("Accompanying persons", exact=True).fill("0")
    page.get_by_label("Dietary requirements (optional)", exact=True).fill("Vegetarian · 素食")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your changes are saved. We have sent you an email that lists them."
    )
    expect(page.get_by_text("Vegetarian · 素食")).to_be_visible()

    page.get_by_role("link", name="Cancel my registration…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your registration for Inaugural Ceremony?")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="Yes, cancel my registration").click()
    expect(page).to_have_url(f"{base_url}/r/{token}")
    expect(page.get_by_text("This registration has been cancelled.")).to_be_visible()
    expect(page.get_by_role("link", name="Change my details")).to_have_count(0)

    after = load(app, registration_id)
    assert (after.status, after.accompanying, after.dietary) == ("cancelled", 0, "Vegetarian · 素食")
    assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation", "changed", "cancelled"]


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}, {"width": 1280, "height": 900}])
def test_the_self_service_pages_have_no_axe_violations(live_server, browser_page, viewport):
    app, base_url = live_server
    page = browser_page
    page.set_viewport_size(viewport)
    event = create_test_event(app, capacity=1)
    make = register_test_delegate
    _, token = make(app, event, given_name="Layla", family_name="Haddad", native_name="ليلى حداد")
    registration_id, waiting = make(app, event, email="waiting@example.org")
    checked = {}
    for name, path in [
        ("private page, waitlisted", f"/r/{waiting}"),
        ("edit", f"/r/{token}/edit"),
        ("cancel", f"/r/{token}/cancel"),
        ("change of email", f"/r/{token}/email"),
        ("lost link", f"/e/{event.slug}/lost-link"),
        ("broken confirmation link", "/email-change?key=broken"),
    ]:
        page.goto(base_url + path)
        checked[name] = violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
    page.goto(f"{base_url}/r/{token}/edit")
    page.get_by_label("Given name", exact=True).fill("")
    page.get_by_role("button", name="Save the changes").click()
    checked["edit with errors"] = violations(page)
    page.goto(f"{base_url}/r/{waiting}")
    page.get_by_label("New email address", exact=True).fill("layla@example.org")
    page.get_by_role("button", name="Send the confirmation link").click()
    link = re.search(r"(/email-change\?key=[\w.-]+)", composed(app, registration_id, "email_change")[0].body)[1]
    page.goto(base_url + link)
    checked["confirm the new address"] = violations(page)
    assert {name: found for name, found in checked.items() if found} == {}
