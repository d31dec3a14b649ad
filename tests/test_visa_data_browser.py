"""The visa fields in a real Chromium: hidden until "I need a visa invitation letter" is ticked, then filled by
their labels and saved with the registration (CSRF on, a live server)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import VisaApplication
from tests.conftest import create_test_event


@pytest.mark.browser
def test_the_visa_fields_appear_with_the_box_and_are_saved(live_server, browser_page):
    app, base_url = live_server
    page = browser_page
    event = create_test_event(app)
    first, last = event.local(event.starts_at).date(), event.local(event.ends_at).date()
    page.goto(f"{base_url}/e/{event.slug}/register")
    passport = page.get_by_label("Passport number", exact=True)
    expect(passport).to_be_hidden()
    page.get_by_label("I need a visa invitation letter", exact=True).check()
    expect(passport).to_be_visible()
    page.get_by_label("Given name", exact=True).fill("Chunli")
    page.get_by_label("Email", exact=True).fill("chunli.bai@example.org")
    page.get_by_label("Institution or organization", exact=True).fill("Chinese Academy of Sciences")
    page.get_by_label("Country or region", exact=True).select_option(label="China")
    page.get_by_label("Full name exactly as in your passport", exact=True).fill("BAI CHUNLI")
    page.get_by_label("Nationality", exact=True).select_option(label="China")
    passport.fill("x9q 47112")
    page.get_by_label("Passport valid until", exact=True).fill((last + timedelta(days=400)).isoformat())
    page.get_by_label("Date of birth", exact=True).fill("1971-05-04")
    page.get_by_label("City of the consulate where you apply", exact=True).fill("Beijing")
    page.get_by_label("Planned arrival", exact=True).fill((first - timedelta(days=1)).isoformat())
    page.get_by_label("Planned departure", exact=True).fill((last + timedelta(days=1)).isoformat())
    page.get_by_label("I agree that the organizers store my details and use them to run this event").check()
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page).to_have_url(f"{base_url}/e/{event.slug}/submitted")
    with app.app_context():
        application = db.session.scalar(select(VisaApplication))
        assert (application.passport_number, application.passport_name) == ("X9Q47112", "BAI CHUNLI")
    # Unticked again, the fields hide.
    page.goto(f"{base_url}/e/{event.slug}/register")
    expect(page.get_by_label("Passport number", exact=True)).to_be_hidden()
