"""The API's guest list: each registration's category label, delegation, focal point and invitation status, the
event's delegations with their counts, and its invitation counts, each checked against openapi.json."""

from datetime import UTC, datetime

import pytest

from eventreg.extensions import db
from eventreg.models import Delegation, Event, EventCategory, Invitation, InvitationStatus, Registration
from tests.test_api import SPEC, check, make_account


@pytest.fixture
def guests(app, make_event, make_registration):
    """An event with two delegations (one with a focal point, a confirmed member checked in, a pending member and
    a cancelled one), a delegate registered through an invitation, one on their own in an organizers' category,
    and invitations in several statuses; another event with a delegation of its own."""
    event, other = make_event(), make_event(title="Another Ceremony")
    ids = {
        name: make_registration(event, email=f"{name}@example.org", family_name=name.title())[0]
        for name in ("focal", "member", "pending", "gone", "invitee", "loner")
    }
    with app.app_context():
        academy = Delegation(event_id=event.id, name="Russian Academy of Sciences", country="RU", quota=3)
        institute = Delegation(event_id=event.id, name="Académie des sciences", country="", quota=5)
        elsewhere = Delegation(event_id=other.id, name="Elsewhere", country="FR", quota=1)
        db.session.add_all([academy, institute, elsewhere])
        db.session.add(
            EventCategory(event_id=event.id, code="keynote", labels={"en": "Keynote", "fr": "Conférence"}, position=9)
        )
        db.session.flush()
        rows = {name: db.session.get(Registration, number) for name, number in ids.items()}
        for name in ("focal", "member", "pending", "gone"):
            rows[name].delegation_id = academy.id
        rows["focal"].is_focal_point = True
        rows["member"].checked_in_at = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
        rows["pending"].status = "pending"
        rows["gone"].status = "cancelled"
        rows["loner"].category = "keynote"
        db.session.add(
            Invitation(
                event_id=event.id,
                email="invitee@example.org",
                status=InvitationStatus.REGISTERED,
                registration_id=ids["invitee"],
            )
        )
        for number, status in enumerate(("not_sent", "sent", "opened", "declined", "failed", "sent")):
            db.session.add(Invitation(event_id=event.id, email=f"guest{number}@example.org", status=status))
        db.session.add(Invitation(event_id=other.id, email="x@example.org", status="declined"))
        db.session.commit()
        delegations = {"academy": academy.id, "institute": institute.id, "elsewhere": elsewhere.id}
    return {
        "event": event,
        "other": other,
        "ids": ids,
        "delegations": delegations,
        "organizer": make_account(app, "organizer@example.org", "organizer", events=[event]),
    }


def get(client, guests, path, **headers):
    return client.get(f"/api/v1/events/{guests['event'].slug}{path}", headers={**guests["organizer"], **headers})


def by_email(response) -> dict:
    return {item["email"]: item for item in response.get_json()["items"]}


def test_each_registration_carries_its_delegation_focal_point_and_invitation(client, guests):
    response = get(client, guests, "/registrations")
    check(response, "/events/{slug}/registrations", 200)
    items = by_email(response)
    academy = {"id": guests["delegations"]["academy"], "name": "Russian Academy of Sciences"}
    assert (items["focal@example.org"]["delegation"], items["focal@example.org"]["is_focal_point"]) == (academy, True)
    assert (items["member@example.org"]["delegation"], items["member@example.org"]["is_focal_point"]) == (
        academy,
        False,
    )
    assert items["invitee@example.org"]["invitation_status"] == "registered"
    assert items["loner@example.org"]["delegation"] is None
    assert items["loner@example.org"]["invitation_status"] is None
    assert not items["loner@example.org"]["is_focal_point"]


def test_a_category_is_its_code_with_the_label_in_the_readers_language(client, guests):
    english = by_email(get(client, guests, "/registrations"))
    assert (english["member@example.org"]["category"], english["member@example.org"]["category_label"]) == (
        "delegate",
        "Delegate",
    )
    # The event's own category, with the organizers' labels.
    assert (english["loner@example.org"]["category"], english["loner@example.org"]["category_label"]) == (
        "keynote",
        "Keynote",
    )
    french = by_email(get(client, guests, "/registrations", **{"Accept-Language": "fr"}))
    assert (french["member@example.org"]["category"], french["member@example.org"]["category_label"]) == (
        "delegate",
        "Délégué",
    )
    assert french["loner@example.org"]["category_label"] == "Conférence"


def test_the_description_gives_categories_as_codes_not_a_fixed_list():
    category = SPEC["components"]["schemas"]["Category"]
    assert category["type"] == "string" and "enum" not in category


def test_the_delegation_list_counts_members(client, guests):
    response = get(client, guests, "/delegations")
    check(response, "/events/{slug}/delegations", 200)
    items = response.get_json()["items"]
    assert [item["name"] for item in items] == ["Académie des sciences", "Russian Academy of Sciences"]
    institute, academy = items
    assert institute == {
        "id": guests["delegations"]["institute"],
        "name": "Académie des sciences",
        "country": None,
        "quota": 5,
        "registered": 0,
        "focal_points": 0,
        "confirmed": 0,
        "checked_in": 0,
    }
    assert (academy["country"], academy["quota"]) == ("RU", 3)
    # Active members: the confirmed one and the pending one (the focal point leads, the cancelled one left).
    assert (academy["registered"], academy["focal_points"], academy["confirmed"], academy["checked_in"]) == (
        2,
        1,
        2,
        1,
    )


def test_the_invitation_counts_are_the_dashboards(client, guests):
    response = get(client, guests, "/invitation-counts")
    check(response, "/events/{slug}/invitation-counts", 200)
    assert response.get_json() == {
        "invited": 7,
        "registered": 1,
        "declined": 1,
        "not_answered": 5,
        "by_status": {"not_sent": 1, "sent": 2, "opened": 1, "registered": 1, "declined": 1, "failed": 1},
    }


@pytest.mark.parametrize("path", ["/delegations", "/invitation-counts"])
def test_another_organizers_event_is_refused(client, guests, path):
    response = client.get(f"/api/v1/events/{guests['other'].slug}{path}", headers=guests["organizer"])
    check(response, f"/events/{{slug}}{path}", 403)


def test_an_event_says_who_may_register(app, client, guests):
    with app.app_context():
        db.session.get(Event, guests["event"].id).admission = "invitation"
        db.session.commit()
    body = get(client, guests, "").get_json()
    assert body["admission"] == "invitation"
    assert body["links"]["delegations"].endswith("/delegations")


def test_registrations_filter_by_delegation(client, guests):
    academy = guests["delegations"]["academy"]

    def emails(query):
        response = get(client, guests, f"/registrations?{query}")
        check(response, "/events/{slug}/registrations", 200)
        return sorted(item["email"] for item in response.get_json()["items"])

    assert emails(f"delegation={academy}") == sorted(
        f"{name}@example.org" for name in ("focal", "member", "pending", "gone")
    )
    assert emails("delegation=none") == ["invitee@example.org", "loner@example.org"]
    assert emails(f"delegation={guests['delegations']['institute']}") == []


@pytest.mark.parametrize("value", ["academy", "-1", "0", "1.5"])
def test_a_delegation_that_is_no_id_answers_400(client, guests, value):
    response = get(client, guests, f"/registrations?delegation={value}")
    check(response, "/events/{slug}/registrations", 400)
    assert any("delegation=" in problem for problem in response.get_json()["problems"])
