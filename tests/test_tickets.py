"""The ticket on the web: the QR code on the private page, the printable ticket and the calendar download.

QR codes are read back with zxing-cpp (not the library that drew them); the SVG is turned into pixels by a small
rasterizer here, and, in the browser test, by Chromium itself."""

import io
import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import segno
import zxingcpp
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import Registration
from eventreg.registration.self_service import cancel_own_registration
from eventreg.tickets.codes import QR_ERROR, grouped_code, qr_png
from tests.conftest import create_test_event, register_test_delegate
from tests.test_accessibility import violations
from tests.test_ticket_mail import mails, parse


def checkin_code(app, registration_id: int) -> str:
    with app.app_context():
        return db.session.get(Registration, registration_id).checkin_code


def read_qr(image: Image.Image) -> str:
    [result] = zxingcpp.read_barcodes(image)
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    return result.text


def rasterize(svg: str, scale: int = 8) -> Image.Image:
    """Pixels from segno's SVG: one path of horizontal runs ("M x y", "m dx dy", "h n"), stroked 1 module wide."""
    [size] = re.findall(r'viewBox="0 0 (\d+) \d+"', svg)
    [path] = re.findall(r' d="([^"]+)"', svg)
    image = Image.new("L", (int(size) * scale, int(size) * scale), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, numbers in re.findall(r"([Mmh])([-\d. ]+)", path.replace("h", " h").replace("m", " m")):
        values = [float(value) for value in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            draw.rectangle([x * scale, (y - 0.5) * scale, (x + values[0]) * scale - 1, (y + 0.5) * scale - 1], fill=0)
            x += values[0]
    return image


def test_qr_code_holds_exactly_the_checkin_code():
    assert read_qr(Image.open(io.BytesIO(qr_png("7ZK3M9QH1D")))) == "7ZK3M9QH1D"
    assert grouped_code("7ZK3M9QH1D") == "7ZK3M 9QH1D"


@pytest.mark.parametrize("code", ["7ZK3M9QH1D", "0000000000", "ZZZZZZZZZZ", "A1B2C3D4E5"])
@pytest.mark.parametrize("scale", [1, 3, 8])
def test_the_qr_png_has_the_pixels_segno_draws(code, scale):
    """qr_png() writes the PNG itself from segno's matrix: Pillow reads it as segno's own PNG writer draws it."""
    ours = Image.open(io.BytesIO(qr_png(code, scale=scale)))
    reference = io.BytesIO()
    segno.make_qr(code, error=QR_ERROR).save(reference, kind="png", scale=scale, border=4)
    theirs = Image.open(io.BytesIO(reference.getvalue()))
    assert ours.size == theirs.size == ((21 + 8) * scale,) * 2
    assert ours.convert("L").tobytes() == theirs.convert("L").tobytes()
    assert read_qr(ours.resize((ours.width * 8 // scale,) * 2, Image.NEAREST)) == code


def test_private_page_shows_the_qr_code_of_the_checkin_code(app, client):
    event = create_test_event(app)
    registration_id, token = register_test_delegate(app, event)
    code = checkin_code(app, registration_id)

    page = client.get(f"/r/{token}").text
    [src] = re.findall(r'<img class="qr-code" src="([^"]+)"', page)
    assert src == f"/r/{token}/qr.svg"
    assert grouped_code(code) in page
    assert f'href="/r/{token}/ticket"' in page
    assert f'href="/r/{token}/calendar.ics"' in page

    response = client.get(src)
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    decoded = read_qr(rasterize(response.text))
    assert decoded == code
    assert token not in decoded and token not in response.text


def test_printable_ticket_shows_the_code_and_the_event_in_its_time_zone(app, client):
    starts = datetime(2027, 1, 20, 22, 0, tzinfo=UTC)  # 19:00 in Santiago (summer time, UTC−3)
    event = create_test_event(
        app, timezone="America/Santiago", city="Santiago", starts_at=starts, ends_at=starts + timedelta(hours=2)
    )
    registration_id, token = register_test_delegate(app, event, accompanying=1)
    response = client.get(f"/r/{token}/ticket")
    assert response.headers["Cache-Control"] == "no-store"
    page = response.text
    assert grouped_code(checkin_code(app, registration_id)) in page
    assert "Prof. Chunli Bai" in page and "白春礼" in page
    assert "<dt>Starts</dt><dd>Wednesday, 20 January 2027, 19:00 (UTC-03:00)</dd>" in page
    assert "Great Hall, Santiago" in page
    assert "<nav" not in page and "site-header" not in page
    # The token appears only in the address of the QR image (same site), never as text on the ticket.
    assert page.count(token) == 1
    assert f'src="/r/{token}/qr.svg"' in page


@pytest.mark.parametrize("status", ["cancelled", "waitlisted"])
def test_no_ticket_without_a_confirmed_place(app, client, status):
    event = create_test_event(app, capacity=1)
    register_test_delegate(app, event, email="first@example.org")
    registration_id, token = register_test_delegate(app, event)  # waitlisted: the only seat is taken
    if status == "cancelled":
        with app.app_context():
            cancel_own_registration(registration_id)
    code = checkin_code(app, registration_id)

    ticket = client.get(f"/r/{token}/ticket").text
    assert 'class="qr-code' not in ticket and grouped_code(code) not in ticket
    assert 'id="no-ticket"' in ticket
    page = client.get(f"/r/{token}").text
    assert 'class="qr-code' not in page and grouped_code(code) not in page
    assert client.get(f"/r/{token}/qr.svg").status_code == 404
    assert client.get(f"/r/{token}/calendar.ics").status_code == 404


def test_calendar_download_replaces_the_mailed_entry(app, client):
    event = create_test_event(app, timezone="Asia/Shanghai")
    registration_id, token = register_test_delegate(app, event)
    [mail] = mails(app, registration_id)
    [mailed] = [part for part in mail.walk() if part.get_content_type() == "text/calendar"]
    mailed_entry = icalendar.Calendar.from_ical(mailed.get_payload(decode=True)).events[0]

    response = client.get(f"/r/{token}/calendar.ics")
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == 'attachment; filename="event.ics"'
    assert response.headers["Cache-Control"] == "no-store"
    [entry] = icalendar.Calendar.from_ical(response.data).events
    assert str(entry["UID"]) == str(mailed_entry["UID"])
    assert int(entry["SEQUENCE"]) >= int(mailed_entry["SEQUENCE"])
    assert entry.DTSTART.astimezone(UTC) == event.starts_at.replace(microsecond=0)


def test_the_calendar_entry_links_the_public_event_page_not_the_private_link(smtp_app, smtp_server):
    """Calendars get shared: neither the mailed entry nor the downloaded one may hold the private link."""
    event = create_test_event(smtp_app)
    _registration_id, token = register_test_delegate(smtp_app, event)
    with smtp_app.app_context():
        assert deliver_due().sent == 1
    [envelope] = smtp_server.envelopes
    [mailed] = [part for part in parse(envelope.content).walk() if part.get_content_type() == "text/calendar"]
    downloaded = smtp_app.test_client().get(f"/r/{token}/calendar.ics")
    assert downloaded.status_code == 200
    for ics in (mailed.get_payload(decode=True), downloaded.data):
        [entry] = icalendar.Calendar.from_ical(ics).events
        assert str(entry["URL"]) == f"https://register.example.org/e/{event.slug}"
        assert token.encode() not in ics and b"/r/" not in ics


@pytest.mark.parametrize(
    ("accompanying", "admits"),
    [
        (0, "It admits you only: it does not open your registration."),
        (1, "It admits you and the person accompanying you: it does not open your registration."),
        (2, "It admits you and the 2 persons accompanying you: it does not open your registration."),
    ],
)
def test_the_ticket_says_whom_it_admits(app, client, accompanying, admits):
    """The printed ticket, the private page and the mail (HTML and text) name whom the code admits."""
    event = create_test_event(app, capacity=10)
    registration_id, token = register_test_delegate(app, event, accompanying=accompanying)
    [mail] = mails(app, registration_id)
    html = mail.get_body(preferencelist=("html",)).get_content()
    text = " ".join(mail.get_body(preferencelist=("plain",)).get_content().split())
    for shown in (client.get(f"/r/{token}/ticket").text, client.get(f"/r/{token}").text, html, text):
        assert admits in shown
        assert "admits you only" not in shown or accompanying == 0


def test_unknown_token_is_not_found(client):
    for path in ("/r/nope/ticket", "/r/nope/qr.svg", "/r/nope/calendar.ics"):
        assert client.get(path).status_code == 404


@pytest.mark.browser
def test_ticket_renders_on_a_phone_and_in_print(live_server, browser_page):
    app, base_url = live_server
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    event = create_test_event(app)
    registration_id, token = register_test_delegate(app, event)
    code = checkin_code(app, registration_id)

    page.goto(f"{base_url}/r/{token}")
    qr = page.locator("img.qr-code")
    expect(qr).to_be_visible()
    assert read_qr(Image.open(io.BytesIO(qr.screenshot()))) == code  # what Chromium drew from the SVG
    assert violations(page) == []
    page.get_by_role("link", name="Printable ticket").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Inaugural Ceremony")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator("#checkin-code")).to_have_text(grouped_code(code))
    expect(page.get_by_role("button", name="Print the ticket")).to_be_visible()  # shown by static/js/ticket.js
    assert page.locator("nav, header, footer").count() == 0
    assert read_qr(Image.open(io.BytesIO(page.locator("img.ticket-qr").screenshot()))) == code
    assert violations(page) == []

    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print the ticket")).to_be_hidden()
    expect(page.locator("img.ticket-qr")).to_be_visible()
    expect(page.locator("#checkin-code")).to_be_visible()
    assert read_qr(Image.open(io.BytesIO(page.screenshot(full_page=True)))) == code
    assert token not in page.locator("body").inner_text()
