"""Every page, JSON answer, export and mail that names a country or region names it in its reader's language and
order; the API keeps codes and names them in English."""

import csv
import io
import re

import pytest
from sqlalchemy import select

from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.models import OutboxMessage
from tests.conftest import create_test_event, drop_tables, make_app, private_token, register_test_delegate
from tests.test_countries import SIX, options

PASSWORD = "correct horse battery"


@pytest.fixture
def six_app(tmp_path):
    app = make_app(tmp_path, LANGUAGES=SIX)
    yield app
    drop_tables(app)


@pytest.fixture
def event(six_app):
    """Confirmed delegates from China (two), Australia, Brazil and Japan: in pinyin 澳大利亚 (ao), 巴西 (ba), 日本 (ri),
    中国 (zhong); in code points 中 < 巴 < 日 < 澳."""
    event = create_test_event(six_app)
    for number, code in enumerate(["CN", "JP", "BR", "AU", "CN"]):
        register_test_delegate(six_app, event, email=f"d{number}@example.org", country=code)
    return event


@pytest.fixture
def organizer(six_app):
    with six_app.app_context():
        create_organizer("admin@example.org", PASSWORD, "admin")
    client = six_app.test_client()
    assert client.post("/auth/login", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 302
    return client


def test_the_dashboard_and_its_map_speak_chinese(organizer, event):
    page = organizer.get(f"/organizer/events/{event.slug}", headers={"Accept-Language": "zh-Hans"}).text
    table = page.split('id="by-country"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-country="(\w\w)">\s*<td><img[^>]*> ([^<]+)</td>', table) == [
        ("CN", "中国"),
        ("AU", "澳大利亚"),  # ties in pinyin order
        ("BR", "巴西"),
        ("JP", "日本"),
    ]
    assert re.search(r"<title>中国[:：]", page)  # the world map's country titles


def test_the_attendee_filter_lists_countries_in_the_readers_order(organizer, event):
    page = organizer.get(f"/organizer/events/{event.slug}/registrations", headers={"Accept-Language": "zh-Hans"}).text
    listed = options(page)[1:]
    assert listed == [("AU", "澳大利亚"), ("BR", "巴西"), ("JP", "日本"), ("CN", "中国")]


def test_check_in_numbers_and_public_counter_follow_the_reader(six_app, organizer, event):
    counts = organizer.get(f"/checkin/{event.slug}/counts.json", headers={"Accept-Language": "zh-Hans"}).json
    assert [row["name"] for row in counts["by_country"]] == ["中国", "澳大利亚", "巴西", "日本"]
    counter = six_app.test_client().get(f"/e/{event.slug}/delegates.json", headers={"Accept-Language": "ar"}).json
    assert counter["by_country"][0]["name"] == "الصين"


def test_exports_name_countries_in_the_organizers_language(organizer, event):
    response = organizer.get(f"/organizer/events/{event.slug}/registrations.csv", headers={"Accept-Language": "fr"})
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert {"Chine", "Australie", "Brésil", "Japon"} <= {cell for row in rows[1:] for cell in row}


def test_the_api_keeps_codes_and_english_names(six_app, event):
    from eventreg.auth.tokens import create_token
    from eventreg.models import Organizer

    with six_app.app_context():
        admin = db.session.scalar(select(Organizer)) or create_organizer("api@example.org", PASSWORD, "admin")
        _row, raw = create_token(admin, "api")
    headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "zh-Hans"}
    client = six_app.test_client()
    items = client.get(f"/api/v1/events/{event.slug}/registrations", headers=headers).json["items"]
    assert {(item["country"], item["country_name"]) for item in items} >= {("CN", "China"), ("AU", "Australia")}
    stats = client.get(f"/api/v1/events/{event.slug}/stats", headers=headers).json
    assert stats["by_country"][0] == {"code": "CN", "name": "China", "count": 2, "share": 0.4}


def test_a_mail_names_countries_in_the_delegates_language(six_app):
    event = create_test_event(six_app)
    registration_id, _token = register_test_delegate(six_app, event, language="fr", country="CN")
    client = six_app.test_client()
    token = private_token(six_app, registration_id)
    page = client.get(f"/r/{token}/edit", headers={"Accept-Language": "en"}).text
    assert ("RU", "Russia") in options(page)
    details = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    details.update(country="RU", category="delegate", honorific="Prof.")
    details.pop("visa_letter")  # a checkbox's value is in the page ticked or not; this delegate asked for no letter
    assert client.post(f"/r/{token}/edit", data=details, headers={"Accept-Language": "en"}).status_code == 302
    with six_app.app_context():
        [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "changed")).all()
        mail = compose(message)
    assert "Chine" in mail.body and "Russie" in mail.body and "Russia" not in mail.body


@pytest.mark.parametrize(("sort", "expected"), [("country", ["AU", "BR", "JP", "CN", "CN"]), ("-country", None)])
def test_the_attendee_list_sorts_countries_by_name_in_the_readers_order(organizer, event, sort, expected):
    page = organizer.get(
        f"/organizer/events/{event.slug}/registrations",
        query_string={"sort": sort},
        headers={"Accept-Language": "zh-Hans"},
    ).text
    body = page.split('id="attendee-list"', 1)[1].split("</table>", 1)[0]
    shown = [code.upper() for code in re.findall(r'<img class="flag" src="/flags/[^/]+/(\w\w)\.svg"', body)]
    ascending = ["AU", "BR", "JP", "CN", "CN"]  # pinyin: ao, ba, ri, zhong (codes would give AU, BR, CN, CN, JP)
    assert shown == (expected or ascending[::-1])
