"""Right to left: the stylesheet mirrors by itself, fields and values keep the direction of their content, charts
and mails turn round in Arabic."""

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from eventreg.organizer import charts
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
