"""What the public sees of an event: the registration window, and the seats left when the organizers show them."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from eventreg.events.rules import EventError
from eventreg.events.services import update_event
from eventreg.models import utcnow
from tests.test_event_settings import audit_entries, event_form, load_event


def facts(page: str) -> dict[str, str]:
    """The event's facts list as {term: description}, tags stripped."""
    block = re.search(r'<dl class="facts">(.*?)</dl>', page, re.S).group(1)
    pairs = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", block, re.S)
    return {term: re.sub(r"<[^>]+>", "", value).strip() for term, value in pairs}


def test_the_event_page_says_when_registration_closes(client, make_event):
    starts = datetime(2199, 3, 1, 2, 0, tzinfo=UTC)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=3))
    shown = facts(client.get(f"/e/{event.slug}").text)
    assert shown["Registration closes"] == "Friday, 1 March 2199, 10:00 (UTC+08:00)"  # the start, in Beijing
    assert "Registration opens" not in shown  # it is open already

    closes = datetime(2199, 2, 20, 16, 0, tzinfo=UTC)
    set_up = make_event(
        title="Later Hall", starts_at=starts, ends_at=starts + timedelta(hours=3), registration_closes_at=closes
    )
    for path in (f"/e/{set_up.slug}", f"/e/{set_up.slug}/register"):
        assert facts(client.get(path).text)["Registration closes"] == "Thursday, 21 February 2199, 00:00 (UTC+08:00)"


def test_before_it_opens_the_event_page_says_when_registration_opens_and_closes(client, make_event):
    opens = utcnow() + timedelta(days=3)
    event = make_event(registration_opens_at=opens, timezone="Europe/Paris")
    shown = facts(client.get(f"/e/{event.slug}").text)
    assert shown["Registration opens"].endswith(")") and "(UTC+0" in shown["Registration opens"]
    assert shown["Registration opens"].startswith(f"{opens.astimezone(event.zone):%A, %-d %B %Y, %H:%M}")
    assert "Registration closes" in shown


def test_a_closed_event_names_no_window(client, make_event):
    past = utcnow() - timedelta(days=2)
    event = make_event(starts_at=past, ends_at=past + timedelta(hours=3))
    page = client.get(f"/e/{event.slug}").text
    assert "Registration is closed." in page
    assert "Registration closes" not in facts(page) and "Registration opens" not in facts(page)


@pytest.mark.parametrize("shown", [True, False])
def test_the_seats_left_are_public_only_when_the_event_shows_them(client, make_event, make_registration, shown):
    event = make_event(capacity=100, show_seats_left=shown)
    make_registration(event, accompanying=2)
    for path in (f"/e/{event.slug}", f"/e/{event.slug}/register"):
        page = client.get(path).text
        assert ("Seats left" in facts(page)) is shown
        assert ("97 / 100" in page) is shown
        assert ("97" in page) is shown  # no other form of the number either
    counter = client.get(f"/e/{event.slug}/delegates.json").text
    assert "97" not in counter and "100" not in counter and "seats" not in counter


def test_a_full_event_with_hidden_seats_still_says_it_is_full(client, make_event, make_registration):
    event = make_event(capacity=1, show_seats_left=False)
    make_registration(event)
    assert "This event is full at the moment" in client.get(f"/e/{event.slug}").text
    page = client.get(f"/e/{event.slug}/register").text
    assert "you join the waiting list" in page
    assert "Seats left" not in page


def test_organizers_hide_and_show_the_seats_left_in_the_settings(app, logged_in):
    form_page = logged_in.get("/organizer/events/new").text
    box = re.search(r'<input[^>]*id="show_seats_left"[^>]*>', form_page).group(0)
    assert "checked" in box  # shown unless the organizer says otherwise
    assert "Show the seats left to the public" in form_page
    data = event_form()
    del data["show_seats_left"]  # an unticked box is not sent
    assert logged_in.post("/organizer/events/new", data=data).status_code == 302
    assert load_event(app, "founding-assembly").show_seats_left is False
    assert "Seats left" not in logged_in.get("/e/founding-assembly").text

    settings = logged_in.get("/organizer/events/founding-assembly/settings").text
    assert "checked" not in re.search(r'<input[^>]*id="show_seats_left"[^>]*>', settings).group(0)
    response = logged_in.post("/organizer/events/founding-assembly/settings", data=event_form())
    assert response.status_code == 302
    assert "700 / 700" in logged_in.get("/e/founding-assembly").text
    [entry] = audit_entries(app, "event.updated")
    assert (entry.before, entry.after) == ({"show_seats_left": False}, {"show_seats_left": True})


def test_the_cli_creates_an_event_with_hidden_seats(app, runner):
    result = runner.invoke(
        args=[
            "create-event",
            "--title",
            "Quiet Hall",
            "--starts",
            "2199-03-01T10:00",
            "--timezone",
            "Asia/Shanghai",
            "--venue",
            "Great Hall",
            "--city",
            "Beijing",
            "--capacity",
            "50",
            "--hide-seats-left",
        ]
    )
    assert result.exit_code == 0, result.output
    assert load_event(app, "quiet-hall").show_seats_left is False
    shown = runner.invoke(
        args=[
            *("create-event", "--title", "Open Hall", "--starts", "2199-03-01T10:00", "--timezone", "UTC"),
            *("--venue", "Hall", "--city", "Geneva", "--capacity", "50"),
        ]
    )
    assert shown.exit_code == 0, shown.output
    assert load_event(app, "open-hall").show_seats_left is True


def test_the_audit_log_names_the_public_settings(app, logged_in):
    logged_in.post("/organizer/events/new", data=event_form())
    logged_in.post(
        "/organizer/events/founding-assembly/settings",
        data=event_form(show_seats_left=None, public_min_country_count="3"),
    )
    page = logged_in.get("/admin/audit").text
    assert "Seats left shown to the public" in page
    assert "Fewest participants to name a country or region on the public counter" in page
    [entry] = audit_entries(app, "event.updated")
    assert entry.after == {"show_seats_left": False, "public_min_country_count": 3}


def test_the_counter_threshold_has_a_hint_and_a_range(logged_in):
    page = logged_in.get("/organizer/events/new").text
    tag = re.search(r'<input[^>]*id="public_min_country_count"[^>]*>', page).group(0)
    assert 'type="number"' in tag and 'min="1"' in tag and 'max="1000"' in tag and 'value="1"' in tag
    hint = re.search(r'id="public_min_country_count-hint">([^<]*)<', page).group(1)
    assert "names a country or region only when at least this many confirmed participants come" in hint


def test_the_service_refuses_a_threshold_below_one(app, make_event):
    event = make_event()
    with app.app_context(), pytest.raises(EventError) as refused:
        update_event(event, public_min_country_count=0)
    assert refused.value.field == "public_min_country_count"
