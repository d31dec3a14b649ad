"""The organizers' invitation pages: invite one person, the list's counts and filters, sending the ticked ones."""

import re

import pytest
from sqlalchemy import func, select

from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.invitations.importing import preview_import
from eventreg.invitations.services import InviteeDetails, invite
from eventreg.models import AuditEntry, Delegation, Invitation, OutboxMessage
from eventreg.models.guests import InvitationStatus
from tests.browser import log_in
from tests.conftest import create_test_event
from tests.test_accessibility import violations


def list_url(event, **args) -> str:
    query = "&".join(f"{name}={value}" for name, value in args.items())
    return f"/organizer/events/{event.slug}/invitations" + (f"?{query}" if query else "")


def status_counts(html: str) -> dict[str, int]:
    return {status: int(n) for status, n in re.findall(r'data-status="([a-z_]*)">(\d+)<', html)}


def listed(html: str) -> list[str]:
    return re.findall(r'<span class="hint" dir="ltr">([^<]+)</span>', html)


@pytest.fixture
def guest_list(app, make_event):
    """An event with four invitations: two in a delegation, one declined, one registered."""
    event = make_event()
    with app.test_request_context():
        for email, name, delegation in [
            ("wei.zhang@example.org", "Zhang", "Chinese Academy of Sciences"),
            ("li.na@example.org", "Li", "Chinese Academy of Sciences"),
            ("marie.curie@example.org", "Curie", None),
            ("ada.lovelace@example.org", "Lovelace", None),
        ]:
            invite(event.id, InviteeDetails(email=email, family_name=name, delegation=delegation))
        statuses = {"marie.curie@example.org": InvitationStatus.DECLINED, "li.na@example.org": InvitationStatus.SENT}
        for invitation in db.session.scalars(select(Invitation)):
            invitation.status = statuses.get(invitation.email, invitation.status)
        db.session.commit()
    return event


def test_the_list_counts_each_status_and_filters_by_it(logged_in, guest_list):
    page = logged_in.get(list_url(guest_list))
    assert page.status_code == 200
    assert status_counts(page.text) == {
        "": 4, "not_sent": 2, "sent": 1, "opened": 0, "registered": 0, "declined": 1, "failed": 0,
    }  # fmt: skip
    assert sorted(listed(page.text)) == [
        "ada.lovelace@example.org", "li.na@example.org", "marie.curie@example.org", "wei.zhang@example.org",
    ]  # fmt: skip
    page = logged_in.get(list_url(guest_list, status="not_sent"))
    assert sorted(listed(page.text)) == ["ada.lovelace@example.org", "wei.zhang@example.org"]


def test_the_list_searches_names_and_addresses_and_filters_by_delegation(app, logged_in, guest_list):
    assert listed(logged_in.get(list_url(guest_list, q="CURIE")).text) == ["marie.curie@example.org"]
    assert listed(logged_in.get(list_url(guest_list, q="lovelace@")).text) == ["ada.lovelace@example.org"]
    with app.app_context():
        delegation_id = db.session.scalar(select(Delegation.id))
    page = logged_in.get(list_url(guest_list, delegation=delegation_id))
    assert sorted(listed(page.text)) == ["li.na@example.org", "wei.zhang@example.org"]
    # The counts follow the other filters, whatever status is chosen.
    page = logged_in.get(list_url(guest_list, delegation=delegation_id, status="declined"))
    assert status_counts(page.text)["not_sent"] == 1 and status_counts(page.text)[""] == 2
    assert listed(page.text) == []
    assert "No invitation matches." in page.text


def test_the_list_is_paginated(app, logged_in, make_event):
    app.config["REGISTRATIONS_PER_PAGE"] = 2
    event = make_event()
    with app.test_request_context():
        for n in range(5):
            invite(event.id, InviteeDetails(email=f"guest{n}@example.org", family_name=f"Guest {n}"))
    assert listed(logged_in.get(list_url(event, page=3)).text) == ["guest4@example.org"]
    assert "Page 3 of 3" in logged_in.get(list_url(event, page=3)).text


def test_an_organizer_invites_one_person_and_the_same_address_is_refused(app, logged_in, make_event):
    event = make_event()
    form = {
        "email": "wei.zhang@example.org", "given_name": "Wei", "family_name": "Zhang", "country": "CN",
        "category": "speaker", "language": "zh_Hans", "delegation": "Chinese Academy of Sciences",
        "is_focal_point": "y", "skip_approval": "y",
    }  # fmt: skip
    response = logged_in.post(list_url(event) + "/new", data=form)
    assert response.status_code == 302
    page = logged_in.get(response.location)
    assert "Wei Zhang" in page.text and "Chinese Academy of Sciences" in page.text
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        assert (invitation.category, invitation.language, invitation.is_focal_point) == ("speaker", "zh_Hans", True)
        assert invitation.status == "not_sent"
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action.like("invitation.%"))) == (
            "invitation.created"
        )
    response = logged_in.post(list_url(event) + "/new", data={**form, "email": "Wei.Zhang@Example.org"})
    assert response.status_code == 200
    assert "This address is already invited to this event" in response.text
    assert f"/invitations/{invitation.id}" in response.text  # a link to the existing invitation


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-address", "@ sign"),
        ("category", "astronaut", "Not a valid choice"),
        ("country", "XX", "Not a valid choice"),
        ("is_focal_point", "y", "A focal point needs a delegation."),
    ],
)
def test_an_invitation_with_bad_details_is_refused_with_a_message(logged_in, make_event, field, value, message):
    event = make_event()
    response = logged_in.post(list_url(event) + "/new", data={"email": "wei.zhang@example.org", field: value})
    assert response.status_code == 200
    assert message in response.text


def test_an_organizer_corrects_an_invitation(app, logged_in, guest_list):
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id).where(Invitation.email == "wei.zhang@example.org"))
    url = list_url(guest_list) + f"/{invitation_id}/edit"
    page = logged_in.get(url)
    assert 'value="Chinese Academy of Sciences"' in page.text
    response = logged_in.post(url, data={"email": "wei.zhang@example.org", "family_name": "Zhang", "delegation": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).delegation_id is None


def test_sending_the_ticked_invitations_queues_their_mails(app, logged_in, guest_list):
    with app.app_context():
        ids = dict(db.session.execute(select(Invitation.email, Invitation.id)).all())
    ticked = [ids["wei.zhang@example.org"], ids["marie.curie@example.org"]]
    response = logged_in.post(list_url(guest_list) + "/send", data={"ids": ticked, "status": "not_sent"})
    assert response.location.endswith(list_url(guest_list, status="not_sent"))
    page = logged_in.get(response.location)
    assert "1 invitation mail is queued." in page.text  # the declined invitee is left alone
    assert page.text.count('class="hint queued"') == 1
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage)).all()
        assert [(m.kind, m.recipient, m.invitation_id) for m in messages] == [
            ("invitation", "wei.zhang@example.org", ids["wei.zhang@example.org"])
        ]
        # The status changes when the worker delivers it, not when it is queued.
        assert db.session.get(Invitation, ids["wei.zhang@example.org"]).status == "not_sent"
    response = logged_in.post(list_url(guest_list) + "/send", data={})
    assert "Please tick at least one invitation." in logged_in.get(response.location).text


def test_one_invitation_is_sent_again_from_its_page(app, logged_in, guest_list):
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id).where(Invitation.email == "li.na@example.org"))
    url = list_url(guest_list) + f"/{invitation_id}"
    assert "Send the invitation</button>" in logged_in.get(url).text
    logged_in.post(url + "/send")
    page = logged_in.get(url)
    assert "Send the invitation again" in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_another_events_invitation_is_not_found(app, logged_in, guest_list, make_event):
    other = make_event(title="Another ceremony")
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    assert logged_in.get(list_url(other) + f"/{invitation_id}").status_code == 404


def test_the_invitation_pages_need_a_login(client, make_event):
    event = make_event()
    for url in (list_url(event), list_url(event) + "/new", list_url(event) + "/import"):
        assert client.get(url).status_code == 302


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}, {"width": 1280, "height": 900}])
def test_the_invitation_pages_have_no_axe_violations(live_server, browser_page, viewport):
    app, base_url = live_server
    page = browser_page
    page.set_viewport_size(viewport)
    event = create_test_event(app)
    with app.test_request_context():
        create_organizer("admin@example.org", "correct horse battery", "admin")
        invitation = invite(
            event.id, InviteeDetails(email="wei.zhang@example.org", family_name="Zhang", delegation="CAS")
        )
        preview = preview_import(event.id, "guests.csv", b"email,country\nli.na@example.org,FR\nbad,XX\n")
        invitation_id, import_id = invitation.id, preview.id
    log_in(page, base_url, "admin@example.org", "correct horse battery")
    base = f"/organizer/events/{event.slug}/invitations"
    checked = {}
    for name, path in [
        ("list", base),
        ("one invitation", f"{base}/{invitation_id}"),
        ("invite one", f"{base}/new"),
        ("edit", f"{base}/{invitation_id}/edit"),
        ("import", f"{base}/import"),
        ("preview", f"{base}/import/{import_id}"),
    ]:
        page.goto(base_url + path)
        checked[name] = violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
    assert {name: found for name, found in checked.items() if found} == {}
