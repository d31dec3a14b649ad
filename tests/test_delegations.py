"""The organizers' delegations: the list and its counts from one query, create/edit/delete with their refusals,
focal points and members from registrations and invitations, audit entries; and the quota under the event lock
when two focal points take the last place at once on PostgreSQL."""

import html
import re
import threading

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select, update

from eventreg.delegations.services import delegation_rows
from eventreg.extensions import db
from eventreg.models import AuditEntry, Delegation, Event, Invitation, Registration, utcnow
from eventreg.registration.services import Membership, QuotaReached, register_delegate
from tests.conftest import POSTGRES_URL, create_test_event, delegate, drop_tables, make_app, require_postgresql
from tests.test_focal_point import make_delegation, make_focal_point


def add_member(app, event, delegation_id, email, *, status=None, checked_in=False) -> int:
    """A member's registration in the delegation (the quota not checked), with a status and check-in set."""
    with app.app_context():
        registration = register_delegate(
            event.id, delegate(email=email), language="en", membership=Membership(delegation_id=delegation_id)
        )
        changes = {}
        if status:
            changes["status"] = status
        if checked_in:
            changes["checked_in_at"] = utcnow()
        if changes:
            db.session.execute(update(Registration).where(Registration.id == registration.id).values(**changes))
            db.session.commit()
        return registration.id


def table_rows(page) -> dict[str, list[str]]:
    """The delegations table: name → its cells' texts."""
    rows = {}
    for row in re.findall(r"<tr data-delegation=.*?</tr>", page.text, re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("delegation.%"))))


def test_the_list_counts_each_delegation_from_one_query(app, logged_in):
    event = create_test_event(app, capacity=100)
    academy = make_delegation(app, event, "Russian Academy of Sciences", quota=5)
    athens = make_delegation(app, event, "Academy of Athens", quota=2, country="GR")
    make_delegation(app, event, "Royal Society", quota=0, country="GB")
    make_focal_point(app, event, academy)
    add_member(app, event, academy, "a@example.org", checked_in=True)
    add_member(app, event, academy, "b@example.org", status="pending")
    add_member(app, event, academy, "c@example.org", status="cancelled")
    add_member(app, event, athens, "d@example.org", status="waitlisted")

    page = logged_in.get(f"/organizer/events/{event.slug}/delegations")
    assert page.status_code == 200
    # quota, registered (active members besides focal points), focal points, confirmed, checked in
    assert table_rows(page) == {
        "Academy of Athens": ["Greece", "2", "1", "0", "0", "0"],
        "Royal Society": ["United Kingdom", "0", "0", "0", "0", "0"],
        "Russian Academy of Sciences": ["Russia", "5", "2", "1", "2", "1"],
    }

    statements = []
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sqlalchemy_event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rows = delegation_rows(loaded)
        finally:
            sqlalchemy_event.remove(db.engine, "before_cursor_execute", listener)
    assert len(rows) == 3
    assert len(rows) == 3 and [s for s in statements if s.startswith("SELECT")] == [statements[-1]]
    assert "GROUP BY" in statements[-1]


def test_organizers_create_edit_and_delete_a_delegation(app, logged_in):
    event = create_test_event(app)
    base = f"/organizer/events/{event.slug}/delegations"
    response = logged_in.post(base, data={"name": "Russian Academy of Sciences", "country": "RU", "quota": "3"})
    assert response.status_code == 302
    with app.app_context():
        delegation = db.session.scalar(select(Delegation))
        assert (delegation.name, delegation.country, delegation.quota) == ("Russian Academy of Sciences", "RU", 3)
        delegation_id = delegation.id
    assert response.headers["Location"] == f"{base}/{delegation_id}"

    response = logged_in.post(f"{base}/{delegation_id}", data={"name": "RAS", "country": "", "quota": "4"})
    assert response.status_code == 302
    with app.app_context():
        delegation = db.session.get(Delegation, delegation_id)
        assert (delegation.name, delegation.country, delegation.quota) == ("RAS", "", 4)

    assert logged_in.post(f"{base}/{delegation_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Delegation, delegation_id) is None
    assert audit_actions(app) == ["delegation.created", "delegation.updated", "delegation.deleted"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "country": "", "quota": "1"}, "Please fill in this field."),
        ({"name": "X", "country": "", "quota": "-1"}, "Please give a number from 0 to 10,000."),
        ({"name": "X", "country": "", "quota": "many"}, "Please give a number from 0 to 10,000."),
        ({"name": "X", "country": "ZZ", "quota": "1"}, "Not a valid choice."),
        ({"name": "royal society", "country": "", "quota": "1"}, "This event already has a delegation of this name."),
    ],
)
def test_a_bad_delegation_is_refused_with_a_message(app, logged_in, data, message):
    event = create_test_event(app)
    make_delegation(app, event, "Royal Society")
    response = logged_in.post(f"/organizer/events/{event.slug}/delegations", data=data)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    with app.app_context():
        assert len(db.session.scalars(select(Delegation)).all()) == 1


def test_a_delegation_with_registrations_is_not_deleted(app, logged_in):
    event = create_test_event(app)
    delegation_id = make_delegation(app, event)
    add_member(app, event, delegation_id, "a@example.org")
    response = logged_in.post(
        f"/organizer/events/{event.slug}/delegations/{delegation_id}/delete", follow_redirects=True
    )
    assert "Only a delegation without registrations or invitations can be deleted." in response.text
    with app.app_context():
        assert db.session.get(Delegation, delegation_id) is not None


def test_organizers_find_a_registration_and_make_it_a_focal_point_then_remove_it(app, logged_in, client):
    event = create_test_event(app)
    delegation_id = make_delegation(app, event)
    with app.app_context():
        registration = register_delegate(event.id, delegate(email="irina@example.org", given_name="Irina"), "en")
        registration_id, token = registration.id, registration.token
    assert client.get(f"/r/{token}/delegation").status_code == 404
    page_url = f"/organizer/events/{event.slug}/delegations/{delegation_id}"

    found = logged_in.get(page_url, query_string={"q": "irina"})
    assert "irina@example.org" in found.text
    response = logged_in.post(f"{page_url}/members", data={"id": str(registration_id), "focal": "y"})
    assert response.status_code == 302
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        assert (registration.delegation_id, registration.is_focal_point) == (delegation_id, True)
    assert client.get(f"/r/{token}/delegation").status_code == 200  # their section opens now

    response = logged_in.post(f"{page_url}/members/{registration_id}/remove")
    assert response.status_code == 302
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        assert (registration.delegation_id, registration.is_focal_point, registration.status) == (
            None,
            False,
            "confirmed",
        )
    assert client.get(f"/r/{token}/delegation").status_code == 404
    assert audit_actions(app) == ["delegation.member_added", "delegation.member_removed"]


def test_organizers_mark_an_invitation_as_a_focal_point(app, logged_in):
    event = create_test_event(app)
    delegation_id = make_delegation(app, event)
    with app.app_context():
        invitation = Invitation(event_id=event.id, email="lead@example.org", given_name="Lead", family_name="Person")
        db.session.add(invitation)
        db.session.commit()
        invitation_id = invitation.id
    page_url = f"/organizer/events/{event.slug}/delegations/{delegation_id}"
    assert "lead@example.org" in logged_in.get(page_url, query_string={"q": "lead"}).text
    assert logged_in.post(f"{page_url}/invitations", data={"id": str(invitation_id), "focal": "y"}).status_code == 302
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        assert (invitation.delegation_id, invitation.is_focal_point) == (delegation_id, True)
    assert logged_in.post(f"{page_url}/invitations/{invitation_id}/remove").status_code == 302
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        assert (invitation.delegation_id, invitation.is_focal_point) == (None, False)


def test_another_events_delegation_and_registration_are_404(app, logged_in):
    event, other = create_test_event(app), create_test_event(app, title="Closing Ceremony")
    delegation_id = make_delegation(app, event)
    foreign = make_delegation(app, other, "Foreign")
    with app.app_context():
        stranger = register_delegate(other.id, delegate(email="x@example.org"), "en").id
    assert logged_in.get(f"/organizer/events/{event.slug}/delegations/{foreign}").status_code == 404
    page_url = f"/organizer/events/{event.slug}/delegations/{delegation_id}"
    assert logged_in.post(f"{page_url}/members", data={"id": str(stranger)}).status_code == 404
    assert logged_in.post(f"{page_url}/members", data={"id": "abc"}).status_code == 404


def test_an_organizer_of_other_events_may_not_see_the_delegations(app, client, make_organizer):
    event = create_test_event(app)
    email, password = make_organizer(email="someone@example.org", role="organizer")
    client.post("/auth/login", data={"email": email, "password": password})
    assert client.get(f"/organizer/events/{event.slug}/delegations").status_code == 403


def test_the_quota_counts_members_but_not_focal_points(app):
    event = create_test_event(app)
    delegation_id = make_delegation(app, event, quota=1)
    make_focal_point(app, event, delegation_id)
    with app.app_context():
        membership = Membership(delegation_id=delegation_id, quota=1)
        register_delegate(event.id, delegate(email="one@example.org"), "en", membership=membership)
        with pytest.raises(QuotaReached):
            register_delegate(event.id, delegate(email="two@example.org"), "en", membership=membership)


def race_for_places(app, event_id: int, delegation_id: int, emails: list[str]) -> list[str]:
    """Register each address as a member from its own thread, all at once; what each attempt ended with."""
    outcomes, start = [], threading.Barrier(len(emails))

    def attempt(email):
        with app.app_context():
            start.wait()
            try:
                membership = Membership(delegation_id=delegation_id, quota=3)
                register_delegate(event_id, delegate(email=email), "en", membership=membership)
                outcomes.append("registered")
            except QuotaReached:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def postgres_app(tmp_path):
    require_postgresql().dispose()
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=POSTGRES_URL)
    yield app
    drop_tables(app)


def test_two_focal_points_taking_the_last_place_at_once_leave_exactly_one_member_on_postgresql(postgres_app):
    app = postgres_app
    event = create_test_event(app, capacity=100)
    delegation_id = make_delegation(app, event, quota=3)
    make_focal_point(app, event, delegation_id)
    make_focal_point(app, event, delegation_id, email="second.lead@example.org")
    for number in range(2):
        add_member(app, event, delegation_id, f"m{number}@example.org")
    for round_number in range(3):  # a race may go one way by chance: each round starts with one place left
        emails = [f"race{round_number}a@example.org", f"race{round_number}b@example.org"]
        assert sorted(race_for_places(app, event.id, delegation_id, emails)) == ["refused", "registered"]
        with app.app_context():
            members = select(Registration).where(
                Registration.delegation_id == delegation_id, Registration.is_focal_point.is_(False)
            )
            active = [r for r in db.session.scalars(members) if r.status == "confirmed"]
            assert len(active) == 3
            # Free the place again for the next round.
            db.session.execute(update(Registration).where(Registration.email.in_(emails)).values(status="cancelled"))
            db.session.commit()
