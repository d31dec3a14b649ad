"""The attendee list on a phone, in a real browser: name, status and date fit the screen without sideways
scrolling, and the search and filters fold away unless one is in use."""

import pytest
from playwright.sync_api import expect

from eventreg.auth.services import create_organizer
from tests.browser import log_in
from tests.conftest import create_test_event, register_test_delegate

PASSWORD = "correct horse battery"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

# For each column by its header: is its cell in the first row shown, and wholly inside the window?
CELLS_IN_VIEW = """
(headers) => {
  const names = [...document.querySelectorAll("#attendee-list thead th")].map((th) => th.textContent.trim());
  const cells = document.querySelectorAll("#attendee-list tbody tr:first-child td");
  return Object.fromEntries(headers.map((header) => {
    const cell = cells[names.findIndex((name) => name.startsWith(header))];
    const box = cell.getBoundingClientRect();
    return [header, box.width > 0 && box.left >= 0 && box.right <= window.innerWidth];
  }));
}
"""


@pytest.fixture
def attendee_list(live_server, browser_page):
    """A logged-in browser and the address of an event's attendee list with a few long-named registrations."""
    app, base_url = live_server
    event = create_test_event(app, capacity=100)
    for number in range(3):
        register_test_delegate(
            app,
            event,
            email=f"delegate.with.a.long.address.{number}@institute.example.org",
            given_name="Maximiliane",
            family_name="Oppenheimer-Castellanos",
            institution="Max Planck Institute for Extraterrestrial Physics and Astrophysics",
        )
    with app.app_context():
        create_organizer("admin@example.org", PASSWORD)
    log_in(browser_page, base_url, "admin@example.org", PASSWORD)
    return browser_page, f"{base_url}/organizer/events/{event.slug}/registrations"


@pytest.mark.browser
def test_on_a_phone_name_status_and_date_fit_without_sideways_scrolling(attendee_list):
    page, url = attendee_list
    page.set_viewport_size(PHONE)
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(CELLS_IN_VIEW, ["Name", "Status", "Registered"]) == {
        "Name": True,
        "Status": True,
        "Registered": True,
    }
    # The filters are folded, one tap away.
    search = page.get_by_label("Search", exact=True)
    expect(search).to_be_hidden()
    page.get_by_text("Search and filters", exact=True).click()
    expect(search).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
def test_the_filters_are_open_on_a_phone_when_one_is_in_use_and_always_on_a_wide_screen(attendee_list):
    page, url = attendee_list
    page.set_viewport_size(PHONE)
    page.goto(f"{url}?status=confirmed")
    expect(page.get_by_label("Status", exact=True)).to_be_visible()
    page.set_viewport_size(DESKTOP)
    page.goto(url)
    expect(page.get_by_label("Search", exact=True)).to_be_visible()
    assert page.evaluate(CELLS_IN_VIEW, ["Institution", "Country or region", "Category"]) == {
        "Institution": True,
        "Country or region": True,
        "Category": True,
    }
