"""An invitation's personal data goes with its registration's erasure, and the purge of a past event erases every
invitation of it, answered or not: no name, address or reason is left in the invitation, its mails or the audit log."""

from datetime import timedelta

from sqlalchemy import select, text, update

from eventreg.extensions import db
from eventreg.invitations.links import decline_invitation, register_invitee
from eventreg.invitations.services import InviteeDetails, invite, send_invitations
from eventreg.mail.worker import deliver_due
from eventreg.models import Event, Invitation, utcnow
from eventreg.registration.privacy import erase_registration, purge_event
from tests.conftest import delegate
from tests.test_privacy import leaks

TRACES = ("zyxwvu.invitee@example.org", "Zyxwvu", "Qwertyuio", "Institut Plomkvar", "Travelling that week to Oslo")


def everything_stored(app) -> str:
    """Every row of the tables that hold an invitation, its registration, their history and their mails."""
    with app.app_context():
        tables = ("invitation", "registration", "audit_entry", "outbox_message", "outbox_attempt")
        return repr([db.session.execute(text(f"SELECT * FROM {table}")).all() for table in tables]).casefold()


def invited(app, event) -> tuple[int, str]:
    """An invitation carrying the traces, its mail queued; its id and personal link's token."""
    with app.app_context():
        invitation = invite(
            event.id,
            InviteeDetails(email=TRACES[0], given_name=TRACES[1], family_name=TRACES[2], institution=TRACES[3]),
        )
        send_invitations(event.id, [invitation.id])
        return invitation.id, invitation.token


def test_erasing_a_registration_erases_the_invitation_it_came_through(app, client, make_event):
    event = make_event()
    invitation_id, token = invited(app, event)
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        details = delegate(email=TRACES[0], given_name=TRACES[1], family_name=TRACES[2], institution=TRACES[3])
        registration = register_invitee(invitation, details, "en", None)
    assert all(leaks(everything_stored(app), trace) for trace in TRACES[:4])  # the test sees them while stored
    with app.app_context():
        assert erase_registration(registration.id, actor="delegate")
        db.session.commit()
        deliver_due()  # the last mail, to say the data was erased: the address is forgotten once it is sent
    stored = everything_stored(app)
    assert not [trace for trace in TRACES if leaks(stored, trace)]
    assert client.get(f"/i/{token}").status_code == 404
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).status == "registered"  # the answer still counts


def test_the_purge_erases_the_invitations_of_a_past_event_that_led_to_no_registration(app, make_event):
    event = make_event()
    invitation_id, _token = invited(app, event)
    with app.app_context():
        decline_invitation(invitation_id, TRACES[4])
        starts = utcnow() - timedelta(days=200)
        db.session.execute(
            update(Event).where(Event.id == event.id).values(starts_at=starts, ends_at=starts + timedelta(hours=3))
        )
        db.session.commit()
    assert leaks(everything_stored(app), TRACES[4])
    with app.app_context():
        purge_event(event.id)
        purge_event(event.id)  # a second run finds nothing more to do
        assert db.session.scalar(select(Invitation.status).where(Invitation.id == invitation_id)) == "declined"
    stored = everything_stored(app)
    assert not [trace for trace in TRACES if leaks(stored, trace)]
