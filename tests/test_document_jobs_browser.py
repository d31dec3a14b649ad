"""A document job's page in a real Chromium: with JavaScript it follows the worker in place and offers the download;
without JavaScript it reloads itself until the PDF is ready."""

import pytest
from playwright.sync_api import expect

from eventreg.auth.services import create_organizer
from eventreg.documents.jobs import run_pending
from tests.conftest import create_test_event
from tests.test_accessibility import violations
from tests.test_document_jobs import NAMES, page_count, queue_job

PASSWORD = "correct horse battery"


def log_in(page, base_url):
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email", exact=True).fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def queued_job_page(app, base_url) -> str:
    """An admin, an event and a queued job of the real test kind; the job page's URL."""
    with app.app_context():
        create_organizer("admin@example.org", PASSWORD, "admin")
    event = create_test_event(app)
    job_id = queue_job(app, event)
    return f"{base_url}/organizer/events/{event.slug}/documents/{job_id}"


def render_pending(app) -> None:
    with app.app_context():
        while run_pending():
            pass


@pytest.mark.browser
def test_the_page_follows_the_job_in_place_and_offers_the_download(live_server, browser_page):
    app, base_url = live_server
    page = browser_page
    url = queued_job_page(app, base_url)
    log_in(page, base_url)
    page.goto(url)
    expect(page.locator("#job-state-label")).to_have_text("Waiting for a worker")
    expect(page.get_by_role("link", name="Download the PDF")).to_be_hidden()
    assert violations(page) == []
    page.evaluate("window.stillTheSamePage = true")

    render_pending(app)
    expect(page.locator("#job-state-label")).to_have_text("Ready")
    expect(page.locator("#job-count")).to_have_text(f"· {len(NAMES)} of {len(NAMES)}")
    link = page.get_by_role("link", name="Download the PDF")
    expect(link).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True  # updated in place, not reloaded
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "names.pdf"
    assert page_count(download.value.path().read_bytes()) == len(NAMES)


@pytest.mark.browser
def test_without_javascript_the_page_reloads_until_the_pdf_is_ready(live_server, browser_page):
    app, base_url = live_server
    url = queued_job_page(app, base_url)
    context = browser_page.context.browser.new_context(java_script_enabled=False, locale="en-GB")
    try:
        page = context.new_page()
        log_in(page, base_url)
        page.goto(url)
        expect(page.locator("#job-state-label")).to_have_text("Waiting for a worker")
        expect(page.get_by_text("this page refreshes by itself")).to_be_visible()
        render_pending(app)
        expect(page.get_by_role("link", name="Download the PDF")).to_be_visible()
        expect(page.locator("#job-state-label")).to_have_text("Ready")
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("ending", "message"),
    [
        ("deleted", "This document is no longer here: it expired or was deleted."),
        ("signed out", "You are no longer logged in: log in again, then reload this page to follow the document."),
    ],
)
def test_the_page_stops_following_a_job_that_is_gone_or_a_session_that_ended(
    live_server, browser_page, ending, message
):
    """An expired job (404) or the login page (not JSON) ends the polling, and the live region says why."""
    from sqlalchemy import delete

    from eventreg.extensions import db
    from eventreg.models import DocumentJob

    app, base_url = live_server
    page = browser_page
    url = queued_job_page(app, base_url)
    log_in(page, base_url)
    page.goto(url)
    expect(page.locator("#job-state-label")).to_have_text("Waiting for a worker")
    asked = []
    page.on("request", lambda request: asked.append(request.url) if request.url.endswith(".json") else None)
    if ending == "deleted":
        with app.app_context():
            db.session.execute(delete(DocumentJob))
            db.session.commit()
    else:
        page.context.clear_cookies()
    expect(page.locator("#job-state-label")).to_have_text(message)
    expect(page.locator("#job-count")).to_be_hidden()
    expect(page.locator("#job-refresh-hint")).to_be_hidden()
    seen = len(asked)
    page.wait_for_timeout(4500)
    assert len(asked) == seen  # no more polling
