"""The focal point's path in a real Chromium: open the delegation section through the private link, register a
member, see them listed with the quota's count, on a phone-sized screen; and axe-core on the section."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.models import Registration
from tests.browser import log_in
from tests.conftest import create_test_event
from tests.test_accessibility import violations
from tests.test_focal_point import make_delegation, make_focal_point


@pytest.mark.browser
def test_a_focal_point_registers_a_member_and_sees_them_listed(live_server, browser_page):
    app, base_url = live_server
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    event = create_test_event(app, capacity=10)
    delegation_id = make_delegation(app, event, quota=2)
    _focal_id, token = make_focal_point(app, event, delegation_id)

    page.goto(f"{base_url}/r/{token}")
    page.get_by_role("link", name="Register and manage its members").click()
    expect(page).to_have_url(f"{base_url}/r/{token}/delegation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Delegation Russian Academy of Sciences")
    expect(page.locator("#quota")).to_contain_text("0 places are taken, 2 are left.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_label("Given name", exact=True).fill("Olga")
    page.get_by_label("Family name (optional)", exact=True).fill("Ivanova")
    page.get_by_label("Email", exact=True).fill("olga@example.org")
    page.get_by_label("Institution or organization", exact=True).fill("Russian Academy of Sciences")
    page.get_by_label("Country or region", exact=True).select_option("RU")
    page.get_by_role("button", name="Register the member").click()
    expect(page.get_by_role("alert")).to_contain_text("Please confirm that this person agreed to share their details.")
    page.get_by_label("I confirm that this person agreed", exact=False).check()
    page.get_by_role("button", name="Register the member").click()

    expect(page).to_have_url(f"{base_url}/r/{token}/delegation")
    expect(page.locator(".flash-success")).to_contain_text("A mail was sent to olga@example.org.")
    members = page.locator("#members")
    expect(members).to_contain_text("Olga Ivanova")
    expect(members.locator("tr", has_text="Olga Ivanova")).to_contain_text("Confirmed")
    expect(page.locator("#quota")).to_contain_text("1 place is taken, 1 is left.")
    assert violations(page) == []

    with app.app_context():
        member = db.session.scalar(select(Registration).where(Registration.email == "olga@example.org"))
        assert (member.delegation_id, member.is_focal_point, member.status) == (delegation_id, False, "confirmed")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}, {"width": 1280, "height": 900}])
def test_the_delegation_pages_have_no_axe_violations(live_server, browser_page, viewport):
    app, base_url = live_server
    page = browser_page
    page.set_viewport_size(viewport)
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery", "admin")
    event = create_test_event(app, capacity=10)
    delegation_id = make_delegation(app, event, quota=2)
    _focal_id, token = make_focal_point(app, event, delegation_id)
    log_in(page, base_url, "admin@example.org", "correct horse battery")
    checked = {}
    for name, path in [
        ("list", f"/organizer/events/{event.slug}/delegations"),
        ("one delegation, with a search", f"/organizer/events/{event.slug}/delegations/{delegation_id}?q=irina"),
        ("focal point's section", f"/r/{token}/delegation"),
    ]:
        page.goto(base_url + path)
        checked[name] = violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
    assert {name: found for name, found in checked.items() if found} == {}
