"""Flags are vendored SVG pictures (flag-icons), never emoji; none for a region the host shows as part of another
country, none at all when the host turns them off."""

import re

import pytest

from eventreg.geo.flags import FLAG_FOLDER, FLAG_ICONS_VERSION
from tests.conftest import create_test_event, drop_tables, make_app, register_test_delegate

CN_FLAG = f"/flags/{FLAG_ICONS_VERSION}/cn.svg"


@pytest.fixture
def host_app(tmp_path, request):
    app = make_app(tmp_path, **getattr(request, "param", {}))
    yield app
    drop_tables(app)


def host(**settings):
    return pytest.mark.parametrize("host_app", [settings], indirect=True, ids=["host"])


def counted(app, *codes):
    """An event with one confirmed delegate from each code; its public counter page and JSON."""
    event = create_test_event(app)
    for number, code in enumerate(codes):
        register_test_delegate(app, event, email=f"d{number}@example.org", country=code)
    client = app.test_client()
    return client.get(f"/e/{event.slug}/delegates").text, client.get(f"/e/{event.slug}/delegates.json").json


def test_a_country_shows_its_svg_flag_served_for_a_year(host_app):
    page, counter = counted(host_app, "CN")
    assert f'<li data-country="CN"><img class="flag" src="{CN_FLAG}" alt="" width="20" height="15"> ' in page
    assert counter["by_country"][0]["flag"] == CN_FLAG
    with host_app.test_client().get(CN_FLAG) as picture:
        assert picture.status_code == 200 and picture.mimetype == "image/svg+xml"
        assert picture.data.startswith(b"<svg") and picture.data == (FLAG_FOLDER / "cn.svg").read_bytes()
        assert "max-age=31536000" in picture.headers["Cache-Control"]
    assert "\U0001f1e8\U0001f1f3" not in page  # no emoji flag


def test_every_offered_code_has_a_picture(app):
    from eventreg.geo.countries import country_names

    with app.test_request_context():
        missing = [code for code in country_names() if not (FLAG_FOLDER / f"{code.lower()}.svg").exists()]
    assert missing == []
    assert (FLAG_FOLDER.parent / "LICENSE").read_text().startswith("The MIT License")


@host(COUNTRY_NAMES={"TW": {"en": "Taiwan, China", "zh": "中国台湾", "part_of": "CN"}})
def test_a_region_named_as_part_of_a_country_has_no_flag_of_its_own(host_app):
    page, counter = counted(host_app, "CN", "TW")
    assert re.search(r'<li data-country="TW">\s*<span class="name">Taiwan, China</span>', page)
    assert "tw.svg" not in page
    assert {row["code"]: row["flag"] for row in counter["by_country"]} == {"CN": CN_FLAG, "TW": None}


@host(SHOW_FLAGS=False)
def test_flags_can_be_turned_off(host_app):
    page, counter = counted(host_app, "CN")
    assert re.search(r'<li data-country="CN">\s*<span class="name">China</span>', page)
    assert "<img" not in page
    assert counter["by_country"][0]["flag"] is None
