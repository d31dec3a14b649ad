"""The public counter: confirmed participants per country, as a page and as JSON, refreshed in place."""

import re
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import expect

from eventreg.extensions import db
from eventreg.geo.flags import FLAG_ICONS_VERSION
from eventreg.models import Registration
from tests.conftest import create_test_event, register_test_delegate

AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()

PEOPLE = [
    # (email, given name, family name, institution, country, status)
    ("li.wei@example.org", "Wei", "Li", "Peking University", "CN", "confirmed"),
    ("zhang.min@example.org", "Min", "Zhang", "Fudan University", "CN", "confirmed"),
    ("marie.curie@example.org", "Marie", "Dupont", "Sorbonne", "FR", "confirmed"),
    ("pending.person@example.org", "Pendleton", "Waites", "Kyoto University", "JP", "pending"),
    ("gone.person@example.org", "Cancelia", "Gonez", "Universidad de Chile", "CL", "cancelled"),
]


@pytest.fixture
def counted_event(app, make_event, make_registration):
    """Three confirmed delegates from China and France, one pending (Japan), one cancelled (Chile)."""
    event = make_event(title="Founding Ceremony")
    for email, given, family, institution, country, status in PEOPLE:
        registration_id, _ = make_registration(
            event, email=email, given_name=given, family_name=family, institution=institution, country=country
        )
        with app.app_context():
            db.session.get(Registration, registration_id).status = status
            db.session.commit()
    return event


def assert_no_personal_data(text: str) -> None:
    """None of the PEOPLE's names, addresses or institutions is in the text."""
    for email, given, family, institution, _country, _status in PEOPLE:
        for value in (email, given, family, institution):
            assert value not in text


def test_counter_page_counts_confirmed_delegates_per_country(client, counted_event):
    response = client.get(f"/e/{counted_event.slug}/delegates")  # nobody logged in
    assert response.status_code == 200
    page = response.text
    assert re.search(
        r'id="counter-headline" aria-live="polite">3 confirmed participants from 2 countries and regions</p>', page
    )
    rows = re.findall(r'data-country="(\w\w)">.*?class="name">([^<]+)</span> <span class="count">(\d+)<', page)
    assert rows == [("CN", "China", "2"), ("FR", "France", "1")]
    assert f'<li data-country="CN"><img class="flag" src="/flags/{FLAG_ICONS_VERSION}/cn.svg" alt=""' in page
    assert "Confirmed participants of every category: delegates, speakers, observers, press and guests" in page
    assert 'data-country="other"' not in page and "counted together" not in page  # every country is named
    assert 'src="/static/js/counter.js?v=' in page
    assert_no_personal_data(page)


def test_counter_json_has_the_same_numbers_and_no_people(client, counted_event):
    response = client.get(f"/e/{counted_event.slug}/delegates.json")
    assert response.status_code == 200 and response.is_json
    assert response.json == {
        "event": {"slug": counted_event.slug, "title": "Founding Ceremony"},
        "participants": 3,
        "countries": 2,
        "min_country_count": 1,
        "headline": "3 confirmed participants from 2 countries and regions",
        "by_country": [
            {
                "code": "CN",
                "name": "China",
                "flag": f"/flags/{FLAG_ICONS_VERSION}/cn.svg",
                "count": 2,
                "count_text": "2",
            },
            {
                "code": "FR",
                "name": "France",
                "flag": f"/flags/{FLAG_ICONS_VERSION}/fr.svg",
                "count": 1,
                "count_text": "1",
            },
        ],
        "other_countries": {
            "countries": 0,
            "participants": 0,
            "participants_text": "0",
            "name": "0 other countries and regions",
        },
    }
    assert_no_personal_data(response.text)
    again = client.get(f"/e/{counted_event.slug}/delegates.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_counter_speaks_in_the_singular(client, make_event, make_registration):
    event = make_event()
    make_registration(event)
    assert client.get(f"/e/{event.slug}/delegates.json").json["headline"] == (
        "1 confirmed participant from 1 country or region"
    )
    empty = make_event(title="Empty Hall")
    page = client.get(f"/e/{empty.slug}/delegates").text
    assert "0 confirmed participants from 0 countries and regions" in page
    assert re.search(r'<p id="counter-empty">No confirmed participants yet.</p>', page)


@pytest.mark.parametrize("path", ["/e/no-such-event/delegates", "/e/no-such-event/delegates.json"])
def test_unknown_event_is_404(client, path):
    assert client.get(path).status_code == 404


def test_event_page_links_to_the_counter(client, make_event):
    event = make_event()
    assert f'href="/e/{event.slug}/delegates"' in client.get(f"/e/{event.slug}").text


@pytest.mark.browser
def test_counter_refreshes_in_place(live_server, browser_page):
    app, base_url = live_server
    app.config["COUNTER_REFRESH_SECONDS"] = 0.5
    event = create_test_event(app, title="Founding Ceremony")
    register_test_delegate(app, event, email="first@example.org", country="CN")
    page = browser_page
    page.goto(f"{base_url}/e/{event.slug}/delegates")
    headline = page.locator("#counter-headline")
    assert headline.text_content() == "1 confirmed participant from 1 country or region"
    page.evaluate("window.notReloaded = true")

    register_test_delegate(app, event, email="second@example.org", country="KE", given_name="Amani")
    expect(headline).to_have_text("2 confirmed participants from 2 countries and regions")
    assert page.evaluate("window.notReloaded") is True  # updated in place, not by reloading
    assert words(page.locator("#counter-countries li")) == ["China 1", "Kenya 1"]
    flags = page.locator("#counter-countries li img.flag")
    assert [flags.nth(n).get_attribute("src") for n in range(2)] == [
        f"/flags/{FLAG_ICONS_VERSION}/{code}.svg" for code in ("cn", "ke")
    ]
    assert page.evaluate("[...document.querySelectorAll('#counter-countries img')].every(i => i.naturalWidth > 0)")
    assert "Amani" not in page.content()

    page.evaluate(AXE_SCRIPT)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert [violation["id"] for violation in result["violations"]] == []


def words(items) -> list[str]:
    """The text of each item, its white space collapsed (a flag picture adds none)."""
    return [" ".join(text.split()) for text in items.all_text_contents()]


@pytest.fixture
def small_countries_event(app, make_event, make_registration):
    """Named from 2 participants on: China (2, one of them press), and France and Kenya with one each."""
    event = make_event(title="Founding Ceremony", public_min_country_count=2)
    for email, country, category in [
        ("a@example.org", "CN", "delegate"),
        ("b@example.org", "CN", "press"),
        ("c@example.org", "FR", "speaker"),
        ("d@example.org", "KE", "delegate"),
    ]:
        make_registration(event, email=email, country=country, category=category)
    make_registration(event, email="e@example.org", country="JP")
    with app.app_context():
        pending = db.session.scalar(db.select(Registration).where(Registration.email == "e@example.org"))
        pending.status = "pending"
        db.session.commit()
    return event


def test_countries_below_the_threshold_are_counted_but_not_named(client, small_countries_event):
    slug = small_countries_event.slug
    counter = client.get(f"/e/{slug}/delegates.json").json
    assert counter["headline"] == "4 confirmed participants from 3 countries and regions"
    assert counter["by_country"] == [
        {"code": "CN", "name": "China", "flag": f"/flags/{FLAG_ICONS_VERSION}/cn.svg", "count": 2, "count_text": "2"}
    ]
    assert counter["other_countries"] == {
        "countries": 2,
        "participants": 2,
        "participants_text": "2",
        "name": "2 other countries and regions",
    }
    named = sum(row["count"] for row in counter["by_country"])
    assert named + counter["other_countries"]["participants"] == counter["participants"] == 4  # an honest total
    page = client.get(f"/e/{slug}/delegates").text
    rows = re.findall(r'data-country="(\w+)">.*?class="name">([^<]+)</span> <span class="count">(\d+)<', page)
    assert rows == [("CN", "China", "2"), ("other", "2 other countries and regions", "2")]
    assert "Countries and regions with fewer than 2 confirmed participants are counted together and not named" in page
    for text in (page, client.get(f"/e/{slug}/delegates.json").text):
        for hidden in ("France", "Kenya", "fr.svg", "ke.svg", '"FR"', '"KE"', "Japan"):
            assert hidden not in text


@pytest.mark.browser
def test_a_country_is_named_in_place_once_it_reaches_the_threshold(live_server, browser_page):
    app, base_url = live_server
    app.config["COUNTER_REFRESH_SECONDS"] = 0.5
    event = create_test_event(app, title="Founding Ceremony", public_min_country_count=2)
    register_test_delegate(app, event, email="first@example.org", country="KE")
    page = browser_page
    page.goto(f"{base_url}/e/{event.slug}/delegates")
    countries = page.locator("#counter-countries li")
    assert words(countries) == ["1 other country or region 1"]

    register_test_delegate(app, event, email="second@example.org", country="KE", category="speaker")
    expect(page.locator("#counter-headline")).to_have_text("2 confirmed participants from 1 country or region")
    assert words(countries) == ["Kenya 2"]
    assert countries.locator("img.flag").get_attribute("src") == f"/flags/{FLAG_ICONS_VERSION}/ke.svg"
