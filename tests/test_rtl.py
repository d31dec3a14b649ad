"""Right to left: the stylesheet mirrors by itself, fields and values keep the direction of their content, charts
and mails turn round in Arabic."""

import re
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail.compose import RIGHT_TO_LEFT_MARK, compose
from eventreg.models import OutboxMessage
from eventreg.organizer import charts
from tests.conftest import register_test_delegate
from tests.site_pages import parse, seed

ROOT = Path(__file__).resolve().parent.parent
PHYSICAL = re.compile(r"(^|-)(left|right)(-|$)")


def declarations(css: str) -> list[tuple[str, str]]:
    """(property, value) of every declaration in a stylesheet, comments left out."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    found = []
    for block in re.findall(r"\{([^{}]*)\}", css):
        for declaration in block.split(";"):
            name, colon, value = declaration.partition(":")
            if colon:
                found.append((name.strip(), value.strip()))
    return found


def test_the_stylesheet_uses_logical_sides_only():
    """margin-inline-start, not margin-left: the same rule lays out English and Arabic pages, mirrored."""
    physical = [
        f"{name}: {value}"
        for name, value in declarations((ROOT / "static" / "css" / "site.css").read_text())
        if PHYSICAL.search(name) or (name in {"float", "clear", "text-align"} and value in {"left", "right"})
    ]
    assert physical == []


def attribute_values(svg: str, tag: str, attribute: str) -> list[float]:
    """The values of one attribute on every element of one kind in an SVG."""
    return [float(value) for value in re.findall(rf'<{tag} [^>]*\b{attribute}="([-0-9.]+)"', svg)]


def test_bar_charts_grow_from_the_start_side(app):
    rows = [("Delegate", 4), ("Speaker", 1)]
    with app.test_request_context(), force_locale("en"):
        english = str(charts.bar_chart("chart-categories", rows, "By category"))
    with app.test_request_context(), force_locale("ar"):
        arabic = str(charts.bar_chart("chart-categories", rows, "By category"))
    widths = attribute_values(english, "rect", "width")
    assert attribute_values(english, "rect", "x") == [0, 0]
    assert attribute_values(arabic, "rect", "x") == [charts.BAR_WIDTH - width for width in widths]
    # Labels start at the right edge; with the SVG's direction, text-anchor start is the right end of the text there.
    assert attribute_values(arabic, "text", "x")[0] == charts.BAR_WIDTH
    assert 'direction="rtl"' in arabic and 'direction="ltr"' in english


def test_time_runs_from_right_to_left_in_arabic(app):
    daily = [
        {"date": "2027-03-01", "registrations": 2, "cumulative": 2},
        {"date": "2027-03-02", "registrations": 5, "cumulative": 7},
    ]
    with app.test_request_context(), force_locale("en"):
        english = str(charts.daily_chart("chart-daily", daily, "Per day"))
        english_line = str(charts.cumulative_chart("chart-cumulative", daily, "Running total"))
    with app.test_request_context(), force_locale("ar"):
        arabic = str(charts.daily_chart("chart-daily", daily, "Per day"))
        arabic_line = str(charts.cumulative_chart("chart-cumulative", daily, "Running total"))
    first, second = attribute_values(english, "rect", "x")
    width = attribute_values(english, "rect", "width")[0]
    assert first < second
    assert attribute_values(arabic, "rect", "x") == [
        pytest.approx(charts.SERIES_WIDTH - first - width, abs=0.1),
        pytest.approx(charts.SERIES_WIDTH - second - width, abs=0.1),
    ]
    # The value axis's numbers stand right of the plot, anchored at their end (their left in a right-to-left text).
    ticks = re.findall(r'<text x="([-0-9.]+)"[^>]*text-anchor="end"', arabic)
    assert ticks and all(float(x) > charts.SERIES_WIDTH - charts.PAD_LEFT for x in ticks)
    # The running total's last day is its leftmost point.
    assert attribute_values(english_line, "circle", "cx")[0] > charts.SERIES_WIDTH / 2
    assert attribute_values(arabic_line, "circle", "cx")[0] < charts.SERIES_WIDTH / 2


# ---- the direction of fields and of the values shown


def directions(page: str, xpath: str) -> list[str | None]:
    """The dir attribute of each element the XPath finds in the page (None where it has none)."""
    return [element.get("dir") for element in parse(page).xpath(xpath)]


def test_typed_addresses_and_codes_read_left_to_right_and_names_follow_their_own_script(
    app, client, logged_in, make_event
):
    event = make_event()
    form = client.get(f"/e/{event.slug}/register").text
    assert directions(form, "//input[@id='email']") == ["ltr"]
    for name in ("given_name", "family_name", "native_name", "institution", "position"):
        assert directions(form, f"//input[@id='{name}']") == ["auto"], name
    assert directions(form, "//textarea") == ["auto", "auto"]  # dietary and accessibility needs
    login_form = app.test_client().get("/auth/login").text
    assert directions(login_form, "//input[@id='email']") == ["ltr"]
    desk = logged_in.get(f"/checkin/{event.slug}").text
    assert directions(desk, "//input[@id='code']") == ["ltr"]  # groups of Latin letters and digits
    assert directions(desk, "//input[@id='q']") == ["auto"]  # a name in any script


def test_shown_addresses_codes_and_links_read_left_to_right(app, client, logged_in, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event, email="1984.fan@example.org", dietary="Halal")
    private = client.get(f"/r/{token}").text
    document = parse(private)
    [email] = document.xpath("//dd/span[text()='1984.fan@example.org']")
    assert email.get("dir") == "ltr"  # else the digits before the dot jump to the end in an Arabic page
    assert {code.get("dir") for code in document.xpath("//*[contains(@class, 'checkin-code')]")} == {"ltr"}
    [link] = document.xpath(f"//a[contains(@href, '/r/{token}') and contains(text(), '/r/')]")
    assert link.get("dir") == "ltr"
    assert document.xpath("//dd/bdi[text()='Halal']")  # free text: in its own direction
    detail = parse(logged_in.get(f"/organizer/events/{event.slug}/registrations/{registration_id}").text)
    assert detail.xpath("//a[@href='mailto:1984.fan@example.org']")[0].get("dir") == "ltr"
    assert detail.xpath("//*[@id='checkin-code']")[0].get("dir") == "ltr"
    assert detail.xpath("//*[@id='dietary']/bdi")
    listing = parse(logged_in.get(f"/organizer/events/{event.slug}/registrations").text)
    assert listing.xpath("//span[text()='1984.fan@example.org']")[0].get("dir") == "ltr"


def test_the_arrow_from_before_to_after_points_the_way_the_page_reads(app, logged_in):
    seeded = seed(app, "admin@example.org", text="Haddad")  # an organizer's edit: audit entries with changes
    for language, arrow, backwards in (("en", "→", "←"), ("ar", "←", "→")):
        headers = {"Accept-Language": language}
        audit = parse(logged_in.get("/admin/audit", headers=headers).text)
        changes = [dd.text_content() for dd in audit.xpath("//dl[@class='audit-changes']/dd")]
        assert changes and all(arrow in change and backwards not in change for change in changes), changes
        detail = f"/organizer/events/{seeded.slug}/registrations/{seeded.registration_id}"
        history = [li.text_content() for li in parse(logged_in.get(detail, headers=headers).text).xpath("//ul/li")]
        history = [change for change in history if ":" in change and "Haddad" in change]
        assert history and all(arrow in change and backwards not in change for change in history), history


# ---- mails in Arabic


def composed_confirmation(app, event, language: str, **fields):
    """The confirmation mail of a new registration made in `language`, as the worker would send it now."""
    registration_id, _token = register_test_delegate(app, event, language=language, **fields)
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.registration_id == registration_id)
        return compose(db.session.scalars(query).one())


def test_an_arabic_mail_is_right_to_left_in_both_parts(app, make_event):
    event = make_event(confirmation_note="Shuttle buses leave from the Friendship Hotel at 8:00.")
    mail = composed_confirmation(app, event, "ar", given_name="Layla", family_name="Haddad", native_name="")
    html = parse(mail.html)
    assert (html.get("lang"), html.get("dir")) == ("ar", "rtl")
    assert html.xpath("//body")[0].get("dir") == "rtl"
    [frame] = html.xpath("//body/div")
    assert frame.get("dir") == "rtl" and "text-align: right" in frame.get("style")
    assert {table.get("dir") for table in html.xpath("//table")} == {"rtl"}
    assert {heading.get("align") for heading in html.xpath("//th")} == {"right"}
    assert html.xpath("//strong[@dir='ltr']")  # the check-in code
    assert [link.get("dir") for link in html.xpath("//a[contains(@href, '/r/')]")] == ["ltr"]
    assert html.xpath("//p[@class='confirmation-note']")[0].get("dir") == "auto"
    # The text part: every line that holds something begins with a right-to-left mark, even a Latin one.
    lines = [line for line in mail.body.split("\n") if line.strip()]
    assert lines and all(line.startswith(RIGHT_TO_LEFT_MARK) for line in lines)
    assert f"{RIGHT_TO_LEFT_MARK}Shuttle buses leave from the Friendship Hotel at 8:00." in lines
    assert any(line.startswith(f"{RIGHT_TO_LEFT_MARK}http") and "/r/" in line for line in lines)


def test_an_english_mail_stays_left_to_right_without_marks(app, make_event):
    mail = composed_confirmation(app, make_event(), "en")
    html = parse(mail.html)
    assert (html.get("lang"), html.get("dir")) == ("en", "ltr")
    assert {heading.get("align") for heading in html.xpath("//th")} == {"left"}
    assert RIGHT_TO_LEFT_MARK not in mail.body
