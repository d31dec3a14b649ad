"""The invitee's path in a real Chromium: the personal link opens a pre-filled form, one press registers; a
decline, then an accept through the same link; axe-core on the invitation pages."""

import pytest
from playwright.sync_api import expect

from tests.conftest import create_test_event, private_token
from tests.test_accessibility import violations
from tests.test_invitation_link import load, make_invitation, registration_of

CONSENT = "I agree that the organizers store my details"


@pytest.mark.browser
def test_the_invitee_opens_the_link_and_registers_in_one_step(live_server, browser_page):
    app, base_url = live_server
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    event = create_test_event(app, admission="invitation", requires_approval=True)
    invitation_id, token = make_invitation(app, event, category="speaker", skip_approval=True)

    page.goto(f"{base_url}/i/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitation to Inaugural Ceremony")
    expect(page.locator("#invited-email")).to_have_text("layla.haddad@example.org")
    expect(page.get_by_label("Email", exact=True)).to_have_count(0)  # the invited address, not an input
    expect(page.get_by_label("Given name", exact=True)).to_have_value("Layla")
    expect(page.get_by_label("Institution or organization", exact=True)).to_have_value("Royal Scientific Society")
    expect(page.get_by_label("Category", exact=True)).to_have_value("speaker")
    expect(page.get_by_label("Category", exact=True)).to_be_disabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert violations(page) == []

    page.get_by_label(CONSENT).check()
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page).to_have_url(f"{base_url}/e/{event.slug}/submitted")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    registration = registration_of(app, invitation_id)
    assert (registration.given_name, registration.category, registration.status) == ("Layla", "speaker", "confirmed")
    assert load(app, invitation_id).status == "registered"

    page.goto(f"{base_url}/i/{token}")
    expect(page.locator("#registered")).to_have_text("You are registered for this event through this invitation.")
    page.get_by_role("link", name="See or change your registration").click()
    expect(page).to_have_url(f"{base_url}/r/{private_token(app, registration.id)}")


@pytest.mark.browser
def test_the_invitee_declines_then_accepts(live_server, browser_page):
    app, base_url = live_server
    page = browser_page
    event = create_test_event(app, admission="invitation")
    invitation_id, token = make_invitation(app, event)

    page.goto(f"{base_url}/i/{token}")
    page.get_by_label("Reason for declining").fill("Teaching that week.")
    page.get_by_role("button", name="Decline the invitation").click()
    expect(page).to_have_url(f"{base_url}/i/{token}")
    expect(
        page.get_by_text("You have declined the invitation. Thank you for letting the organizers know.")
    ).to_be_visible()
    expect(page.locator("#declined")).to_contain_text("You can still accept")
    expect(page.get_by_role("button", name="Decline the invitation")).to_have_count(0)
    assert violations(page) == []
    declined = load(app, invitation_id)
    assert (declined.status, declined.decline_reason) == ("declined", "Teaching that week.")

    page.get_by_label(CONSENT).check()
    page.get_by_role("button", name="Accept and register").click()
    expect(page).to_have_url(f"{base_url}/e/{event.slug}/submitted")
    assert load(app, invitation_id).status == "registered"
    assert registration_of(app, invitation_id).status == "confirmed"
