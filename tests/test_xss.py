"""Script in people's data stays text: a registration (and an event) whose every field is an XSS or template
payload is shown inert on every page, in the JSON, the mails, the calendar entry and the exports.

Pages are read with an HTML parser: the test looks for script elements, event handler attributes and javascript:
URLs as a browser would build them, not for substrings. A browser test then opens the busiest pages in Chromium
and listens for a dialog."""

import csv
import email
import email.policy
import io
import subprocess
from urllib.parse import urljoin, urlsplit

import icalendar
import pytest
from lxml import etree
from openpyxl import load_workbook
from sqlalchemy import select

from eventreg.auth.services import create_organizer
from eventreg.events.services import update_event
from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.models import ApiToken, Event, OutboxMessage
from tests.browser import csp_violations, log_in, watched_page
from tests.site_pages import (
    MEMBER_EMAIL,
    TEXT_FIELDS,
    active_content,
    fetch,
    page_urls,
    parse,
    seed,
    shown_text,
)

PAYLOADS = [
    "<script>alert(1)</script>",
    '"onmouseover="alert(1)',
    "'onfocus='alert(1)' autofocus '",
    "javascript:alert(1)",
    "</textarea><img src=x onerror=alert(1)>",
    "</title><svg onload=alert(1)>",
    "{{7*7}}",
    "{% raw %}${7*7}<%= 7*7 %>",
]
ADMIN = "admin@example.org"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The export's columns of TEXT_FIELDS.
TEXT_COLUMNS = [
    "Given name",
    "Family name",
    "Name in native script",
    "Institution",
    "Position",
    "Dietary requirements",
    "Accessibility needs",
]

# Pages that show the registration's own fields, and those that show an event's details to the public.
REGISTRATION_PAGES = {
    "organizer.dashboard",
    "attendees.list_registrations",
    "attendees.registration_detail",
    "attendees.edit_registration_view",
    "attendees.confirm_cancel",
    "checkin.desk",
    "checkin.card",
    "self_service.view_registration",
    "self_service.edit_own",
    "self_service.cancel_own",
    "tickets.ticket",
    "admin.audit",
    "tokens.index",
}
EVENT_PAGES = {
    "registration.index",
    "registration.show_event",
    "registration.register",
    "self_service.lost_link",
    "counter.delegates",
    "self_service.view_registration",
    "tickets.ticket",
    "organizer.index",
    "organizer.dashboard",
    "events.settings",
    "checkin.index",
    "checkin.desk",
}


# The PDFs that print what the delegate typed (the seeded registration's name, its visa request's passport name).
PRINTED = {"badges.badges_pdf", "badges.desk_badge", "visa_letters.own_letter", "visas.download_letter"}


def _assert_page_inert(response, endpoint: str, payload: str, must_show: set[str]) -> None:
    """One answer of any type: HTML parsed for active content, JSON and SVG checked for what they are."""
    # The login page sends a logged-in organizer on: still read.
    assert response.status_code == 200 or endpoint not in must_show, (endpoint, response.status_code)
    assert response.headers["X-Content-Type-Options"] == "nosniff", endpoint
    if response.mimetype == "text/html":
        document = parse(response.text)
        assert active_content(document) == [], endpoint
        if endpoint in must_show:
            assert payload in shown_text(document), endpoint
    elif response.mimetype == "application/json":
        response.get_json()  # well-formed; nosniff keeps a browser from reading it as HTML
    elif response.mimetype == "image/svg+xml":
        svg = etree.fromstring(response.data)
        assert not svg.xpath("//*[local-name()='script' or starts-with(name(@*), 'on')]"), endpoint
    elif response.mimetype == "application/pdf":
        # Rendered from escaped HTML: no script or action made it into the PDF, and the payload is printed as the
        # text it is (markup would have been taken as tags, and vanished from the page).
        for action in (b"/JavaScript", b"/JS", b"/Launch", b"/OpenAction"):
            assert action not in response.data, (endpoint, action)
        if endpoint in PRINTED:
            printed = subprocess.run(
                ["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True
            ).stdout.decode()
            assert "".join(payload.split()) in "".join(printed.split()), endpoint
    elif response.mimetype == "text/plain":
        # The Prometheus figures (/metrics): routes, statuses and counts, never a delegate's data.
        assert payload not in response.get_data(as_text=True), endpoint
    else:
        # Files a browser does not render as a page; the exports and the calendar have tests of their own below, the
        # letterhead's images are re-encoded on upload (tests/test_letterhead_images.py).
        files = {"text/css", "text/calendar", "text/csv", XLSX, "image/png", "image/jpeg"}
        assert response.mimetype in files, (endpoint, response.mimetype)


@pytest.mark.parametrize(
    "unescaped",
    [
        f"<p>{PAYLOADS[0]}</p>",
        f'<input value="{PAYLOADS[1]}">',
        f"<input value='{PAYLOADS[2]}'>",
        f'<a href="{PAYLOADS[3]}">x</a>',
        '<a href=" JaVa\tScRiPt:alert(1)">x</a>',  # browsers drop the tab and ignore case
        f"<textarea>{PAYLOADS[4]}</textarea>",
        f"<title>{PAYLOADS[5]}</title>",
    ],
)
def test_the_check_finds_each_payload_where_it_is_not_escaped(unescaped):
    """The control: the same check reports each payload when a page writes it raw."""
    assert active_content(parse(f"<!doctype html><html><head></head><body>{unescaped}</body></html>")) != []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_registration_made_of_payloads_is_text_on_every_page(app, logged_in, payload):
    seeded = seed(app, ADMIN, text=payload)
    urls = page_urls(app, seeded, query=payload)
    for endpoint, url in urls:
        _assert_page_inert(fetch(logged_in, endpoint, url, seeded), endpoint, payload, REGISTRATION_PAGES)
    assert {"organizer.dashboard", "checkin.card", "admin.audit"} <= {endpoint for endpoint, _url in urls}
    # The searches above echo the payload in their box; the rows show it too, found by a plain word (the desk
    # searches names, institutions and check-in codes, not emails: the code).
    for url in (f"/organizer/events/{seeded.slug}/registrations", f"/checkin/{seeded.slug}?q={seeded.checkin_code}"):
        document = parse(logged_in.get(url).text)
        assert active_content(document) == [], url
        assert payload in document.text_content(), url


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_json_answers_carry_payloads_unchanged(app, logged_in, payload):
    seeded = seed(app, ADMIN, text=payload)
    lookup = logged_in.get(f"/checkin/{seeded.slug}/lookup.json", query_string={"code": seeded.checkin_code})
    assert lookup.mimetype == "application/json"
    card = lookup.get_json()["registration"]
    assert (card["native_name"], card["access_needs"]) == (payload, payload)
    assert card["name"].startswith("Prof. " + payload)
    api = logged_in.get(
        f"/api/v1/events/{seeded.slug}/registrations", headers={"Authorization": f"Bearer {seeded.api_token}"}
    )
    assert api.mimetype == "application/json"
    [row] = [item for item in api.get_json()["items"] if item["id"] == seeded.registration_id]
    assert {row[name] for name in ("given_name", "family_name", "institution")} == {payload}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_event_made_of_payloads_is_text_on_every_page(app, logged_in, payload):
    seeded = seed(app, ADMIN, event_fields=event_payload(payload))
    for endpoint, url in page_urls(app, seeded):
        _assert_page_inert(fetch(logged_in, endpoint, url, seeded), endpoint, payload, EVENT_PAGES)
    counter = logged_in.get(f"/e/{seeded.slug}/delegates.json")
    assert counter.mimetype == "application/json"


def event_payload(payload: str) -> dict:
    """An event whose every text the organizer types is `payload` (the description over two lines)."""
    return {
        "title": payload,
        "venue": payload,
        "city": payload,
        "description": f"{payload}\n{payload}",
        "confirmation_note": f"{payload}\n{payload}",
    }


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_calendar_entry_holds_the_payload_as_one_value(app, client, make_organizer, payload):
    make_organizer()
    seeded = seed(app, ADMIN, event_fields=event_payload(payload))
    response = client.get(f"/r/{seeded.token}/calendar.ics")
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.data)
    [entry] = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == payload
    assert payload in str(entry["LOCATION"])
    assert payload in str(entry["DESCRIPTION"])
    # The same lines as a plain event's entry: a payload cannot start a property of its own.
    plain = seed(app, ADMIN, event_fields={"title": "Plain", "description": "a\nb", "confirmation_note": "c\nd"})
    assert property_names(response.text) == property_names(client.get(f"/r/{plain.token}/calendar.ics").text)


def property_names(ics: str) -> list[str]:
    """The name of each content line of a calendar (folded continuation lines start with a space)."""
    return [line.split(":", 1)[0].split(";", 1)[0] for line in ics.splitlines() if line[:1] != " "]


def composed_mails(app, seeded) -> list[email.message.EmailMessage]:
    """Every mail queued about the registration, composed as the worker sends it and parsed back."""
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.registration_id == seeded.registration_id)
        messages = db.session.scalars(query.order_by(OutboxMessage.id)).all()
        return [
            email.message_from_bytes(compose(message).as_bytes(), policy=email.policy.default) for message in messages
        ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_mails_html_part_shows_payloads_as_text(app, make_organizer, payload):
    make_organizer()
    seeded = seed(app, ADMIN, event_fields=event_payload(payload), text=payload)
    with app.app_context():  # the event moves, and its delegate is told: the before and after show the payload
        update_event(db.session.get(Event, seeded.event_id), tell_delegates=True, venue=f"{payload} (Hall B)")
    mails = composed_mails(app, seeded)
    # The confirmation, the "changed" mail, the confirmation of a new address, the visa letter and the new place.
    assert [mail["Subject"].split(":")[0] for mail in mails][-1] == "New date, time or place"
    assert len(mails) == 5
    for mail in mails:
        assert payload in mail["Subject"]
        html = mail.get_body(("html",)).get_content()
        document = parse(html)
        assert active_content(document) == []
        assert payload in shown_text(document)
        assert payload in mail.get_body(("plain",)).get_content()  # plain text is plain: not escaped


def seeded_rows(rows) -> list[dict]:
    """The export's rows of the seeded registration (not its delegation's other member, tests/site_pages.py)."""
    return [row for row in rows if row["Email"] != MEMBER_EMAIL]


def seeded_sheet_row(sheet) -> tuple:
    """The header row and the seeded registration's row of an exported sheet."""
    headers, *rows = sheet.iter_rows()
    email = [header.value for header in headers].index("Email")
    [cells] = [cells for cells in rows if cells[email].value != MEMBER_EMAIL]
    return headers, cells


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_exports_hold_payloads_as_plain_cells(app, logged_in, payload):
    seeded = seed(app, ADMIN, text=payload)
    url = f"/organizer/events/{seeded.slug}/registrations"
    [row] = seeded_rows(csv.DictReader(io.StringIO(logged_in.get(f"{url}.csv").text.lstrip("\ufeff"))))
    assert all(row[label] == payload for label in TEXT_COLUMNS)
    sheet = load_workbook(io.BytesIO(logged_in.get(f"{url}.xlsx").data), read_only=True).active
    headers, cells = seeded_sheet_row(sheet)
    # An empty date (not checked in) at the end of the row is no cell at all: the row may be shorter.
    values = {header.value: cell for header, cell in zip(headers, cells, strict=False)}
    assert all(values[label].value == payload and values[label].data_type == "s" for label in TEXT_COLUMNS)
    assert all(cell.data_type != "f" for cell in cells)


@pytest.mark.parametrize(
    "formula", ['=HYPERLINK("https://evil.example","x")', "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1", "=1\n=2"]
)
def test_a_formula_in_any_field_is_neutralised_in_both_exports(app, logged_in, formula):
    seeded = seed(app, ADMIN, text=formula)
    url = f"/organizer/events/{seeded.slug}/registrations"
    [row] = seeded_rows(csv.DictReader(io.StringIO(logged_in.get(f"{url}.csv").text.lstrip("\ufeff"), newline="")))
    sheet = load_workbook(io.BytesIO(logged_in.get(f"{url}.xlsx").data), read_only=True).active
    headers, cells = seeded_sheet_row(sheet)
    # An empty date (not checked in) at the end of the row is no cell at all: the row may be shorter.
    values = {header.value: cell for header, cell in zip(headers, cells, strict=False)}
    for label in TEXT_COLUMNS:
        assert row[label] == "'" + formula, label
        assert values[label].value == "'" + formula and values[label].data_type == "s", label


def test_a_form_sent_back_with_payloads_keeps_them_as_field_values(client, make_event):
    """A refused registration shows what was typed again, in fields: the payload must stay inside its value."""
    event = make_event()
    payload = "</textarea><img src=x onerror=alert(1)>\"'><script>alert(1)</script>"
    fields = dict.fromkeys(TEXT_FIELDS, payload) | {"email": "not an address", "country": "CN"}
    response = client.post(f"/e/{event.slug}/register", data=fields)
    assert response.status_code in (200, 400, 422)
    document = parse(response.text)
    assert active_content(document) == []
    # A browser drops the newline that WTForms writes after <textarea>; lxml keeps it.
    assert document.xpath("//textarea[@name='dietary']")[0].text.lstrip("\r\n") == payload
    assert document.xpath("//input[@name='given_name']")[0].get("value") == payload


@pytest.mark.parametrize("payload", PAYLOADS[:5])
def test_messages_after_an_action_show_names_as_text(app, logged_in, payload):
    """Flashed messages repeat a delegate's name or a token's: they are escaped like the rest of the page."""
    seeded = seed(app, ADMIN, text=payload)
    card = f"/checkin/{seeded.slug}/r/{seeded.registration_id}"
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == payload))
    for url in (f"{card}/check-in", f"{card}/undo", f"/auth/tokens/{token_id}/revoke"):
        response = logged_in.post(url, follow_redirects=True)
        assert response.status_code == 200, url
        document = parse(response.text)
        assert active_content(document) == [], url
        [flash] = document.find_class("flash")
        assert payload in flash.text_content(), url


@pytest.mark.parametrize(
    "target",
    ["javascript:alert(1)", " javascript:alert(1)", "//evil.example/", "/\\evil.example/", "/\t/evil.example/"],
)
def test_the_login_never_redirects_to_script_or_another_site(client, make_organizer, target):
    email, password = make_organizer()
    response = client.post("/auth/login", query_string={"next": target}, data={"email": email, "password": password})
    assert response.status_code == 302
    location = response.headers["Location"]
    # Where a browser goes: it reads a backslash as a slash and drops tabs before resolving the link.
    resolved = urlsplit(urljoin("http://localhost/auth/login", location.replace("\\", "/").replace("\t", "")))
    assert (resolved.scheme, resolved.netloc) == ("http", "localhost"), location


# ---- in a real browser: no alert, confirm or prompt ever opens


@pytest.mark.browser
def test_no_payload_runs_in_a_real_browser(chromium, live_server):
    app, base_url = live_server
    with app.app_context():
        create_organizer(ADMIN, "correct horse battery", "admin")
    seeded = seed(
        app,
        ADMIN,
        event_fields=event_payload(PAYLOADS[0]),
        text=PAYLOADS[1] + PAYLOADS[4] + PAYLOADS[0],  # within the 100 characters of a name
    )
    event_url = f"{base_url}/organizer/events/{seeded.slug}"
    pages = [
        event_url,
        f"{event_url}/registrations",
        f"{event_url}/registrations?q=script",
        f"{event_url}/registrations/{seeded.registration_id}",
        f"{event_url}/registrations/{seeded.registration_id}/edit",
        f"{base_url}/checkin/{seeded.slug}?q=script",
        f"{base_url}/checkin/{seeded.slug}/r/{seeded.registration_id}",
        f"{base_url}/e/{seeded.slug}",
        f"{base_url}/e/{seeded.slug}/delegates",
        f"{base_url}/r/{seeded.token}",
        f"{base_url}/admin/audit",
    ]
    dialogs, violations = [], []
    with watched_page() as page:
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{base_url}/auth/login")
        page.evaluate("alert('control')")  # the listener hears a dialog that does open
        assert dialogs == ["control"]
        dialogs.clear()
        log_in(page, base_url, ADMIN, "correct horse battery")
        for url in pages:
            page.goto(url)
            page.wait_for_load_state("load")
            page.mouse.move(200, 300)  # hovering is how an onmouseover would fire
            page.keyboard.press("Tab")
            page.wait_for_timeout(100)
            assert PAYLOADS[0] in page.locator("main").inner_text(), url  # the payload is there, as text
            violations += [f"{url}: {violation}" for violation in csp_violations(page)]
    assert dialogs == []
    assert violations == []
