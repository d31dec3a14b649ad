"""The event form's time zone select: current canonical zones by region, named in the reader's language with their
UTC offset now; an event stored under an older alias keeps it."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.test_event_settings import event_form, load_event

REGIONS = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic Ocean",
    "Australia",
    "Europe",
    "Indian Ocean",
    "Pacific Ocean",
]


def timezone_select(page: str) -> str:
    return re.search(r'<select[^>]*id="timezone"[^>]*>(.*?)</select>', page, re.S).group(1)


def groups(select: str) -> dict[str, list[tuple[str, str]]]:
    """{optgroup label: [(value, label), …]}; options outside a group under ""."""
    result = {"": re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', re.sub(r"<optgroup.*", "", select))}
    for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S):
        assert label not in result, f"{label} appears twice"
        result[label] = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', body)
    return result


def offset_now(name: str) -> str:
    offset = datetime.now(UTC).astimezone(ZoneInfo(name)).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def test_the_list_has_current_zones_grouped_by_region_with_name_and_offset(logged_in):
    shown = groups(timezone_select(logged_in.get("/organizer/events/new").text))
    assert list(shown) == ["", *REGIONS]
    assert shown[""] == [("", "Choose a time zone"), ("UTC", "UTC (UTC+00:00)")]
    assert ("Asia/Shanghai", "China (Shanghai) Time (UTC+08:00)") in shown["Asia"]
    assert ("Asia/Kolkata", "India Time (UTC+05:30)") in shown["Asia"]
    assert ("Africa/Asmara", "Eritrea Time (UTC+03:00)") in shown["Africa"]
    assert ("Europe/Kyiv", f"Ukraine (Kyiv) Time ({offset_now('Europe/Kyiv')})") in shown["Europe"]
    assert ("America/New_York", f"United States (New York) Time ({offset_now('America/New_York')})") in shown["America"]
    values = [value for options in shown.values() for value, _label in options]
    for alias in ("Africa/Asmera", "Asia/Calcutta", "Europe/Kiev", "US/Eastern", "Canada/Pacific", "GMT", "Etc/UTC"):
        assert alias not in values
    prefixes = {"Atlantic Ocean": "Atlantic", "Indian Ocean": "Indian", "Pacific Ocean": "Pacific"}
    for region in REGIONS:
        assert all(value.startswith(prefixes.get(region, region) + "/") for value, _label in shown[region]), region
        labels = [label.casefold() for _value, label in shown[region]]
        assert labels == sorted(labels), region
    assert len(values) == len(set(values)) > 350


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh", "中国（上海）时间 (UTC+08:00)"), ("fr", "heure : Chine (Shanghai) (UTC+08:00)")],
)
def test_the_zone_names_follow_the_readers_language(app, logged_in, language, expected):
    app.config["LANGUAGES"] = ["en", language]
    page = logged_in.get("/organizer/events/new", headers={"Accept-Language": language}).text
    assert f'<option value="Asia/Shanghai">{expected}</option>' in timezone_select(page)
    page = logged_in.get("/organizer/events/new", headers={"Accept-Language": "en"}).text
    assert '<option value="Asia/Shanghai">China (Shanghai) Time (UTC+08:00)</option>' in page


def test_an_event_stored_under_an_old_alias_keeps_it(app, logged_in, make_event):
    event = make_event(timezone="Africa/Asmera")
    settings = f"/organizer/events/{event.slug}/settings"
    shown = groups(timezone_select(logged_in.get(settings).text))
    assert ("Africa/Asmera", "Eritrea Time – Africa/Asmera (UTC+03:00)") in shown["Africa"]
    assert re.search(r'<option selected value="Africa/Asmera">', logged_in.get(settings).text)
    response = logged_in.post(settings, data=event_form(title="Inaugural Ceremony", timezone="Africa/Asmera"))
    assert response.status_code == 302, response.text
    assert load_event(app, event.slug).timezone == "Africa/Asmera"
    # The new-event form lists only the current name.
    assert "Africa/Asmera" not in logged_in.get("/organizer/events/new").text
