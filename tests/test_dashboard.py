"""The organizer dashboard: a known data set as a user sees it, with charts, the map and the newest arrivals."""

import re

import pytest

from eventreg import stats
from eventreg.extensions import db
from eventreg.geo.flags import FLAG_ICONS_VERSION
from eventreg.models import Registration
from eventreg.organizer import charts


def known_event(app, make_event, make_registration):
    """5 delegates from 3 countries, one of them cancelled, one with two accompanying persons."""
    event = make_event(capacity=50)
    make_registration(event, email="a@example.org", country="CN", institution="Chinese Academy of Sciences")
    make_registration(
        event,
        email="b@example.org",
        country="CN",
        institution="chinese academy of  sciences",
        accompanying=2,
        category="speaker",
        visa_letter=True,
    )
    make_registration(event, email="c@example.org", country="FR", institution="CNRS", category="press")
    make_registration(event, email="d@example.org", country="BR", institution="Academia Brasileira de Ciências")
    cancelled_id, _ = make_registration(event, email="e@example.org", country="DE", institution="Leopoldina")
    with app.app_context():
        db.session.get(Registration, cancelled_id).status = "cancelled"
        db.session.commit()
    return event


def section(page: str, element_id: str, end: str = "</table>") -> str:
    """The page's text from the element with `element_id` to the next `end`."""
    rest = page[page.index(f'id="{element_id}"') :]
    return rest[: rest.index(end)]


def test_aggregates_for_a_known_data_set(app, make_event, make_registration):
    event = known_event(app, make_event, make_registration)
    with app.app_context():
        assert stats.totals_by_status(event.id) == {
            "confirmed": 4,
            "pending": 0,
            "waitlisted": 0,
            "cancelled": 1,
            "rejected": 0,
        }
        assert stats.seats_taken(event.id) == 6
        assert stats.countries_represented(event.id) == 3
        rows = stats.delegates_per_country(event.id)
        assert [(row.code, row.count) for row in rows] == [("CN", 2), ("BR", 1), ("FR", 1)]
        assert (
            rows[0].name == "China"
            and rows[0].flag.endswith(f"/flags/{FLAG_ICONS_VERSION}/cn.svg")
            and rows[0].share == 0.5
        )
        assert stats.delegates_per_category(event.id) == {"delegate": 2, "press": 1, "speaker": 1}
        institutions = stats.top_institutions(event.id)
        assert institutions[0][1] == 2  # spelling variants of one institution counted together
        assert institutions[0][0].casefold().split() == ["chinese", "academy", "of", "sciences"]
        summary = stats.event_summary(db.session.get(type(event), event.id))
        assert (summary.total, summary.seats_left, summary.countries) == (5, 44, 3)


def test_dashboard_shows_the_totals(app, logged_in, make_event, make_registration):
    event = known_event(app, make_event, make_registration)
    page = logged_in.get(f"/organizer/events/{event.slug}").text

    def figure(element_id):
        return re.search(rf'id="{element_id}">(\d+)', page).group(1)

    assert figure("total-registrations") == "5"
    assert figure("seats-taken") == "6"
    assert figure("countries-represented") == "3"
    assert figure("seats-left") == "44"
    assert figure("accompanying-persons") == "2"
    assert figure("visa-letters") == "1"
    assert figure("checked-in") == "0"
    assert "in 3 continents, 3 sub-regions" in page
    assert re.search(r'data-status="confirmed"><td>Confirmed</td><td class="num">4<', page)
    assert re.search(r'data-status="cancelled"><td>Cancelled</td><td class="num">1<', page)
    countries = section(page, "by-country")
    assert re.findall(r'data-country="(\w\w)"', countries) == ["CN", "BR", "FR"]
    assert "50.0%" in countries and f'<img class="flag" src="/flags/{FLAG_ICONS_VERSION}/cn.svg"' in countries
    assert re.search(r'data-category="speaker"><td>Speaker</td><td class="num">1<', page)


def test_dashboard_shows_continents_with_subregions(app, logged_in, make_event, make_registration):
    event = known_event(app, make_event, make_registration)
    table = section(logged_in.get(f"/organizer/events/{event.slug}").text, "by-continent")
    rows = re.findall(
        r'data-(?:continent|subregion)="([^"]+)"><t[hd][^>]*>([^<]+)</t[hd]><td class="num">(\d+)<', table
    )
    assert rows == [
        ("Asia", "Asia", "2"),
        ("Eastern Asia", "Eastern Asia", "2"),
        ("Americas", "Americas", "1"),
        ("South America", "South America", "1"),
        ("Europe", "Europe", "1"),
        ("Western Europe", "Western Europe", "1"),
    ]


def test_dashboard_shows_registrations_over_time_as_charts_and_a_table(app, logged_in, make_event, make_registration):
    event = known_event(app, make_event, make_registration)
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    with app.test_request_context():
        today = stats.event_report(db.session.get(type(event), event.id))["daily"][-1]["date"]
    rows = re.findall(r'data-date="([\d-]+)">.*?<td class="num">(\d+)</td><td class="num">(\d+)</td>', page)
    assert rows == [(today, "5", "5")]  # the cancelled registration arrived too
    for chart in ("chart-daily", "chart-cumulative"):
        assert re.search(rf'<svg [^>]*id="{chart}"[^>]*role="img"[^>]*aria-labelledby="{chart}-title"', page)
        assert f'<title id="{chart}-title">' in page


def test_world_map_shades_countries_and_names_them(app, logged_in, make_event, make_registration):
    event = known_event(app, make_event, make_registration)
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    world = section(page, "chart-map", "</svg>")
    assert 'role="img"' in page[page.rindex("<svg", 0, page.index('id="chart-map"')) :][:300]
    china = re.search(r'<path d="[^"]+" class="map-(\d)" data-country="CN"><title>China: 2 delegates</title>', world)
    france = re.search(r'class="map-(\d)" data-country="FR"><title>France: 1 delegate</title>', world)
    germany = re.search(r'class="map-(\d)" data-country="DE"><title>Germany: 0 delegates</title>', world)
    assert int(china.group(1)) > int(france.group(1)) > int(germany.group(1)) == 0  # the cancelled one is not shaded
    assert "no delegates" in world and "1–1" not in world  # the legend


def test_map_steps_rise_in_round_numbers(app):
    assert charts.map_steps(1) == [1]
    assert charts.map_steps(2) == [1, 2]
    assert charts.map_steps(700) == [1, 10, 50, 200]
    with app.test_request_context():
        legend = charts.map_legend([1, 10, 50, 200], 700)
    assert legend == [(0, "no delegates"), (1, "1–9"), (2, "10–49"), (3, "50–199"), (4, "200–700")]


def test_chart_text_is_escaped(app, logged_in, make_event, make_registration):
    event = make_event()
    make_registration(event, institution='<script>alert("x")</script> & Co')
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    chart = section(page, "chart-institutions", "</svg>")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in chart
    assert "<script>alert" not in page


def test_dashboard_lists_the_ten_newest_registrations(app, logged_in, make_event, make_registration):
    event = make_event()
    ids = [make_registration(event, email=f"p{n}@example.org", given_name=f"Person{n}")[0] for n in range(12)]
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    names = re.findall(r"Prof\. (Person\d+)", section(page, "registration-list"))
    assert names == [f"Person{n}" for n in range(11, 1, -1)]
    assert f'href="/organizer/events/{event.slug}/registrations/{ids[-1]}"' in page
    assert f'href="/organizer/events/{event.slug}/registrations">All registrations (12)</a>' in page


def test_organizer_index_lists_events(logged_in, make_event, make_registration):
    event = make_event(title="Founding Assembly")
    make_registration(event)
    page = logged_in.get("/organizer/").text
    assert "Founding Assembly" in page
    assert f"/organizer/events/{event.slug}" in page


def test_unknown_event_dashboard_is_404(logged_in):
    assert logged_in.get("/organizer/events/nothing-here").status_code == 404


@pytest.mark.parametrize("query", ["slug=other", "_external=1", "_anchor=x", "page=abc", "page=99999999999999999999"])
def test_query_arguments_never_reach_url_building(logged_in, make_event, make_registration, query):
    event = make_event()
    make_registration(event, email="a@example.org")
    response = logged_in.get(f"/organizer/events/{event.slug}?{query}")
    assert response.status_code == 200, query
    assert f'href="/organizer/events/{event.slug}/registrations">' in response.text


def test_dashboard_shows_the_top_institutions(app, logged_in, make_event, make_registration):
    event = known_event(app, make_event, make_registration)
    table = section(logged_in.get(f"/organizer/events/{event.slug}").text, "top-institutions")
    rows = re.findall(r"<tr><td class=\"long\"><bdi>([^<]+)</bdi></td><td class=\"num\">(\d+)</td>", table)
    assert rows[0] == ("Chinese Academy of Sciences", "2")
    assert {name for name, _ in rows} == {
        "Chinese Academy of Sciences",
        "CNRS",
        "Academia Brasileira de Ciências",
    }  # the cancelled delegate's Leopoldina is not counted


def test_dashboard_of_an_event_without_registrations(logged_in, make_event):
    page = logged_in.get(f"/organizer/events/{make_event().slug}").text
    assert "No registrations yet." in page
    assert 'id="chart-daily"' not in page and 'id="chart-map"' in page  # the map stays, every country unshaded
