"""The attendee list: search in any script, each filter and sort, pagination, bad filter values, rights."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from eventreg.extensions import db
from eventreg.geo.flags import FLAG_ICONS_VERSION
from eventreg.models import ROLE_RIGHTS, Registration, Right, event_organizer, utcnow

PEOPLE = [
    # email, given, family, native, institution, country, category, accompanying, visa, status, checked in
    ("bai@example.org", "Chunli", "Bai", "白春礼", "Chinese Academy of Sciences", "CN", "delegate", 0, True,
     "confirmed", True),
    ("petrova@example.org", "Irina", "Petrova", "Ирина Петрова", "Российская академия наук", "RU", "speaker", 2, False,
     "confirmed", False),
    ("muller@example.org", "José", "Müller", "", "Académie des sciences", "FR", "press", 1, True, "pending", False),
    ("silva@example.org", "Ana", "Silva", "", "Academia Brasileira de Ciências", "BR", "delegate", 0, False,
     "cancelled", False),
    ("ngozi@example.org", "Ngozi", "Okafor", "", "University of Lagos", "NG", "observer", 0, False, "waitlisted",
     False),
    ("tanaka@example.org", "Hiroshi", "Tanaka", "田中宏", "University of Tokyo", "JP", "guest", 0, True, "rejected",
     False),
]  # fmt: skip
EVERYONE = [person[0] for person in PEOPLE]


@pytest.fixture
def seeded(app, make_event, make_registration):
    """An event with six registrations, each made an hour after the one before (in the order of PEOPLE)."""
    event = make_event()
    start = utcnow() - timedelta(days=2)
    for index, person in enumerate(PEOPLE):
        email, given, family, native, institution, country, category, accompanying, visa, status, checked = person
        registration_id, _ = make_registration(
            event,
            email=email,
            given_name=given,
            family_name=family,
            native_name=native,
            institution=institution,
            country=country,
            category=category,
            accompanying=accompanying,
            visa_letter=visa,
            honorific="",
        )
        with app.app_context():
            db.session.execute(
                update(Registration)
                .where(Registration.id == registration_id)
                .values(
                    status=status,
                    created_at=start + timedelta(hours=index),
                    checked_in_at=utcnow() if checked else None,
                )
            )
            db.session.commit()
    return event


def shown(response) -> list[str]:
    """The emails of the listed registrations, in the order shown."""
    assert response.status_code == 200, response.text
    body = response.text.split('id="attendee-list"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<span class="hint" dir="ltr">([^<]+@[^<]+)</span>', body)


def listing(client, event, **args):
    return client.get(f"/organizer/events/{event.slug}/registrations", query_string=args)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("白春礼", ["bai@example.org"]),  # Han
        ("春礼", ["bai@example.org"]),
        ("田中", ["tanaka@example.org"]),
        ("ИРИНА", ["petrova@example.org"]),  # Cyrillic, another case
        ("петрова", ["petrova@example.org"]),
        ("академия", ["petrova@example.org"]),  # a Cyrillic institution
        ("MÜLLER", ["muller@example.org"]),  # accented Latin, another case
        ("josé", ["muller@example.org"]),
        ("Jose\u0301", ["muller@example.org"]),  # the same letter typed as e + combining accent
        ("académie", ["muller@example.org"]),
        ("muller", ["muller@example.org"]),  # names ignore accents…
        ("JOSE", ["muller@example.org"]),
        ("Petrová", ["petrova@example.org"]),  # …both ways
        ("academie", ["muller@example.org"]),  # institutions too
        ("ciencias", ["silva@example.org"]),
        ("ＢＡＩ", ["bai@example.org"]),  # full-width letters from a CJK keyboard
        ("chunli bai", ["bai@example.org"]),  # words in any order
        ("Bai Chunli", ["bai@example.org"]),
        ("TANAKA@EXAMPLE.ORG", ["tanaka@example.org"]),  # by email
        ("university", ["ngozi@example.org", "tanaka@example.org"]),  # by institution
        ("academy of sciences", ["bai@example.org"]),
        ("100%", []),  # LIKE wildcards are searched for literally
        ("_", []),
        ("nobody", []),
    ],
)
def test_search_in_any_script_by_name_email_or_institution(logged_in, seeded, query, expected):
    assert sorted(shown(listing(logged_in, seeded, q=query, sort="date"))) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"status": "confirmed"}, ["bai@example.org", "petrova@example.org"]),
        ({"status": "pending"}, ["muller@example.org"]),
        ({"status": "waitlisted"}, ["ngozi@example.org"]),
        ({"status": "cancelled"}, ["silva@example.org"]),
        ({"status": "rejected"}, ["tanaka@example.org"]),
        ({"country": "FR"}, ["muller@example.org"]),
        ({"country": "fr"}, ["muller@example.org"]),  # codes in either case
        ({"continent": "Asia"}, ["bai@example.org", "tanaka@example.org"]),
        ({"continent": "Europe"}, ["petrova@example.org", "muller@example.org"]),
        ({"continent": "Americas"}, ["silva@example.org"]),
        ({"continent": "Africa"}, ["ngozi@example.org"]),
        ({"continent": "Oceania"}, []),
        ({"category": "speaker"}, ["petrova@example.org"]),
        ({"category": "delegate"}, ["bai@example.org", "silva@example.org"]),
        ({"accompanying": "yes"}, ["petrova@example.org", "muller@example.org"]),
        ({"accompanying": "no"}, ["bai@example.org", "silva@example.org", "ngozi@example.org", "tanaka@example.org"]),
        ({"visa_letter": "yes"}, ["bai@example.org", "muller@example.org", "tanaka@example.org"]),
        ({"visa_letter": "no"}, ["petrova@example.org", "silva@example.org", "ngozi@example.org"]),
        ({"checked_in": "yes"}, ["bai@example.org"]),
        ({"checked_in": "no"}, EVERYONE[1:]),
        ({"continent": "Europe", "accompanying": "yes", "status": "pending"}, ["muller@example.org"]),
        ({"q": "acad", "continent": "Europe"}, ["muller@example.org"]),
    ],
)
def test_each_filter(logged_in, seeded, args, expected):
    response = listing(logged_in, seeded, sort="date", **args)
    assert shown(response) == expected
    count = len(expected)
    assert f"{count} registration{'s match' if count != 1 else ' matches'}" in response.text


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("date", EVERYONE),
        ("-date", EVERYONE[::-1]),
        # name_key: family name first
        ("name", ["bai@example.org", "muller@example.org", "ngozi@example.org", "petrova@example.org",
                  "silva@example.org", "tanaka@example.org"]),
        ("-name", ["tanaka@example.org", "silva@example.org", "petrova@example.org", "ngozi@example.org",
                   "muller@example.org", "bai@example.org"]),
        ("country", ["silva@example.org", "bai@example.org", "muller@example.org", "tanaka@example.org",
                     "ngozi@example.org", "petrova@example.org"]),
        ("-country", ["petrova@example.org", "ngozi@example.org", "tanaka@example.org", "muller@example.org",
                      "bai@example.org", "silva@example.org"]),
    ],
)  # fmt: skip
def test_each_sort(logged_in, seeded, sort, expected):
    assert shown(listing(logged_in, seeded, sort=sort)) == expected


def test_newest_first_by_default_and_sort_links_keep_the_filters(logged_in, seeded):
    response = listing(logged_in, seeded, visa_letter="yes")
    assert shown(response) == ["tanaka@example.org", "muller@example.org", "bai@example.org"]
    links = dict(re.findall(r'data-sort="([^"]+)" href="([^"]+)"', response.text))
    # Each column sorts both ways: the active one offers the reverse order.
    assert set(links) == {"name", "country", "date"}  # newest first is in use, so the date link reverses it
    assert all("visa_letter=yes" in href for href in links.values())
    again = logged_in.get(links["name"].replace("&amp;", "&"))
    assert shown(again) == ["bai@example.org", "muller@example.org", "tanaka@example.org"]
    reversed_links = dict(re.findall(r'data-sort="([^"]+)" href="([^"]+)"', again.text))
    assert "-name" in reversed_links and 'aria-sort="ascending"' in again.text


def test_the_country_filter_offers_the_countries_present(logged_in, seeded):
    page = listing(logged_in, seeded).text
    select = page.split('id="country"', 1)[1].split("</select>", 1)[0]
    # Brazil, China, France, Japan, Nigeria, Russia: by name, after "Any"
    assert re.findall(r'value="([A-Z]*)"', select) == ["", "BR", "CN", "FR", "JP", "NG", "RU"]
    assert "Germany" not in select and "Brazil" in select


def test_pagination_keeps_the_filters(app, logged_in, seeded):
    app.config["REGISTRATIONS_PER_PAGE"] = 2
    first = listing(logged_in, seeded, checked_in="no", sort="date")
    assert shown(first) == EVERYONE[1:3]
    assert "5 registrations match" in first.text and "Page 1 of 3" in first.text
    next_href = re.search(r'href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")
    assert "checked_in=no" in next_href and "sort=date" in next_href and "page=2" in next_href
    second = logged_in.get(next_href)
    assert shown(second) == EVERYONE[3:5]
    third = listing(logged_in, seeded, checked_in="no", sort="date", page=3)
    assert shown(third) == EVERYONE[5:]
    assert "checked_in=no" in re.search(r'href="([^"]+)" rel="prev"', third.text).group(1)


@pytest.mark.parametrize("page", ["4", "99", "1000000", "1000001", "99999999999999999999"])
def test_a_page_beyond_the_end_leads_to_the_last_page_with_the_same_filters(app, logged_in, seeded, page):
    app.config["REGISTRATIONS_PER_PAGE"] = 2
    response = listing(logged_in, seeded, checked_in="no", sort="date", page=page)
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/organizer/events/{seeded.slug}/registrations?page=3&checked_in=no&sort=date"
    )
    last = logged_in.get(response.headers["Location"])
    assert shown(last) == EVERYONE[5:] and "That page no longer exists; here is the last one." in last.text


@pytest.mark.parametrize("page", ["0", "-3", "-99999999999999999999", "abc", "1.5", "٣", ""])
def test_a_page_that_is_no_number_shows_the_first(logged_in, seeded, page):
    assert shown(listing(logged_in, seeded, page=page, sort="date")) == EVERYONE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "lost"),
        ("country", "China"),
        ("country", "C1"),
        ("continent", "Atlantis"),
        ("category", "vip"),
        ("accompanying", "maybe"),
        ("visa_letter", "1"),
        ("checked_in", "true"),
        ("sort", "height"),
        ("q", "x" * 201),
        ("q", "bai\x00"),
        ("q", "bai\u202e"),
    ],
)
def test_a_bad_filter_value_gives_a_message_not_an_error(logged_in, seeded, name, value):
    response = listing(logged_in, seeded, **{name: value})
    assert response.status_code == 200
    assert f"The filter {name}=" in response.text and "is not understood. It was ignored." in response.text


def test_a_filter_given_twice_is_named_and_left_out_not_guessed(logged_in, seeded):
    response = logged_in.get(f"/organizer/events/{seeded.slug}/registrations?status=confirmed&status=cancelled")
    assert "The filter status is given 2 times. It was ignored." in response.text
    assert len(shown(response)) == len(EVERYONE)
    assert len(shown(response)) == len(PEOPLE)  # the bad value is ignored, not applied
    assert "\x00" not in response.text


def test_an_empty_event_and_an_empty_result(logged_in, make_event, seeded):
    empty = make_event(title="Empty Ceremony")
    assert "No registrations yet." in listing(logged_in, empty).text
    assert "0 registrations match" in listing(logged_in, empty).text
    response = listing(logged_in, seeded, q="nobody")
    assert "No registration matches." in response.text and "Clear filters" in response.text


def test_rows_show_what_organizers_need(logged_in, seeded):
    page = listing(logged_in, seeded, q="白春礼").text
    for text in (
        "Chunli Bai",
        "白春礼",
        "Chinese Academy of Sciences",
        f'<img class="flag" src="/flags/{FLAG_ICONS_VERSION}/cn.svg" alt="" width="20" height="15"> China',
        "Delegate",
        "Confirmed",
        "Checked in",
    ):
        assert text in page
    assert re.search(r'href="/organizer/events/[^/]+/registrations/\d+"', page)
    assert 'class="table-scroll"' in page  # the table scrolls inside its wrapper on a phone
    assert 'name="ids"' in page  # rows can be ticked for bulk actions


def test_export_links_carry_the_filters_once_exports_exist(app, logged_in, seeded):
    page = listing(logged_in, seeded, country="FR", visa_letter="yes").text
    if "exports.csv" not in app.view_functions:
        assert "export-link" not in page
        return
    hrefs = [href.replace("&amp;", "&") for href in re.findall(r'class="export-link" href="([^"]+)"', page)]
    assert len(hrefs) == 2
    assert all("country=FR" in href and "visa_letter=yes" in href for href in hrefs)


def _organizer_with_event(app, client, make_organizer, event, role):
    email, password = make_organizer(email=f"{role}@example.org", role=role)
    with app.app_context():
        from eventreg.models import Organizer

        organizer = db.session.scalar(db.select(Organizer).where(Organizer.email == email))
        db.session.execute(event_organizer.insert().values(event_id=event.id, organizer_id=organizer.id))
        db.session.commit()
    assert client.post("/auth/login", data={"email": email, "password": password}).status_code == 302
    return client


def _first_id(app, event):
    with app.app_context():
        return db.session.scalar(
            db.select(Registration.id).where(Registration.event_id == event.id).order_by(Registration.id)
        )


def test_check_in_staff_cannot_open_the_list(app, client, make_organizer, seeded):
    _organizer_with_event(app, client, make_organizer, seeded, "checkin")
    assert listing(client, seeded).status_code == 403
    assert client.get(f"/organizer/events/{seeded.slug}/registrations/{_first_id(app, seeded)}").status_code == 403


def test_an_organizer_sees_only_assigned_events(app, client, make_organizer, make_event, seeded):
    other = make_event(title="Other Ceremony")
    _organizer_with_event(app, client, make_organizer, other, "organizer")
    assert listing(client, seeded).status_code == 403
    assert listing(client, other).status_code == 200
    assert listing(client, type(seeded)(slug="no-such-event")).status_code == 404


@pytest.mark.parametrize(("rights_removed", "dietary_shown"), [((), True), ((Right.SEE_DIETARY,), False)])
def test_dietary_needs_are_shown_only_to_roles_with_the_right(
    app, client, make_organizer, make_event, make_registration, monkeypatch, rights_removed, dietary_shown
):
    monkeypatch.setitem(ROLE_RIGHTS, "organizer", ROLE_RIGHTS["organizer"] - set(rights_removed))
    event = make_event()
    registration_id, _ = make_registration(event, dietary="No peanuts, please", accessibility="Step-free access")
    _organizer_with_event(app, client, make_organizer, event, "organizer")
    base = f"/organizer/events/{event.slug}/registrations/{registration_id}"
    detail = client.get(base).text
    edit = client.get(f"{base}/edit").text
    assert ("No peanuts, please" in detail) is dietary_shown
    assert ("No peanuts, please" in edit) is dietary_shown
    assert ('name="dietary"' in edit) is dietary_shown
    assert "Step-free access" in detail  # the other right is untouched
    if not dietary_shown:
        # Saving the edit form keeps what the organizer could not see.
        client.post(f"{base}/edit", data={**_edit_form(app, registration_id), "institution": "CAS"})
        with app.app_context():
            registration = db.session.get(Registration, registration_id)
            assert (registration.institution, registration.dietary) == ("CAS", "No peanuts, please")
        history = client.get(base).text
        assert "CAS" in history and "No peanuts" not in history


def _edit_form(app, registration_id) -> dict:
    with app.app_context():
        r = db.session.get(Registration, registration_id)
        return {
            "honorific": r.honorific,
            "given_name": r.given_name,
            "family_name": r.family_name,
            "native_name": r.native_name,
            "email": r.email,
            "institution": r.institution,
            "position": r.position,
            "country": r.country,
            "category": r.category,
            "accompanying": str(r.accompanying),
            "visa_letter": "y" if r.visa_letter else "",
        }


def test_the_attendees_link_is_in_the_event_navigation(logged_in, seeded):
    dashboard = logged_in.get(f"/organizer/events/{seeded.slug}").text
    assert f'href="/organizer/events/{seeded.slug}/registrations"' in dashboard
    assert 'aria-current="page">Attendees' in listing(logged_in, seeded).text


@pytest.mark.browser
def test_the_list_on_a_phone_in_a_real_browser(live_server, browser_page):
    """At 360 px the page does not scroll sideways (the table does, in its wrapper); the pages pass axe-core;
    ticking every row and approving them works with CSRF on."""
    from playwright.sync_api import expect

    from eventreg.auth.services import create_organizer
    from tests.conftest import create_test_event, register_test_delegate
    from tests.test_accessibility import violations

    app, base_url = live_server
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 780})
    event = create_test_event(app, requires_approval=True)
    for n, (given, family, native) in enumerate(
        [("Chunli", "Bai", "白春礼"), ("Irina", "Petrova", "Ирина Петрова"), ("Layla", "Haddad", "ليلى حداد")]
    ):
        registration_id, _ = register_test_delegate(
            app, event, email=f"d{n}@example.org", given_name=given, family_name=family, native_name=native
        )
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery")
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email", exact=True).fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Log in", exact=True).click()

    page.goto(f"{base_url}/organizer/events/{event.slug}/registrations?status=pending")
    expect(page.locator("#match-count")).to_have_text("3 registrations match")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Name, status and date fit the phone's width: the table does not scroll sideways either (issue 14).
    assert not page.evaluate(
        "(() => { const s = document.querySelector('.table-scroll'); return s.scrollWidth > s.clientWidth })()"
    )
    found = {"list": violations(page)}
    for suffix in ("", "/edit", "/cancel"):
        page.goto(f"{base_url}/organizer/events/{event.slug}/registrations/{registration_id}{suffix}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, suffix
        found[suffix or "detail"] = violations(page)
    assert {name: problems for name, problems in found.items() if problems} == {}

    page.goto(f"{base_url}/organizer/events/{event.slug}/registrations?status=pending")
    page.get_by_label("Tick every registration on this page").check()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("status").first).to_have_text("3 approved")
    assert "status=pending" in page.url
    expect(page.locator("#match-count")).to_have_text("0 registrations match")
