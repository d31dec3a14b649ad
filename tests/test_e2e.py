"""A delegate registers in a real Chromium: labels as a person reads them, CSRF on, a live server."""

import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import VisaApplication
from tests.conftest import create_test_event, private_token
from tests.test_registration import registrations


@pytest.mark.browser
def test_delegate_registers_in_a_real_browser(live_server, browser_page):
    """Fill the form by its labels, get an email error with nothing lost, fix it, be told where the mail went,
    and open the registration through the link in that mail."""
    app, base_url = live_server
    page = browser_page
    event = create_test_event(app)

    page.goto(f"{base_url}/e/{event.slug}/register")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register for Inaugural Ceremony")
    expect(page.locator("input[name=csrf_token]")).to_have_count(1)  # the submits below pass the CSRF check

    page.get_by_label("Title (optional)", exact=True).select_option(label="Prof.")
    page.get_by_label("Given name", exact=True).fill("Chunli")
    page.get_by_label("Family name (optional)", exact=True).fill("Bai")
    page.get_by_label("Name in your own script (optional)", exact=True).fill("白春礼")
    page.get_by_label("Email", exact=True).fill("chunli.bai@")  # no domain: refused
    page.get_by_label("Institution or organization", exact=True).fill("中国科学院 Chinese Academy of Sciences")
    page.get_by_label("Position (optional)", exact=True).fill("President")
    page.get_by_label("Country or region", exact=True).select_option(label="China")
    page.get_by_label("Category", exact=True).select_option(label="Observer")
    page.get_by_label("Accompanying persons", exact=True).fill("1")
    page.get_by_label("Dietary requirements (optional)", exact=True).fill("Vegetarian · 素食 · نباتي")
    page.get_by_label("Accessibility needs (optional)", exact=True).fill("Step-free access, please")
    page.get_by_label("I need a visa invitation letter", exact=True).check()
    # Ticking the box shows what a consulate needs.
    first, last = event.local(event.starts_at).date(), event.local(event.ends_at).date()
    page.get_by_label("Full name exactly as in your passport", exact=True).fill("BAI CHUNLI")
    page.get_by_label("Nationality", exact=True).select_option(label="China")
    page.get_by_label("Passport number", exact=True).fill("E1234 5678")
    page.get_by_label("Passport valid until", exact=True).fill((last + timedelta(days=400)).isoformat())
    page.get_by_label("Date of birth", exact=True).fill("1953-06-26")
    page.get_by_label("City of the consulate where you apply", exact=True).fill("Beijing")
    page.get_by_label("Planned arrival", exact=True).fill((first - timedelta(days=1)).isoformat())
    page.get_by_label("Planned departure", exact=True).fill((last + timedelta(days=1)).isoformat())
    page.get_by_label("I agree that the organizers store my details and use them to run this event").check()
    page.get_by_role("button", name="Register", exact=True).click()

    # The error sits next to the field, is announced with it, and nothing typed is lost.
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct 1 field marked below:")
    expect(summary).to_be_focused()  # the reader is taken to what needs correcting
    summary.get_by_role("link", name=re.compile("^Email: Something is missing after the @ sign")).click()
    email = page.get_by_label("Email", exact=True)
    expect(email).to_be_focused()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile(r"Something is missing after the @ sign"))
    email_field = page.locator(".field").filter(has=email)
    expect(email_field.locator(".error")).to_contain_text("Something is missing after the @ sign")
    expect(email).to_have_value("chunli.bai@")
    expect(page.get_by_label("Title (optional)", exact=True)).to_have_value("Prof.")
    expect(page.get_by_label("Given name", exact=True)).to_have_value("Chunli")
    expect(page.get_by_label("Family name (optional)", exact=True)).to_have_value("Bai")
    expect(page.get_by_label("Name in your own script (optional)", exact=True)).to_have_value("白春礼")
    expect(page.get_by_label("Institution or organization", exact=True)).to_have_value(
        "中国科学院 Chinese Academy of Sciences"
    )
    expect(page.get_by_label("Country or region", exact=True)).to_have_value("CN")
    expect(page.get_by_label("Category", exact=True)).to_have_value("observer")
    expect(page.get_by_label("Accompanying persons", exact=True)).to_have_value("1")
    expect(page.get_by_label("Dietary requirements (optional)", exact=True)).to_have_value("Vegetarian · 素食 · نباتي")
    expect(page.get_by_label("Accessibility needs (optional)", exact=True)).to_have_value("Step-free access, please")
    expect(page.get_by_label("I need a visa invitation letter", exact=True)).to_be_checked()
    expect(page.get_by_label("Passport number", exact=True)).to_have_value("E12345678")  # as it is kept
    assert registrations(app) == []

    email.fill("Chunli.Bai@Example.org")
    page.get_by_role("button", name="Register", exact=True).click()

    # The browser is thanked and told where the outcome and the link went; it gets neither.
    expect(page).to_have_url(f"{base_url}/e/{event.slug}/submitted")
    expect(page.get_by_role("status")).to_contain_text("the private link to your registration to C…@example.org.")
    assert "/r/" not in page.content()

    # The mail arrives (the worker writes it as an .eml file, as `make run` does) and its link opens the registration.
    result = app.test_cli_runner().invoke(args=["outbox-worker", "--once"])
    assert result.exit_code == 0, result.output
    [eml] = Path(app.config["MAIL_FILE_DIR"]).glob("*.eml")
    mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert mail["To"] == '"Prof. Chunli Bai" <Chunli.Bai@example.org>'
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Your registration for Inaugural Ceremony is confirmed." in body
    link = re.search(rf"{re.escape(base_url)}/r/[\w-]{{43,}}", body).group(0)
    page.goto(link)
    expect(page.get_by_text("Your place is confirmed.")).to_be_visible()
    expect(page.get_by_text("Prof. Chunli Bai (白春礼)")).to_be_visible()
    expect(page.locator("dt:text-is('Country or region') + dd")).to_have_text(re.compile(r"^\s*China$"))

    [registration] = registrations(app)
    assert link == f"{base_url}/r/{private_token(app, registration.id)}"
    assert registration.display_name == "Prof. Chunli Bai"
    assert registration.native_name == "白春礼"
    assert registration.email == "Chunli.Bai@example.org"
    assert registration.institution == "中国科学院 Chinese Academy of Sciences"
    assert registration.position == "President"
    assert (registration.country, registration.category, registration.status) == ("CN", "observer", "confirmed")
    assert registration.accompanying == 1
    assert registration.dietary == "Vegetarian · 素食 · نباتي"
    assert registration.accessibility == "Step-free access, please"
    assert registration.visa_letter is True
    with app.app_context():
        request = db.session.scalar(select(VisaApplication).where(VisaApplication.registration_id == registration.id))
        assert (request.passport_name, request.passport_number) == ("BAI CHUNLI", "E12345678")
    assert registration.consent_at is not None
