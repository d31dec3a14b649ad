"""Organizers create and edit events in the UI: stable slugs, errors beside fields, assignment, audit, mail note."""

import email
import email.policy
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from eventreg.events.rules import EventError
from eventreg.events.services import update_event
from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import AuditEntry, Event, Organizer

PASSWORD = "correct horse battery"


def event_form(**changes) -> dict:
    """What the new-event form sends for a valid event, with `changes` (None leaves a field out)."""
    data = {
        "title": "Founding Assembly",
        "description": "Opening of the alliance.\nSpeeches and signing.",
        "venue": "Palais des Congrès",
        "city": "Paris",
        "timezone": "Europe/Paris",
        "starts_at": "2027-05-10T09:30",
        "ends_at": "2027-05-10T17:00",
        "capacity": "700",
        "registration_opens_at": "",
        "registration_closes_at": "2027-05-01T00:00",
        "contact_email": "chair@example.org",
        "confirmation_note": "",
        "show_seats_left": "y",
        "public_min_country_count": "1",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def log_in(client, email, password=PASSWORD):
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def organizer_client(app, make_organizer):
    """A client logged in as an organizer (role organizer, no events yet)."""
    make_organizer("org@example.org", PASSWORD, role="organizer")
    return log_in(app.test_client(), "org@example.org")


def load_event(app, slug) -> Event:
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        assert event is not None, slug
        event.organizer_emails = [member.email for member in event.organizers]
        db.session.expunge(event)
        return event


def audit_entries(app, action=None) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        entries = db.session.scalars(query).all()
        db.session.expunge_all()
        return entries


def test_an_organizer_creates_an_event_and_runs_it(app, organizer_client):
    page = organizer_client.get("/organizer/")
    assert 'href="/organizer/events/new"' in page.text
    form_page = organizer_client.get("/organizer/events/new")
    assert form_page.status_code == 200
    assert '<option value="Asia/Shanghai">China (Shanghai) Time (UTC+08:00)</option>' in form_page.text
    assert 'type="datetime-local"' in form_page.text

    response = organizer_client.post("/organizer/events/new", data=event_form(requires_approval="y"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/organizer/events/founding-assembly"
    event = load_event(app, "founding-assembly")
    assert event.starts_at == datetime(2027, 5, 10, 7, 30, tzinfo=UTC)  # 09:30 in Paris, summer time
    assert event.registration_closes_at == datetime(2027, 4, 30, 22, 0, tzinfo=UTC)
    assert event.registration_opens_at is None
    assert (event.capacity, event.requires_approval, event.contact_email) == (700, True, "chair@example.org")
    assert event.description == "Opening of the alliance.\nSpeeches and signing."
    assert event.organizer_emails == ["org@example.org"]
    assert organizer_client.get("/organizer/events/founding-assembly").status_code == 200
    assert "Founding Assembly" in organizer_client.get("/organizer/").text

    [entry] = audit_entries(app, "event.created")
    assert entry.actor == "org@example.org" and entry.event_id == event.id
    assert entry.after["slug"] == "founding-assembly"
    assert entry.after["title"] == "Founding Assembly"
    assert entry.after["starts_at"] == "2027-05-10T07:30:00+00:00"
    assert entry.after["organizers"] == ["org@example.org"]


def test_an_admin_creating_an_event_is_not_assigned_but_runs_it(app, logged_in):
    assert logged_in.post("/organizer/events/new", data=event_form()).status_code == 302
    assert load_event(app, "founding-assembly").organizer_emails == []
    assert logged_in.get("/organizer/events/founding-assembly/settings").status_code == 200


def test_editing_keeps_the_slug_and_records_only_what_changed(app, organizer_client):
    organizer_client.post("/organizer/events/new", data=event_form())
    settings = organizer_client.get("/organizer/events/founding-assembly/settings")
    assert settings.status_code == 200
    assert 'value="2027-05-10T09:30"' in settings.text  # local time in the event's timezone
    assert '<option selected value="Europe/Paris">' in settings.text
    assert 'href="/organizer/events/founding-assembly/settings" aria-current="page"' in settings.text

    response = organizer_client.post(
        "/organizer/events/founding-assembly/settings",
        data=event_form(title="Founding Assembly of the Alliance", capacity="800"),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/organizer/events/founding-assembly/settings"
    assert "have been saved" in organizer_client.get(response.headers["Location"]).text
    event = load_event(app, "founding-assembly")
    assert (event.title, event.capacity) == ("Founding Assembly of the Alliance", 800)

    [entry] = audit_entries(app, "event.updated")
    assert entry.actor == "org@example.org"
    assert entry.before == {"title": "Founding Assembly", "capacity": 700}
    assert entry.after == {"title": "Founding Assembly of the Alliance", "capacity": 800}

    unchanged = organizer_client.post(
        "/organizer/events/founding-assembly/settings",
        data=event_form(title="Founding Assembly of the Alliance", capacity="800"),
        follow_redirects=True,
    )
    assert "Nothing was changed." in unchanged.text
    assert len(audit_entries(app, "event.updated")) == 1


def test_another_timezone_reads_the_same_wall_clock_times_there(app, logged_in):
    logged_in.post("/organizer/events/new", data=event_form())
    logged_in.post("/organizer/events/founding-assembly/settings", data=event_form(timezone="Asia/Shanghai"))
    event = load_event(app, "founding-assembly")
    assert event.timezone == "Asia/Shanghai"
    assert event.starts_at == datetime(2027, 5, 10, 1, 30, tzinfo=UTC)  # 09:30 in Beijing


def test_unchecking_approval_and_emptying_optional_fields(app, logged_in):
    logged_in.post("/organizer/events/new", data=event_form(requires_approval="y"))
    response = logged_in.post(
        "/organizer/events/founding-assembly/settings",
        data=event_form(capacity="", registration_closes_at="", description="", contact_email=""),
    )
    assert response.status_code == 302
    event = load_event(app, "founding-assembly")
    assert (event.requires_approval, event.capacity, event.registration_closes_at) == (False, None, None)
    assert event.contact_email == "office@example.org"  # the sender's address, as with the command


def test_a_capacity_below_the_seats_taken_is_saved_with_a_warning(app, logged_in, make_registration):
    logged_in.post("/organizer/events/new", data=event_form())
    event = load_event(app, "founding-assembly")
    make_registration(event, email="first@example.org", accompanying=2)
    response = logged_in.post(
        "/organizer/events/founding-assembly/settings", data=event_form(capacity="2"), follow_redirects=True
    )
    assert "The capacity (2) is below the 3 seats already taken." in response.text
    assert "new registrations join the waiting list until enough seats are free" in response.text
    assert load_event(app, "founding-assembly").capacity == 2
    quiet = logged_in.post(
        "/organizer/events/founding-assembly/settings", data=event_form(capacity="3"), follow_redirects=True
    )
    assert "is below the" not in quiet.text


def test_approval_cannot_be_switched_off_while_registrations_wait_for_it(app, logged_in, make_registration):
    logged_in.post("/organizer/events/new", data=event_form(requires_approval="y"))
    event = load_event(app, "founding-assembly")
    make_registration(event, email="first@example.org")
    make_registration(event, email="second@example.org")
    response = logged_in.post("/organizer/events/founding-assembly/settings", data=event_form())
    assert response.status_code == 200
    assert "2 registrations are still pending approval. Approve or reject them" in response.text
    assert load_event(app, "founding-assembly").requires_approval is True


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Please fill in this field."),
        ({"title": "..."}, "title", "The title is empty or has no letter or digit."),
        ({"venue": "Hall\u202e"}, "venue", "invisible text-direction"),
        ({"title": "T" * 201}, "title", "At most 200 characters"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Not a valid choice"),
        ({"timezone": ""}, "timezone", "Please choose the event"),
        ({"starts_at": ""}, "starts_at", "Please give a date and a time."),
        ({"starts_at": "tomorrow"}, "starts_at", "Not a valid datetime value."),
        ({"ends_at": "2027-05-10T09:00"}, "ends_at", "The event must end after it starts."),
        ({"starts_at": "1999-05-10T09:30"}, "starts_at", "10 May 1999 is not a plausible date for an event."),
        (
            {"timezone": "America/New_York", "starts_at": "2027-03-14T02:30", "ends_at": "2027-03-14T05:00"},
            "starts_at",
            "14 Mar 2027, 02:30 does not exist in America/New_York: the clocks skip it.",
        ),
        (
            {"timezone": "America/New_York", "starts_at": "2027-11-07T01:30", "ends_at": "2027-11-07T05:00"},
            "starts_at",
            "happens twice in America/New_York",
        ),
        ({"registration_opens_at": "2027-06-01T00:00"}, "registration_opens_at", "must open before the event starts"),
        (
            {"registration_closes_at": "2027-05-11T00:00"},
            "registration_closes_at",
            "must close by the end of the event",
        ),
        (
            {"registration_opens_at": "2027-05-02T00:00"},
            "registration_closes_at",
            "Registration must close after it opens.",
        ),
        ({"capacity": "0"}, "capacity", "Between 1 and 1,000,000, please."),
        ({"capacity": "many"}, "capacity", "Not a valid integer value."),
        (
            {"contact_email": "not an address"},
            "contact_email",
            "An email address needs an @ sign, as in name@example.org.",
        ),
        ({"description": "a\x00b"}, "description", "Please remove the control characters"),
        ({"confirmation_note": "x" * 5001}, "confirmation_note", "At most 5,000 characters, please."),
        ({"public_min_country_count": "0"}, "public_min_country_count", "Please give a number from 1 to 1,000."),
        ({"public_min_country_count": ""}, "public_min_country_count", "Please give a number from 1 to 1,000."),
        ({"public_min_country_count": "1001"}, "public_min_country_count", "Please give a number from 1 to 1,000."),
    ],
)
def test_refused_input_is_explained_beside_its_field(app, logged_in, changes, field, message):
    response = logged_in.post("/organizer/events/new", data=event_form(**changes))
    assert response.status_code == 200
    error = response.text.split(f'id="{field}-error">', 1)
    assert len(error) == 2, f"no error shown beside {field}"
    assert message in error[1].split("</p>", 1)[0]
    assert f'href="#{field}"' in response.text  # the summary at the top links to the field
    with app.app_context():
        assert db.session.scalar(select(Event)) is None


def test_an_edit_that_breaks_a_rule_changes_nothing(app, logged_in):
    logged_in.post("/organizer/events/new", data=event_form())
    response = logged_in.post(
        "/organizer/events/founding-assembly/settings", data=event_form(title="New", ends_at="2027-05-09T10:00")
    )
    assert response.status_code == 200
    assert "The event must end after it starts." in response.text
    assert load_event(app, "founding-assembly").title == "Founding Assembly"
    assert audit_entries(app, "event.updated") == []


def test_organizers_edit_only_their_own_events(app, make_event, organizer_client):
    other = make_event(title="Someone Else's Ceremony")
    assert organizer_client.get(f"/organizer/events/{other.slug}/settings").status_code == 403
    response = organizer_client.post(f"/organizer/events/{other.slug}/settings", data=event_form(title="Mine now"))
    assert response.status_code == 403
    assert load_event(app, other.slug).title == "Someone Else's Ceremony"
    assert organizer_client.get("/organizer/events/no-such-event/settings").status_code == 404


def test_checkin_staff_cannot_create_events(app, make_organizer):
    make_organizer("desk@example.org", PASSWORD, role="checkin")
    client = log_in(app.test_client(), "desk@example.org")
    assert client.get("/organizer/events/new").status_code == 403
    assert client.post("/organizer/events/new", data=event_form()).status_code == 403


def test_update_event_shares_the_rules_and_never_touches_the_slug(app, make_event):
    event = make_event(title="Inaugural Ceremony", capacity=100)
    with app.app_context():
        assert update_event(event, title="Renamed Ceremony", capacity=120).changed == {
            "title": "Renamed Ceremony",
            "capacity": 120,
        }
        with pytest.raises(EventError, match="must end after it starts") as caught:
            update_event(event, ends_at=event.starts_at)
        assert caught.value.field == "ends_at"
        with pytest.raises(TypeError, match="slug"):
            update_event(event, slug="elsewhere")
        stored = db.session.get(Event, event.id)
        assert (stored.slug, stored.title, stored.capacity) == ("inaugural-ceremony", "Renamed Ceremony", 120)
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.updated")).all()
        assert entry.organizer_id is None and entry.actor == ""  # no request: the system acted


def test_the_confirmation_note_is_in_the_mail_escaped_with_its_line_breaks(app, tmp_path, logged_in, make_registration):
    note = "Bring your passport <b>and</b> this mail.\nDress code: formal & dark."
    logged_in.post("/organizer/events/new", data=event_form(confirmation_note=note, capacity=""))
    event = load_event(app, "founding-assembly")
    assert event.confirmation_note == note
    make_registration(event)
    with app.app_context():
        assert deliver_due().sent == 1
    [path] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"\n\n{note}\n" in text
    html = message.get_body(("html",)).get_content()
    assert "Bring your passport &lt;b&gt;and&lt;/b&gt; this mail.<br>Dress code: formal &amp; dark." in html
    assert "<b>and</b>" not in html


def test_without_a_note_the_mail_has_no_empty_paragraph(app, tmp_path, make_event, make_registration):
    make_registration(make_event())
    with app.app_context():
        deliver_due()
    [path] = (tmp_path / "mail").glob("*.eml")
    html = email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_body(("html",)).get_content()
    assert "confirmation-note" not in html


def test_the_organizers_of_an_event_are_listed_on_its_settings_page(app, logged_in, make_organizer):
    make_organizer("org@example.org", PASSWORD, role="organizer")
    org_client = log_in(app.test_client(), "org@example.org")
    org_client.post("/organizer/events/new", data=event_form())
    page = logged_in.get("/organizer/events/founding-assembly/settings")
    with app.app_context():
        organizer_id = db.session.scalar(select(Organizer.id).where(Organizer.email == "org@example.org"))
    assert f'<a href="/admin/accounts/{organizer_id}">org@example.org</a>' in page.text


@pytest.mark.browser
def test_an_event_is_created_and_edited_in_a_real_browser_without_accessibility_findings(live_server, browser_page):
    from eventreg.auth.services import create_organizer
    from tests.test_accessibility import violations

    app, base_url = live_server  # CSRF on, as in production
    page = browser_page
    with app.app_context():
        create_organizer("org@example.org", PASSWORD, role="organizer")
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email", exact=True).fill("org@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("link", name="New event").click()
    found = {"new event": violations(page)}

    page.get_by_label("Title", exact=True).fill("Founding Assembly")
    page.get_by_label("Venue", exact=True).fill("Palais des Congrès")
    page.get_by_label("City", exact=True).fill("Paris")
    page.get_by_label("Time zone", exact=True).select_option("Europe/Paris")
    page.get_by_label("Starts", exact=True).fill("2027-05-10T09:30")
    page.get_by_label("Ends", exact=True).fill("2027-05-10T08:00")
    page.get_by_role("button", name="Create event").click()
    assert page.locator("#ends_at-error").inner_text() == "The event must end after it starts."
    found["errors"] = violations(page)

    page.get_by_label("Ends", exact=True).fill("2027-05-10T17:00")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(f"{base_url}/organizer/events/founding-assembly")
    page.get_by_role("link", name="Settings", exact=True).click()
    assert page.get_by_label("Starts", exact=True).input_value() == "2027-05-10T09:30"
    found["settings"] = violations(page)
    page.get_by_label("Title", exact=True).fill("Founding Assembly of the Alliance")
    page.get_by_role("button", name="Save settings").click()
    assert "have been saved" in page.locator(".flash").inner_text()
    assert page.url == f"{base_url}/organizer/events/founding-assembly/settings"

    page.get_by_role("link", name="My account").click()
    found["own account"] = violations(page)
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_raising_the_capacity_tells_the_organizer_who_moved_up(app, logged_in, make_registration):
    logged_in.post("/organizer/events/new", data=event_form(capacity="1"))
    event = load_event(app, "founding-assembly")
    for n in range(4):
        make_registration(event, email=f"d{n}@example.org")
    response = logged_in.post(
        "/organizer/events/founding-assembly/settings", data=event_form(capacity="3"), follow_redirects=True
    )
    assert "2 delegates moved up from the waiting list into the freed seats and were emailed." in response.text
    again = logged_in.post(
        "/organizer/events/founding-assembly/settings", data=event_form(capacity="3"), follow_redirects=True
    )
    assert "moved up" not in again.text
