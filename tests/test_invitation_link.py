"""The invitee's personal link /i/<token>: the form pre-filled from the invitation, one POST to register, the
decline and the accept after it, what "link opened" means, and the page's language."""

import pytest

from eventreg.attendees.services import apply_action
from eventreg.extensions import db
from eventreg.models import AuditEntry, Invitation, Registration
from eventreg.registration.status import StatusAction
from tests.conftest import create_test_event, private_token


def make_invitation(app, event, **fields) -> tuple[int, str]:
    """Add an invitation to `event` (the organizers' import is not what these tests are about); its id and token."""
    values = {
        "email": "layla.haddad@example.org",
        "honorific": "Dr.",
        "given_name": "Layla",
        "family_name": "Haddad",
        "native_name": "ليلى حداد",
        "institution": "Royal Scientific Society",
        "position": "Director",
        "country": "JO",
    }
    values.update(fields)
    with app.app_context():
        invitation = Invitation(event_id=event.id, **values)
        db.session.add(invitation)
        db.session.commit()
        return invitation.id, invitation.token


def load(app, invitation_id) -> Invitation:
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        db.session.expunge(invitation)
        return invitation


def registration_of(app, invitation_id) -> Registration | None:
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        if invitation.registration_id is None:
            return None
        registration = db.session.get(Registration, invitation.registration_id)
        db.session.expunge(registration)
        return registration


def complete(**changes) -> dict:
    """What the invitee adds to the pre-filled form before pressing Register."""
    form = {
        "honorific": "Dr.",
        "given_name": "Layla",
        "family_name": "Haddad",
        "native_name": "ليلى حداد",
        "institution": "Royal Scientific Society",
        "position": "Director",
        "country": "JO",
        "category": "delegate",
        "accompanying": "0",
        "consent": "y",
    }
    form.update(changes)
    return form


@pytest.fixture
def invitation_event(app):
    return create_test_event(app, admission="invitation", requires_approval=True)


def test_the_link_shows_the_form_filled_with_what_the_organizers_know(app, client, invitation_event):
    _id, token = make_invitation(app, invitation_event)
    page = client.get(f"/i/{token}")
    assert page.status_code == 200
    text = page.text
    assert "Your invitation to" in text
    assert 'id="invited-email">layla.haddad@example.org<' in text
    assert 'name="email"' not in text  # the invited address, not an input
    assert 'value="Layla"' in text and 'value="Haddad"' in text and 'value="Royal Scientific Society"' in text
    assert '<option selected value="JO">' in text
    assert "register first, then change it from your private page" in text
    assert "Decline the invitation" in text


def test_one_post_registers_with_the_invitations_category_delegation_and_focal_flag(app, client, invitation_event):
    with app.app_context():
        from eventreg.models import Delegation

        delegation = Delegation(event_id=invitation_event.id, name="Royal Scientific Society", quota=3)
        db.session.add(delegation)
        db.session.commit()
        delegation_id = delegation.id
    invitation_id, token = make_invitation(
        app,
        invitation_event,
        category="speaker",
        delegation_id=delegation_id,
        is_focal_point=True,
        skip_approval=True,
    )
    page = client.get(f"/i/{token}")
    assert '<option selected value="speaker">Speaker</option>' in page.text  # fixed: the only choice
    opened_at = load(app, invitation_id).opened_at
    response = client.post(f"/i/{token}", data=complete(category="speaker"))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/e/{invitation_event.slug}/submitted"
    registration = registration_of(app, invitation_id)
    assert (registration.email, registration.category) == ("layla.haddad@example.org", "speaker")
    assert (registration.delegation_id, registration.is_focal_point) == (delegation_id, True)
    assert registration.status == "confirmed"  # skip_approval on an event that requires approval
    invitation = load(app, invitation_id)
    assert invitation.status == "registered" and invitation.answered_at is not None
    # The link now leads to the registration, and marks nothing as opened any more.
    again = client.get(f"/i/{token}")
    assert "You are registered for this event through this invitation." in again.text
    assert f'href="/r/{private_token(app, registration.id)}"' in again.text
    assert (load(app, invitation_id).status, load(app, invitation_id).opened_at) == ("registered", opened_at)


def test_without_skip_approval_the_registration_waits_for_approval(app, client, invitation_event):
    invitation_id, token = make_invitation(app, invitation_event)
    assert client.post(f"/i/{token}", data=complete()).status_code == 303
    assert registration_of(app, invitation_id).status == "pending"


def test_a_waitlisted_invitee_who_may_skip_approval_is_confirmed_when_a_seat_frees(app, client):
    event = create_test_event(app, admission="invitation", requires_approval=True, capacity=1)
    first_id, first_token = make_invitation(app, event, email="first@example.org")
    invitation_id, token = make_invitation(app, event, skip_approval=True)
    assert client.post(f"/i/{first_token}", data=complete()).status_code == 303  # pending: holds the one seat
    assert client.post(f"/i/{token}", data=complete()).status_code == 303
    assert registration_of(app, invitation_id).status == "waitlisted"
    with app.app_context():
        apply_action(event.id, registration_of(app, first_id).id, StatusAction.REJECT)
    assert registration_of(app, invitation_id).status == "confirmed"  # not pending: the invitation skips approval


def test_an_assigned_category_cannot_be_swapped_in_the_post(app, client, invitation_event):
    invitation_id, token = make_invitation(app, invitation_event, category="press")
    response = client.post(f"/i/{token}", data=complete(category="delegate"))
    assert response.status_code in (200, 303)  # refused on the form, or registered in the assigned category
    registration = registration_of(app, invitation_id)
    assert registration is None or registration.category == "press"


def test_opened_only_once_and_never_after_an_answer(app, client, invitation_event):
    invitation_id, token = make_invitation(app, invitation_event)
    client.get(f"/i/{token}")
    first = load(app, invitation_id)
    assert first.status == "opened" and first.opened_at is not None
    client.get(f"/i/{token}")
    assert load(app, invitation_id).opened_at == first.opened_at
    client.post(f"/i/{token}/decline", data={"reason": ""})
    client.get(f"/i/{token}")
    assert load(app, invitation_id).status == "declined"


def test_decline_then_accept(app, client, invitation_event):
    invitation_id, token = make_invitation(app, invitation_event)
    response = client.post(f"/i/{token}/decline", data={"reason": "Teaching that week."})
    assert response.status_code == 303 and response.headers["Location"] == f"/i/{token}"
    declined = load(app, invitation_id)
    assert (declined.status, declined.decline_reason) == ("declined", "Teaching that week.")
    assert declined.answered_at is not None
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "invitation.declined"))
        assert entry.after["invitation"] == invitation_id and entry.actor == "delegate"
    page = client.get(f"/i/{token}")
    assert "You have declined this invitation." in page.text
    assert "Accept and register" in page.text
    assert client.post(f"/i/{token}", data=complete()).status_code == 303
    assert load(app, invitation_id).status == "registered"
    assert registration_of(app, invitation_id) is not None


@pytest.mark.parametrize(
    ("reason", "message"),
    [("x" * 501, "At most 500 characters, please."), ("a\x00b", "")],
)
def test_a_bad_decline_reason_is_refused_on_the_page(app, client, invitation_event, reason, message):
    invitation_id, token = make_invitation(app, invitation_event)
    response = client.post(f"/i/{token}/decline", data={"reason": reason})
    assert response.status_code == 400
    assert message in response.text
    assert load(app, invitation_id).status != "declined"


def test_a_closed_window_says_so(app, client):
    from datetime import timedelta

    from eventreg.models import utcnow

    event = create_test_event(app, admission="invitation", registration_closes_at=utcnow() - timedelta(minutes=1))
    invitation_id, token = make_invitation(app, event)
    page = client.get(f"/i/{token}")
    assert "Registration for this event is closed." in page.text
    assert 'id="register-form"' not in page.text
    assert client.post(f"/i/{token}", data=complete()).status_code == 200
    assert registration_of(app, invitation_id) is None


def test_a_wrong_token_is_a_404(app, client, invitation_event):
    make_invitation(app, invitation_event)
    assert client.get("/i/not-a-real-token-at-all").status_code == 404


def test_the_page_speaks_the_invitations_language_unless_the_reader_chose_one(app, client, invitation_event):
    invitation_id, token = make_invitation(app, invitation_event, language="fr")
    assert 'lang="fr"' in client.get(f"/i/{token}").text
    client.set_cookie("eventreg_language", "es")
    assert 'lang="es"' in client.get(f"/i/{token}").text
    client.delete_cookie("eventreg_language")
    client.post(f"/i/{token}", data=complete())
    assert registration_of(app, invitation_id).language == "fr"


def test_the_personal_link_is_masked_in_logs(app, invitation_event):
    from eventreg.private_paths import mask_private_paths

    _id, token = make_invitation(app, invitation_event)
    line = f'127.0.0.1 "POST /i/{token}/decline HTTP/1.1" 303 "https://register.example.org/i/{token}"'
    masked = mask_private_paths(line)
    assert token not in masked
    assert masked == '127.0.0.1 "POST /i/[private]/decline HTTP/1.1" 303 "https://register.example.org/i/[private]"'


def test_an_address_registered_without_the_invitation_gets_its_link_again(app, client):
    from eventreg.models import OutboxMessage
    from tests.conftest import register_test_delegate

    event = create_test_event(app)
    register_test_delegate(app, event, email="layla.haddad@example.org")
    invitation_id, token = make_invitation(app, event)
    response = client.post(f"/i/{token}", data=complete())
    assert response.status_code == 303
    assert response.headers["Location"] == f"/e/{event.slug}/submitted"
    with app.app_context():
        kinds = db.session.scalars(db.select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["confirmation", "lost_link"]
    assert load(app, invitation_id).registration_id is None
