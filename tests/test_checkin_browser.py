"""The check-in desk in a real Chromium on a phone-sized screen: typing a code with and without scripts, and the
camera reading a real QR code (Chromium's fake camera plays a video file of a rendered ticket code)."""

import pytest
import segno
from playwright.sync_api import expect, sync_playwright

from eventreg.extensions import db
from eventreg.models import Event, Organizer, Registration
from tests.browser import CHROMIUM_ARGS
from tests.conftest import BROWSER_TIMEOUT_MS, create_test_event, register_test_delegate
from tests.test_accessibility import violations

PASSWORD = "correct horse battery"
CODE = "AB01CD10EF"
PHONE = {"width": 360, "height": 740}


def seed(app, code=CODE):
    """An event, a delegate whose ticket has `code`, and check-in staff assigned to the event."""
    from eventreg.auth.services import create_organizer

    event = create_test_event(app, capacity=50)
    registration_id, _token = register_test_delegate(app, event, accompanying=1, accessibility="Step-free access")
    with app.app_context():
        db.session.get(Registration, registration_id).checkin_code = code
        db.session.commit()
        staff = create_organizer("desk@example.org", PASSWORD, "checkin")
        staff.events.append(db.session.get(Event, event.id))
        db.session.commit()
    return event, registration_id


def log_in(page, base_url):
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email", exact=True).fill("desk@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Check-in desk")).to_be_visible()


def checked_in_by(app, registration_id):
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        return registration.checked_in_by.email if registration.checked_in_by else None


@pytest.mark.browser
def test_typing_a_code_and_tapping_check_in_on_a_phone(live_server, browser_page):
    app, base_url = live_server
    page = browser_page
    page.set_viewport_size(PHONE)
    _event, registration_id = seed(app)
    log_in(page, base_url)
    page.get_by_role("link", name="Inaugural Ceremony").click()
    expect(page.locator("#desk-counts-text")).to_have_text("Checked in: 0 of 1 expected delegate")
    found = {"desk": violations(page)}
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_label("Ticket code").fill("ab01 cd1o ef")  # lower case, a space, an O for a zero
    page.get_by_role("button", name="Find ticket").click()
    expect(page.get_by_role("heading", name="Prof. Chunli Bai")).to_be_visible()
    expect(page.locator("#access-needs")).to_have_text("Step-free access")
    found["card"] = violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("button", name="Check in").click()  # answered in place through check-in.json
    expect(page.locator("#desk-verdict")).to_have_text("Checked in: Prof. Chunli Bai.")
    expect(page.locator("#desk-counts-text")).to_have_text("Checked in: 1 of 1 expected delegate")
    assert checked_in_by(app, registration_id) == "desk@example.org"

    page.reload()
    expect(page.locator("#desk-verdict")).to_contain_text("Already checked in at ")
    expect(page.locator("#desk-verdict")).to_contain_text("by desk@example.org.")
    found["card, checked in"] = violations(page)
    page.get_by_role("link", name="Next delegate", exact=True).click()
    page.get_by_label("Name").fill("bai")
    page.get_by_role("button", name="Search by name").click()
    expect(page.locator("#desk-results")).to_contain_text("Checked in")
    found["search"] = violations(page)
    assert {name: problems for name, problems in found.items() if problems} == {}


@pytest.mark.browser
def test_the_desk_works_without_javascript(chromium, live_server):
    app, base_url = live_server
    event, registration_id = seed(app)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="en-GB", viewport=PHONE, java_script_enabled=False)
            page = context.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            log_in(page, base_url)
            page.goto(f"{base_url}/checkin/{event.slug}")
            expect(page.locator("#scanner")).to_be_hidden()  # no camera without the script
            page.get_by_label("Ticket code").fill("AB01-CD10-EF")
            page.get_by_role("button", name="Find ticket").click()
            page.get_by_role("button", name="Check in").click()
            expect(page.locator(".flash")).to_have_text("Checked in: Prof. Chunli Bai.")
            expect(page.locator("#desk-verdict")).to_contain_text("Already checked in at ")
            context.close()
        finally:
            browser.close()
    assert checked_in_by(app, registration_id) == "desk@example.org"


def qr_video(path, text: str, width=640, height=480, frames=10) -> None:
    """A YUV4MPEG2 video whose every frame shows the QR code of `text`, dark on white, in the middle (grey levels
    in the Y plane; U and V at 128, no colour). Chromium's fake camera plays it in a loop."""
    rows = [bytes(0 if dark else 255 for dark in row) for row in segno.make(text, micro=False).matrix_iter(scale=8)]
    top, left = (height - len(rows)) // 2, (width - len(rows[0])) // 2
    luma = bytearray(b"\xff" * (width * height))
    for y, row in enumerate(rows):
        start = (top + y) * width + left
        luma[start : start + len(row)] = row
    chroma = b"\x80" * (width // 2 * height // 2)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        video.write(frame * frames)


@pytest.mark.browser
def test_the_camera_reads_the_ticket_and_the_delegate_is_checked_in(chromium, live_server, tmp_path):
    app, base_url = live_server
    event, registration_id = seed(app)
    video = tmp_path / "ticket.y4m"
    qr_video(video, CODE)
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS + camera)
        try:
            context = browser.new_context(locale="en-GB", viewport=PHONE)
            context.grant_permissions(["camera"], origin=base_url)
            page = context.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            log_in(page, base_url)
            page.goto(f"{base_url}/checkin/{event.slug}")
            page.get_by_role("button", name="Start camera").click()
            # jsQR reads the code from the camera's frames; the desk then opens the delegate's card.
            page.wait_for_url(f"{base_url}/checkin/{event.slug}/r/{registration_id}")
            expect(page.get_by_role("heading", name="Prof. Chunli Bai")).to_be_visible()
            page.get_by_role("button", name="Check in").click()
            expect(page.locator("#desk-verdict")).to_have_text("Checked in: Prof. Chunli Bai.")
            context.close()
        finally:
            browser.close()
    assert checked_in_by(app, registration_id) == "desk@example.org"


@pytest.mark.browser
def test_the_dashboard_follows_check_ins_live(live_server, browser_page):
    from eventreg.auth.services import create_organizer
    from eventreg.checkin.services import check_in

    app, base_url = live_server
    app.config["COUNTER_REFRESH_SECONDS"] = 1
    page = browser_page
    event, registration_id = seed(app)
    with app.app_context():
        create_organizer("admin@example.org", PASSWORD)
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email", exact=True).fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.goto(f"{base_url}/organizer/events/{event.slug}")
    expect(page.locator("#checked-in")).to_have_text("0")
    expect(page.locator("#checked-in-expected")).to_have_text("1")

    with app.app_context():  # another desk checks the delegate in while the dashboard is open
        staff = db.session.scalar(db.select(Organizer).where(Organizer.email == "desk@example.org"))
        check_in(db.session.get(Event, event.id), registration_id, staff)

    expect(page.locator("#checked-in")).to_have_text("1")
    expect(page.locator("#checkin-headline")).to_have_text("Checked in: 1 of 1 expected delegate")
    expect(page.locator('#checkin-by-country tr[data-country="CN"] td').nth(1)).to_have_text("1")
