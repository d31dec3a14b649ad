"""The focal point's delegation section behind their private link: members registered up to the quota, each with
their own confirmation naming the focal point; an address already registered neither attached nor revealed but
offered to join; leaving; and nothing of another delegation."""

import email
import email.policy
import html
import re

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import AuditEntry, Delegation, OutboxMessage, Registration
from eventreg.registration.services import Membership, register_delegate
from tests.conftest import create_test_event, delegate, register_test_delegate
from tests.test_registration import VALID
from tests.test_self_service import composed


def make_delegation(app, event, name="Russian Academy of Sciences", quota=3, country="RU") -> int:
    """A delegation of the event; returns its id."""
    with app.app_context():
        delegation = Delegation(event_id=event.id, name=name, country=country, quota=quota)
        db.session.add(delegation)
        db.session.commit()
        return delegation.id


def make_focal_point(app, event, delegation_id, **fields) -> tuple[int, str]:
    """A focal point's registration in the delegation; returns its id and private token."""
    values = {"given_name": "Irina", "family_name": "Petrova", "native_name": "", "email": "irina@example.org"}
    values.update(fields)
    with app.app_context():
        membership = Membership(delegation_id=delegation_id, is_focal_point=True)
        registration = register_delegate(event.id, delegate(**values), language="en", membership=membership)
        return registration.id, registration.token


def member_form(email_address: str, **changes) -> dict:
    """The member form as the browser sends it."""
    data = {**VALID, "email": email_address, "given_name": email_address.split("@")[0], **changes}
    return {key: value for key, value in data.items() if value is not None}


def members(app, delegation_id) -> list[tuple[str, str, bool]]:
    """(email, status, is_focal_point) of every registration of the delegation, by id."""
    with app.app_context():
        query = select(Registration).where(Registration.delegation_id == delegation_id).order_by(Registration.id)
        return [(r.email, r.status, r.is_focal_point) for r in db.session.scalars(query)]


def shown(response) -> str:
    """A page's text without its tags (names are isolated in <bdi>)."""
    return re.sub(r"<[^>]+>", "", response.text)


def flashes(response) -> list[str]:
    """The messages flashed on a page."""
    return [html.unescape(text) for text in re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.text)]


def setup(app, quota=3):
    event = create_test_event(app, capacity=50)
    delegation_id = make_delegation(app, event, quota=quota)
    focal_id, token = make_focal_point(app, event, delegation_id)
    return event, delegation_id, focal_id, token


def test_a_focal_point_registers_three_members_under_a_quota_of_three_and_is_refused_the_fourth(app, client):
    _event, delegation_id, _focal_id, token = setup(app, quota=3)
    page = client.get(f"/r/{token}/delegation")
    assert page.status_code == 200
    assert "Russian Academy of Sciences" in page.text and "3 are left" in page.text

    for number in range(3):
        response = client.post(f"/r/{token}/delegation", data=member_form(f"m{number}@example.org"))
        assert response.status_code == 302, response.text
        assert response.headers["Location"] == f"/r/{token}/delegation"
    refused = client.post(f"/r/{token}/delegation", data=member_form("m3@example.org"))
    assert refused.status_code == 400
    assert "Your delegation may register 3 people, and every place is taken." in refused.text

    assert members(app, delegation_id) == [
        ("irina@example.org", "confirmed", True),
        *[(f"m{n}@example.org", "confirmed", False) for n in range(3)],
    ]
    page = client.get(f"/r/{token}/delegation")
    assert "3 places are taken, 0 are left." in page.text
    for number in range(3):
        assert f"m{number}@example.org".split("@")[0] in page.text


def test_each_member_gets_their_own_confirmation_naming_the_focal_point(app, client):
    _event, _delegation_id, _focal_id, token = setup(app)
    client.post(f"/r/{token}/delegation", data=member_form("olga@example.org"))
    with app.app_context():
        member = db.session.scalar(select(Registration).where(Registration.email == "olga@example.org"))
        member_id, member_token = member.id, member.token
    [mail] = composed(app, member_id, "confirmation")
    assert mail.recipients == [("olga", "olga@example.org")] or mail.recipients[0][1] == "olga@example.org"
    assert "Irina Petrova registered you as a member of the delegation Russian Academy of Sciences." in mail.body
    assert f"/r/{member_token}/delegation/leave" in mail.body
    assert f"/r/{member_token}" in mail.body and token not in mail.body  # their own link, not the focal point's


def test_a_focal_point_edits_and_cancels_a_member_and_the_member_keeps_their_own_link(app, client):
    _event, delegation_id, _focal_id, token = setup(app)
    client.post(f"/r/{token}/delegation", data=member_form("olga@example.org"))
    with app.app_context():
        member = db.session.scalar(select(Registration).where(Registration.email == "olga@example.org"))
        member_id, member_token = member.id, member.token
    edit = {key: value for key, value in member_form("olga@example.org", dietary="Vegan").items() if key != "email"}
    response = client.post(f"/r/{token}/delegation/members/{member_id}/edit", data=edit)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Registration, member_id).dietary == "Vegan"

    # The member changes their own registration through their own link, as anyone can.
    own = client.post(f"/r/{member_token}/edit", data={**edit, "dietary": "Vegetarian"})
    assert own.status_code == 302
    with app.app_context():
        assert db.session.get(Registration, member_id).dietary == "Vegetarian"
    page = client.get(f"/r/{member_token}")
    assert "You are a member of the delegation Russian Academy of Sciences." in shown(page)

    response = client.post(f"/r/{token}/delegation/members/{member_id}/cancel")
    assert response.status_code == 302
    assert members(app, delegation_id)[1] == ("olga@example.org", "cancelled", False)
    kinds = [kind for (kind,) in _kinds(app, member_id)]
    assert kinds == ["confirmation", "changed", "changed", "cancelled"]


def _kinds(app, registration_id):
    with app.app_context():
        query = select(OutboxMessage.kind).where(OutboxMessage.registration_id == registration_id)
        return db.session.execute(query.order_by(OutboxMessage.id)).all()


def test_an_address_already_registered_is_neither_attached_nor_revealed_and_joins_only_on_accepting(app, client):
    event, delegation_id, _focal_id, token = setup(app)
    existing_id, existing_token = register_test_delegate(app, event, email="ahmed@example.org", given_name="Ahmed")

    new = client.post(f"/r/{token}/delegation", data=member_form("new@example.org"))
    answers = [flashes(client.get(new.headers["Location"]))]
    taken = client.post(f"/r/{token}/delegation", data=member_form("Ahmed@Example.org"))
    answers.append(flashes(client.get(taken.headers["Location"])))
    assert (new.status_code, new.headers["Location"]) == (taken.status_code, taken.headers["Location"])
    assert answers[0] == [
        "A mail was sent to new@example.org. It holds the member's own private link, with which they "
        "see and change their registration."
    ]
    assert answers[1] == [answers[0][0].replace("new@example.org", "Ahmed@example.org")]  # the same answer
    assert [email for email, _status, _focal in members(app, delegation_id)] == ["irina@example.org", "new@example.org"]

    [offer] = composed(app, existing_id, "delegation_join")
    assert "Irina Petrova, focal point of the delegation Russian Academy of Sciences" in offer.body
    join_path = re.search(r"https?://[^/\s]+(/r/[\w-]+/delegation/join/[\w.-]+)", offer.body)[1]
    assert join_path.startswith(f"/r/{existing_token}/")

    question = client.get(join_path)
    assert question.status_code == 200
    assert "Join the delegation Russian Academy of Sciences?" in shown(question)
    assert "Irina Petrova" in question.text
    assert "ahmed@example.org" not in [m[0] for m in members(app, delegation_id)]  # opening it attaches nothing

    accepted = client.post(join_path)
    assert accepted.status_code == 302
    assert ("ahmed@example.org", "confirmed", False) in members(app, delegation_id)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "delegation.joined"))
        assert (entry.registration_id, entry.actor, entry.after) == (
            existing_id,
            "delegate",
            {"delegation_id": delegation_id},
        )


def test_a_join_link_opens_only_through_its_own_registration_and_within_the_quota(app, client):
    event, delegation_id, _focal_id, token = setup(app, quota=1)
    existing_id, existing_token = register_test_delegate(app, event, email="ahmed@example.org")
    _other_id, other_token = register_test_delegate(app, event, email="other@example.org")
    client.post(f"/r/{token}/delegation", data=member_form("ahmed@example.org"))
    [offer] = composed(app, existing_id, "delegation_join")
    key = re.search(r"/delegation/join/([\w.-]+)", offer.body)[1]
    assert client.get(f"/r/{other_token}/delegation/join/{key}").status_code == 404
    assert client.get(f"/r/{existing_token}/delegation/join/{key}x").status_code == 404

    client.post(f"/r/{token}/delegation", data=member_form("first@example.org"))  # takes the only place
    refused = client.post(f"/r/{existing_token}/delegation/join/{key}")
    assert refused.status_code == 409
    assert "every place is taken" in refused.text or "that place is taken" in refused.text
    assert "ahmed@example.org" not in [m[0] for m in members(app, delegation_id)]


def test_a_member_leaves_the_delegation_and_a_focal_point_cannot(app, client):
    _event, delegation_id, focal_id, token = setup(app)
    client.post(f"/r/{token}/delegation", data=member_form("olga@example.org"))
    with app.app_context():
        member = db.session.scalar(select(Registration).where(Registration.email == "olga@example.org"))
        member_id, member_token = member.id, member.token
    question = client.get(f"/r/{member_token}/delegation/leave")
    assert "Leave the delegation Russian Academy of Sciences?" in shown(question)
    assert members(app, delegation_id)[1][0] == "olga@example.org"  # opening the page changes nothing
    response = client.post(f"/r/{member_token}/delegation/leave")
    assert response.status_code == 302 and response.headers["Location"] == f"/r/{member_token}"
    with app.app_context():
        member = db.session.get(Registration, member_id)
        assert (member.delegation_id, member.status) == (None, "confirmed")
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "delegation.left"))

    client.post(f"/r/{token}/delegation/leave")
    with app.app_context():
        assert db.session.get(Registration, focal_id).delegation_id == delegation_id


def test_a_focal_point_sees_nothing_of_another_delegation(app, client):
    event, _delegation_id, _focal_id, token = setup(app)
    other_id = make_delegation(app, event, name="Academy of Athens", country="GR")
    _other_focal, other_token = make_focal_point(app, event, other_id, email="nikos@example.org", given_name="Nikos")
    client.post(f"/r/{other_token}/delegation", data=member_form("eleni@example.org"))
    client.get(f"/r/{other_token}/delegation")  # its answer shown there
    with app.app_context():
        eleni = db.session.scalar(select(Registration).where(Registration.email == "eleni@example.org")).id

    page = client.get(f"/r/{token}/delegation")
    assert "Academy of Athens" not in page.text and "eleni" not in page.text
    assert client.get(f"/r/{token}/delegation/members/{eleni}/edit").status_code == 404
    assert client.post(f"/r/{token}/delegation/members/{eleni}/cancel").status_code == 404
    assert (
        client.post(f"/r/{token}/delegation/members/{eleni}/edit", data=member_form("x@example.org")).status_code == 404
    )
    assert members(app, other_id)[1] == ("eleni@example.org", "confirmed", False)
    assert 'name="quota"' not in page.text  # no control over the quota

    # A plain delegate's link, and a member's, open no delegation section.
    _id, plain = register_test_delegate(app, event, email="plain@example.org")
    assert client.get(f"/r/{plain}/delegation").status_code == 404
    with app.app_context():
        eleni_token = db.session.get(Registration, eleni).token
    assert client.get(f"/r/{eleni_token}/delegation").status_code == 404
    assert client.get("/r/not-a-real-token-at-all/delegation").status_code == 404


def test_members_join_the_waiting_list_when_the_event_is_full(app, client):
    event = create_test_event(app, capacity=2)
    delegation_id = make_delegation(app, event, quota=3)
    _focal_id, token = make_focal_point(app, event, delegation_id)
    for number in range(2):
        client.post(f"/r/{token}/delegation", data=member_form(f"m{number}@example.org", accompanying="0"))
    assert [status for _email, status, _focal in members(app, delegation_id)] == [
        "confirmed",
        "confirmed",
        "waitlisted",
    ]


def test_the_member_mail_names_the_focal_point_through_a_real_smtp_server(smtp_app, smtp_server):
    app = smtp_app
    event = create_test_event(app)
    delegation_id = make_delegation(app, event)
    _focal_id, token = make_focal_point(app, event, delegation_id)
    client = app.test_client()
    assert client.post(f"/r/{token}/delegation", data=member_form("olga@example.org")).status_code == 302
    with app.app_context():
        deliver_due()
    sent = {
        envelope.rcpt_tos[0]: email.message_from_bytes(envelope.content, policy=email.policy.default)
        for envelope in smtp_server.envelopes
    }
    message = sent["olga@example.org"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Irina Petrova registered you as a member of the delegation Russian Academy of Sciences." in text
    assert "Irina Petrova registered you as a member" in html
    assert re.search(r"https://register\.example\.org/r/[\w-]+/delegation/leave", text)
    assert any(
        part.get_content_type() == "text/calendar" or "ticket" in (part.get_filename() or "") for part in message.walk()
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"consent": None}, "Please confirm that this person agreed to share their details."),
        ({"email": "not-an-address"}, "An email address needs an @ sign"),
        ({"category": "speaker"}, "This category is assigned by the organizers"),
        ({"given_name": ""}, "Please fill in this field."),
    ],
)
def test_a_bad_member_is_refused_with_a_message_and_nothing_is_written(app, client, changes, message):
    _event, delegation_id, _focal_id, token = setup(app)
    response = client.post(f"/r/{token}/delegation", data=member_form("olga@example.org", **changes))
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert len(members(app, delegation_id)) == 1


def test_a_focal_point_registers_members_of_an_event_by_invitation(app, client):
    event = create_test_event(app, admission="invitation")
    delegation_id = make_delegation(app, event)
    _focal_id, token = make_focal_point(app, event, delegation_id)
    assert client.post(f"/r/{token}/delegation", data=member_form("olga@example.org")).status_code == 302
    assert [email for email, _status, _focal in members(app, delegation_id)] == [
        "irina@example.org",
        "olga@example.org",
    ]


def test_a_cancelled_focal_point_has_no_section(app, client):
    _event, _delegation_id, _focal_id, token = setup(app)
    client.post(f"/r/{token}/cancel")
    assert client.get(f"/r/{token}/delegation").status_code == 404
