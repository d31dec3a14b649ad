"""The organizer dashboard and the aggregates behind it, for a known data set."""

import re

from eventreg import stats
from eventreg.extensions import db
from eventreg.models import Registration


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
    )
    make_registration(event, email="c@example.org", country="FR", institution="CNRS", category="press")
    make_registration(event, email="d@example.org", country="BR", institution="Academia Brasileira de Ciências")
    cancelled_id, _ = make_registration(event, email="e@example.org", country="DE", institution="Leopoldina")
    with app.app_context():
        db.session.get(Registration, cancelled_id).status = "cancelled"
        db.session.commit()
    return event


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
        assert rows[0].name == "China" and rows[0].flag == "🇨🇳" and rows[0].share == 0.5
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
    assert re.search(r'data-status="confirmed"><td>Confirmed</td><td class="num">4<', page)
    assert re.search(r'data-status="cancelled"><td>Cancelled</td><td class="num">1<', page)
    country_rows = re.findall(r'data-country="(\w\w)"', page)
    assert country_rows == ["CN", "BR", "FR"]
    assert "50.0 %" in page
    assert "🇨🇳" in page
    assert re.search(r'data-category="speaker"><td>Speaker</td><td class="num">1<', page)


def test_dashboard_lists_registrations_newest_first_paginated(app, logged_in, make_event, make_registration):
    app.config["REGISTRATIONS_PER_PAGE"] = 2
    event = make_event()
    for number in range(5):
        make_registration(event, email=f"p{number}@example.org", given_name=f"Person{number}")
    first = logged_in.get(f"/organizer/events/{event.slug}").text
    names = re.findall(r"Prof\. (Person\d)", first)
    assert names == ["Person4", "Person3"]
    assert "Page 1 of 3" in first
    last = logged_in.get(f"/organizer/events/{event.slug}?page=3").text
    assert re.findall(r"Prof\. (Person\d)", last) == ["Person0"]
    assert logged_in.get(f"/organizer/events/{event.slug}?page=99").status_code == 404
    assert logged_in.get(f"/organizer/events/{event.slug}?page=abc").status_code == 200  # the first page


def test_organizer_index_lists_events(logged_in, make_event, make_registration):
    event = make_event(title="Founding Assembly")
    make_registration(event)
    page = logged_in.get("/organizer/").text
    assert "Founding Assembly" in page
    assert f"/organizer/events/{event.slug}" in page


def test_unknown_event_dashboard_is_404(logged_in):
    assert logged_in.get("/organizer/events/nothing-here").status_code == 404


def test_query_arguments_never_reach_url_building(logged_in, make_event, make_registration, app):
    app.config["REGISTRATIONS_PER_PAGE"] = 1
    event = make_event()
    make_registration(event, email="a@example.org")
    make_registration(event, email="b@example.org")
    for query in ("slug=other", "_external=1", "_anchor=x", "page=1&_method=POST"):
        response = logged_in.get(f"/organizer/events/{event.slug}?{query}")
        assert response.status_code == 200, query
        assert f'href="/organizer/events/{event.slug}?page=2#registrations"' in response.text


def test_dashboard_shows_the_top_institutions(app, logged_in, make_event, make_registration):
    event = known_event(app, make_event, make_registration)
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    table = page[page.index('id="top-institutions"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td class=\"long\"><bdi>([^<]+)</bdi></td><td class=\"num\">(\d+)</td>", table)
    assert rows[0] == ("Chinese Academy of Sciences", "2")
    assert {name for name, _ in rows} == {
        "Chinese Academy of Sciences",
        "CNRS",
        "Academia Brasileira de Ciências",
    }  # the cancelled delegate's Leopoldina is not counted
