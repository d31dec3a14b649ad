"""The check-in desk: a ticket's code (however typed) finds the delegate, one tap checks them in once, refusals say
why, organizers can undo, the counts follow, and only the event's staff reach its desk."""

import re
import threading

import pytest
from sqlalchemy import select

from eventreg.auth.services import create_organizer
from eventreg.checkin.services import (
    NotAtThisDesk,
    NotYourDesk,
    check_in,
    desk_event,
    normalise_code,
    registration_at_desk,
    undo_check_in,
)
from eventreg.extensions import db
from eventreg.geo.flags import FLAG_ICONS_VERSION
from eventreg.models import ROLE_RIGHTS, AuditEntry, Event, Organizer, Registration, Right, event_organizer
from tests.conftest import create_test_event, drop_tables, make_app, register_test_delegate
from tests.test_csrf import token_from

PASSWORD = "correct horse battery"
CODE = "AB01CD10EF"


def login(app, email, role, events=()):
    """A client logged in as a new account with `role`, assigned to `events`."""
    with app.app_context():
        organizer = create_organizer(email, PASSWORD, role)
        for event in events:
            db.session.execute(event_organizer.insert().values(event_id=event.id, organizer_id=organizer.id))
        db.session.commit()
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def set_fields(app, registration_id, **fields):
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        for name, value in fields.items():
            setattr(registration, name, value)
        db.session.commit()


def registration(app, registration_id) -> Registration:
    with app.app_context():
        found = db.session.get(Registration, registration_id)
        db.session.expunge(found)
        return found


@pytest.fixture
def event(make_event):
    return make_event(title="Inaugural Ceremony", capacity=100)


@pytest.fixture
def delegate_id(app, event, make_registration):
    registration_id, _token = make_registration(event, accompanying=2, accessibility="Wheelchair user; step-free route")
    set_fields(app, registration_id, checkin_code=CODE)
    return registration_id


@pytest.fixture
def desk(app, event):
    return login(app, "desk@example.org", "checkin", events=[event])


def card_url(event, registration_id):
    return f"/checkin/{event.slug}/r/{registration_id}"


@pytest.mark.parametrize(
    "typed", [CODE, CODE.lower(), "ab01-cd10-ef", " AB01 CD10 EF ", "abo1cdloef", "ABOICDIOEF", "ab0lcd1oef"]
)
def test_a_typed_code_finds_the_ticket_however_it_is_written(event, delegate_id, desk, typed):
    response = desk.get(f"/checkin/{event.slug}", query_string={"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"] == card_url(event, delegate_id)


def test_normalise_code_reads_crockford_lookalikes():
    assert normalise_code(" ab-o1 cd lo ef ") == CODE


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("AB01CD10EG", "No ticket has the code AB01CD10EG."),
        ("AB01", "A ticket code has 10 letters and digits"),
        ("AB01CD10EU", "A ticket code has 10 letters and digits"),  # U is not in Crockford's alphabet
    ],
)
def test_an_unknown_or_malformed_code_is_explained(event, delegate_id, desk, typed, message):
    response = desk.get(f"/checkin/{event.slug}", query_string={"code": typed})
    assert response.status_code == 200
    assert message in response.text.split('id="desk-problem">', 1)[1]


def test_the_card_shows_who_comes_and_their_access_needs(app, event, delegate_id, desk):
    page = desk.get(card_url(event, delegate_id)).text
    assert "Prof. Chunli Bai" in page and "白春礼" in page
    assert f'<img class="flag" src="/flags/{FLAG_ICONS_VERSION}/cn.svg" alt="" width="20" height="15"> China' in page
    assert "Delegate" in page
    assert '<dd id="accompanying">2</dd>' in page
    assert "Wheelchair user; step-free route" in page
    assert ">Check in</button>" in page


def test_one_tap_checks_in_and_a_second_changes_nothing(app, event, delegate_id, desk):
    response = desk.post(f"{card_url(event, delegate_id)}/check-in")
    assert response.headers["Location"] == card_url(event, delegate_id)
    page = desk.get(card_url(event, delegate_id)).text
    assert "Checked in: Prof. Chunli Bai." in page
    first = registration(app, delegate_id)
    assert first.checked_in_at is not None
    local = first.checked_in_at.astimezone(event.zone).strftime("%H:%M")  # the event is in Asia/Shanghai
    assert f"Already checked in at {local} by desk@example.org." in page
    assert ">Check in</button>" not in page

    desk.post(f"{card_url(event, delegate_id)}/check-in")  # a second desk scanned the same ticket
    page = desk.get(card_url(event, delegate_id)).text
    assert f"Already checked in at {local} by desk@example.org." in page.split('class="flash', 1)[1]
    assert registration(app, delegate_id).checked_in_at == first.checked_in_at
    assert desk.get(f"/checkin/{event.slug}/counts.json").json["checked_in"] == 1
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.registration_id == delegate_id))
        assert list(actions).count("registration.checked_in") == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("cancelled", "Not admitted: this registration was cancelled."),
        ("rejected", "Not admitted: this registration was declined by the organizers."),
        ("waitlisted", "Not admitted: this delegate is on the waiting list and has no seat."),
        ("pending", "Not admitted: this registration still awaits approval by the organizers."),
    ],
)
def test_registrations_without_a_seat_are_refused(app, event, delegate_id, desk, status, message):
    set_fields(app, delegate_id, status=status)
    page = desk.get(card_url(event, delegate_id)).text
    assert message in page.split('id="desk-verdict"', 1)[1]
    assert ">Check in</button>" not in page
    desk.post(f"{card_url(event, delegate_id)}/check-in")
    assert message in desk.get(card_url(event, delegate_id)).text.split('class="flash', 1)[1]
    response = desk.post(f"/checkin/{event.slug}/check-in.json", json={"code": CODE})
    assert response.status_code == 409 and response.json["error"] == message
    assert registration(app, delegate_id).checked_in_at is None


def test_another_events_ticket_is_refused(app, event, desk):
    other = create_test_event(app, title="Closing Ceremony")
    other_id, _token = register_test_delegate(app, other, email="someone@example.org")
    set_fields(app, other_id, checkin_code=CODE)
    page = desk.get(f"/checkin/{event.slug}", query_string={"code": CODE}).text
    assert "This ticket is for another event: not admitted here." in page
    assert desk.get(card_url(event, other_id)).status_code == 404
    assert desk.post(f"{card_url(event, other_id)}/check-in").status_code == 404
    assert registration(app, other_id).checked_in_at is None


def test_an_organizer_can_undo_a_check_in_and_the_desk_cannot(app, event, delegate_id, desk):
    desk.post(f"{card_url(event, delegate_id)}/check-in")
    assert desk.post(f"{card_url(event, delegate_id)}/undo").status_code == 403
    assert ">Undo the check-in</button>" not in desk.get(card_url(event, delegate_id)).text
    assert registration(app, delegate_id).checked_in_at is not None

    organizer = login(app, "org@example.org", "organizer", events=[event])
    assert ">Undo the check-in</button>" in organizer.get(card_url(event, delegate_id)).text
    response = organizer.post(f"{card_url(event, delegate_id)}/undo")
    assert response.headers["Location"] == card_url(event, delegate_id)
    page = organizer.get(card_url(event, delegate_id)).text
    assert "The check-in of Prof. Chunli Bai is undone." in page
    assert ">Check in</button>" in page
    undone = registration(app, delegate_id)
    assert undone.checked_in_at is None and undone.checked_in_by_id is None
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.registration_id == delegate_id).order_by(AuditEntry.id)
        ).all()
        checked, undo = [entry for entry in entries if entry.action.startswith("registration.check")]
        assert (checked.action, checked.actor) == ("registration.checked_in", "desk@example.org")
        assert checked.before == {"checked_in_at": None} and checked.after["checked_in_at"]
        assert (undo.action, undo.actor) == ("registration.check_in_undone", "org@example.org")
        assert undo.before["organizer"] == "desk@example.org" and undo.after == {"checked_in_at": None}

    history = organizer.get(f"/organizer/events/{event.slug}/registrations/{delegate_id}")
    assert history.status_code == 200 and "desk@example.org" in history.text
    assert "Check-in undone" in history.text and "registration.check" not in history.text
    other = login(app, "other@example.org", "organizer")  # runs no event
    assert other.post(f"{card_url(event, delegate_id)}/undo").status_code == 403


def test_counts_follow_check_ins_and_undo_on_the_desk_and_the_dashboard(app, event, make_registration):
    ids = {}
    for email, country in [("a@example.org", "CN"), ("b@example.org", "CN"), ("c@example.org", "FR")]:
        ids[email], _token = make_registration(event, email=email, country=country, accompanying=1)
    cancelled, _token = make_registration(event, email="d@example.org", country="FR")
    set_fields(app, cancelled, status="cancelled")
    admin = login(app, "admin@example.org", "admin")

    def numbers():
        counts = admin.get(f"/checkin/{event.slug}/counts.json").json
        per_country = {row["code"]: (row["checked_in"], row["expected"]) for row in counts["by_country"]}
        return counts["checked_in"], counts["expected"], per_country

    assert numbers() == (0, 3, {"CN": (0, 2), "FR": (0, 1)})
    admin.get(f"/organizer/events/{event.slug}")  # fill the dashboard's cache before the check-in
    admin.post(f"{card_url(event, ids['a@example.org'])}/check-in")
    assert numbers() == (1, 3, {"CN": (1, 2), "FR": (0, 1)})
    assert "Checked in: 1 of 3 expected delegates" in admin.get(f"/checkin/{event.slug}").text
    dashboard = admin.get(f"/organizer/events/{event.slug}").text
    assert '<span id="checked-in">1</span><small> / <span id="checked-in-expected">3</span>' in dashboard
    cn_row = dashboard.split('id="checkin-by-country"', 1)[1].split('data-country="CN">', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'class="num">(\d+)<', cn_row) == ["1", "2"]
    assert "1 of 3 expected" in dashboard
    assert "(3 expected besides the delegates)" in dashboard  # accompanying persons of the confirmed

    admin.post(f"{card_url(event, ids['a@example.org'])}/undo")
    assert numbers() == (0, 3, {"CN": (0, 2), "FR": (0, 1)})
    assert '<span id="checked-in">0</span>' in admin.get(f"/organizer/events/{event.slug}").text


def test_a_check_in_moves_the_events_stats_version(app, event, delegate_id):
    with app.app_context():
        before = db.session.get(Event, event.id).stats_version
        staff = create_organizer("desk@example.org", PASSWORD, "checkin")
        assert check_in(db.session.get(Event, event.id), delegate_id, staff).newly
        db.session.expire_all()
        assert db.session.get(Event, event.id).stats_version > before


def test_two_desks_scanning_at_once_check_in_once(app, event, delegate_id):
    with app.app_context():
        staff_ids = [create_organizer(f"desk{n}@example.org", PASSWORD, "checkin").id for n in range(4)]
    results, barrier = [], threading.Barrier(len(staff_ids))

    def scan(staff_id):
        with app.app_context():
            staff = db.session.get(Organizer, staff_id)
            desk_event = db.session.get(Event, event.id)
            barrier.wait()
            results.append(check_in(desk_event, delegate_id, staff).newly)
            db.session.remove()

    threads = [threading.Thread(target=scan, args=(staff_id,)) for staff_id in staff_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.checked_in")).all()
        assert len(entries) == 1


def test_name_search_finds_delegates_in_any_script(app, event, delegate_id, desk, make_registration):
    make_registration(event, given_name="Layla", family_name="Haddad", native_name="ليلى حداد", email="l@example.org")
    for query, found, missing in [
        ("bai", "Prof. Chunli Bai", "Haddad"),
        ("白春礼", "Prof. Chunli Bai", "Haddad"),
        ("حداد", "Haddad", "Chunli"),
    ]:
        page = desk.get(f"/checkin/{event.slug}", query_string={"q": query}).text
        results = page.split('id="desk-results"', 1)[1].split("</ul>", 1)[0]
        assert found in results and missing not in results, query
    page = desk.get(f"/checkin/{event.slug}", query_string={"q": "nobody"}).text
    assert 'id="no-results"' in page


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Haddad", True),  # a name…
        ("ليلي حداد", True),  # …in any script, spelt either way (ى/ي)
        ("Université Saint-Joseph", True),  # an institution
        ("universite", True),
        ("TK4M-7QPZ-2R", True),  # the ticket's code, as typed from the ticket
        ("tk4m7qpz2r", True),
        ("lh.private.box@example.net", False),  # never the email: staff could rebuild an address letter by letter
        ("lh.private.box", False),
        ("private", False),
        ("example.net", False),
        ("@", False),
        ("TK4M", False),  # part of a code does not narrow the search to a ticket
    ],
)
def test_desk_search_finds_names_institutions_and_codes_but_never_emails(
    app, event, desk, make_registration, query, found
):
    registration_id, _token = make_registration(
        event,
        given_name="Layla",
        family_name="Haddad",
        native_name="ليلى حداد",
        email="lh.private.box@example.net",
        institution="Université Saint-Joseph",
    )
    set_fields(app, registration_id, checkin_code="TK4M7QPZ2R")
    page = desk.get(f"/checkin/{event.slug}", query_string={"q": query})
    assert page.status_code == 200
    if found:
        assert "Layla Haddad" in page.text.split('id="desk-results"', 1)[1].split("</ul>", 1)[0]
    else:
        assert 'id="no-results"' in page.text and "Haddad" not in page.text


def test_desk_staff_reach_only_the_desks_of_their_events(app, event, delegate_id):
    other = create_test_event(app, title="Closing Ceremony")
    desk = login(app, "desk@example.org", "checkin", events=[event])
    index = desk.get("/checkin/").text
    assert "Inaugural Ceremony" in index and "Closing Ceremony" not in index
    assert desk.get(f"/checkin/{event.slug}").status_code == 200
    assert desk.get(f"/checkin/{other.slug}").status_code == 403
    assert desk.get(f"/checkin/{other.slug}/counts.json").status_code == 403
    assert desk.get("/checkin/no-such-event").status_code == 404
    assert desk.get(f"/organizer/events/{event.slug}").status_code == 403  # the desk, not the dashboard

    unassigned = login(app, "new-desk@example.org", "checkin")
    assert "No event is assigned to your account yet." in unassigned.get("/checkin/").text
    assert unassigned.get(f"/checkin/{event.slug}").status_code == 403

    admin = login(app, "admin@example.org", "admin")
    index = admin.get("/checkin/").text
    assert "Inaugural Ceremony" in index and "Closing Ceremony" in index

    anonymous = app.test_client()
    for path in ("/checkin/", f"/checkin/{event.slug}", card_url(event, delegate_id)):
        assert anonymous.get(path).headers["Location"].startswith("/auth/login?next=")


def test_the_desk_services_refuse_with_their_own_errors_and_the_views_answer_404_and_403(app, event, delegate_id):
    """The rules answer without a request (NotAtThisDesk, NotYourDesk); the pages and the JSON make them HTTP."""
    other = create_test_event(app, title="Closing Ceremony")
    with app.app_context():
        staff = create_organizer("desk@example.org", PASSWORD, "checkin")
        db.session.execute(event_organizer.insert().values(event_id=event.id, organizer_id=staff.id))
        db.session.commit()
        staff, mine = db.session.get(Organizer, staff.id), db.session.get(Event, event.id)
        assert desk_event(event.slug, staff).id == event.id
        with pytest.raises(NotAtThisDesk):
            desk_event("no-such-event", staff)
        for stranger in (staff, None):
            with pytest.raises(NotYourDesk):
                desk_event(other.slug if stranger else event.slug, stranger)
        assert registration_at_desk(mine, delegate_id).id == delegate_id
        for refuse in (
            registration_at_desk,
            lambda *args: check_in(*args, staff),
            lambda *args: undo_check_in(*args, staff),
        ):
            with pytest.raises(NotAtThisDesk):
                refuse(mine, 999999)
    desk = app.test_client()
    assert desk.post("/auth/login", data={"email": "desk@example.org", "password": PASSWORD}).status_code == 302
    nothing = "There is nothing at this address. Please check the link."
    assert nothing in desk.get(card_url(event, 999999)).text
    assert desk.post(f"{card_url(event, 999999)}/check-in").status_code == 404
    missing = desk.post(f"/checkin/{event.slug}/check-in.json", json={"registration_id": 999999})
    assert (missing.status_code, missing.json) == (404, {"error": nothing})
    assert desk.get(f"/checkin/{other.slug}").status_code == 403
    refused = desk.get(f"/checkin/{other.slug}/counts.json")
    assert (refused.status_code, refused.json) == (403, {"error": "You do not have the right to see this page."})


def test_desk_staff_land_on_the_desk_and_see_no_dietary_needs(app, event, make_registration):
    registration_id, _token = make_registration(event, dietary="Halal", accessibility="Hearing loop")
    client = app.test_client()
    with app.app_context():
        create_organizer("desk@example.org", PASSWORD, "checkin")
    response = client.post("/auth/login", data={"email": "desk@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/checkin/"
    set_fields(app, registration_id)
    with app.app_context():
        staff = db.session.scalar(select(Organizer).where(Organizer.email == "desk@example.org"))
        staff.events.append(db.session.get(Event, event.id))
        db.session.commit()
    page = client.get(card_url(event, registration_id)).text
    assert "Hearing loop" in page and "Halal" not in page


def test_a_desk_role_without_the_right_to_access_needs_does_not_see_them(event, delegate_id, desk, monkeypatch):
    monkeypatch.setitem(ROLE_RIGHTS, "checkin", ROLE_RIGHTS["checkin"] - {Right.SEE_ACCESS_NEEDS})
    page = desk.get(card_url(event, delegate_id)).text
    assert "Prof. Chunli Bai" in page and "Wheelchair user" not in page and 'id="access-needs"' not in page
    found = desk.get(f"/checkin/{event.slug}/lookup.json", query_string={"code": CODE})
    assert found.json["registration"]["name"] == "Prof. Chunli Bai"
    assert found.json["registration"]["access_needs"] is None


def test_the_organizer_event_nav_links_to_the_desk(event, logged_in):
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    assert f'href="/checkin/{event.slug}">Check-in desk</a>' in page


# ---- the JSON endpoints the scanner uses


def test_lookup_json_gives_the_card_or_a_json_error(event, delegate_id, desk):
    found = desk.get(f"/checkin/{event.slug}/lookup.json", query_string={"code": "ab01 cd10 ef"})
    assert found.status_code == 200
    card = found.json["registration"]
    assert (card["name"], card["native_name"], card["accompanying"]) == ("Prof. Chunli Bai", "白春礼", 2)
    assert card["country"] == {"code": "CN", "name": "China", "flag": f"/flags/{FLAG_ICONS_VERSION}/cn.svg"}
    assert card["access_needs"] == "Wheelchair user; step-free route" and "dietary" not in card
    assert card["card_url"] == card_url(event, delegate_id) and card["checked_in"] is False
    missing = desk.get(f"/checkin/{event.slug}/lookup.json", query_string={"code": "ZZZZZZZZZZ"})
    assert missing.status_code == 404 and missing.json["error"].startswith("No ticket has the code ZZZZZZZZZZ")
    unknown_event = desk.get("/checkin/no-such-event/lookup.json", query_string={"code": CODE})
    assert unknown_event.status_code == 404 and unknown_event.json["error"]


def test_check_in_json_is_idempotent(app, event, delegate_id, desk):
    first = desk.post(f"/checkin/{event.slug}/check-in.json", json={"code": "ab01cd10ef"})
    assert first.status_code == 200 and first.json["checked_in_now"] is True
    assert first.json["message"] == "Checked in: Prof. Chunli Bai."
    assert first.json["counts"]["checked_in"] == 1
    again = desk.post(f"/checkin/{event.slug}/check-in.json", json={"registration_id": delegate_id})
    assert again.status_code == 200 and again.json["checked_in_now"] is False
    assert again.json["message"].startswith("Already checked in at ") and "by desk@example.org" in again.json["message"]
    assert again.json["counts"]["checked_in"] == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (None, 400),
        ([1, 2], 400),
        ({}, 400),
        ({"registration_id": "1"}, 400),
        ({"registration_id": True}, 400),
        ({"registration_id": 2**40}, 400),
        ({"registration_id": 999999}, 404),
        ({"code": "nope"}, 404),
    ],
)
def test_check_in_json_errors_are_json(event, delegate_id, desk, body, status):
    response = desk.post(f"/checkin/{event.slug}/check-in.json", json=body)
    assert response.status_code == status
    assert response.is_json and response.json["error"]


def test_json_endpoints_refuse_other_events_staff_in_json(app, event, delegate_id):
    stranger = login(app, "stranger@example.org", "checkin")
    response = stranger.post(f"/checkin/{event.slug}/check-in.json", json={"code": CODE})
    assert response.status_code == 403 and response.json["error"] == "You do not have the right to see this page."
    assert registration(app, delegate_id).checked_in_at is None


# ---- CSRF


@pytest.fixture
def csrf_app(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    drop_tables(app)


def _csrf_login(app, event):
    with app.app_context():
        staff = create_organizer("desk@example.org", PASSWORD, "checkin")
        staff.events.append(db.session.get(Event, event.id))
        db.session.commit()
    client = app.test_client()
    token = token_from(client.get("/auth/login").text)
    client.post("/auth/login", data={"email": "desk@example.org", "password": PASSWORD, "csrf_token": token})
    return client


def test_check_in_needs_the_csrf_token(csrf_app):
    event = create_test_event(csrf_app)
    registration_id, _token = register_test_delegate(csrf_app, event)
    client = _csrf_login(csrf_app, event)
    url = card_url(event, registration_id)
    assert client.post(f"{url}/check-in").status_code == 400
    refused = client.post(f"/checkin/{event.slug}/check-in.json", json={"registration_id": registration_id})
    assert refused.status_code == 400 and refused.is_json and "security token" in refused.json["error"]
    assert registration(csrf_app, registration_id).checked_in_at is None

    token = token_from(client.get(url).text)
    accepted = client.post(
        f"/checkin/{event.slug}/check-in.json",
        json={"registration_id": registration_id},
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 200 and accepted.json["checked_in_now"] is True
    assert client.post(f"{url}/check-in", data={"csrf_token": token}).status_code == 302
