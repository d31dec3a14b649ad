"""The demo's guest list: delegations with focal points at the ceremony, and the forum by invitation whose
invitation list comes through the import (as `flask invite`) and stands in every status, with nothing sent."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from eventreg.demo import load
from eventreg.demo.load import load_demo
from eventreg.demo.people import DELEGATIONS, OUTCOMES
from eventreg.extensions import db
from eventreg.models import (
    Delegation,
    Event,
    Invitation,
    InvitationImport,
    InvitationStatus,
    OutboxMessage,
    OutboxState,
    Registration,
)

DELEGATES = 120  # a small ceremony: what is checked here does not depend on its size


@pytest.fixture
def demo(app):
    """The demo loaded into the test app: the ceremony's and the forum's ids, and the saved invitation file."""
    with app.app_context():
        result = load_demo(delegates=DELEGATES)
        return {"ceremony": result.event.id, "forum": result.forum.id, "file": result.invitations_file}


def test_the_ceremony_has_delegations_each_led_by_a_focal_point(app, demo):
    with app.app_context():
        delegations = db.session.scalars(select(Delegation).where(Delegation.event_id == demo["ceremony"])).all()
        assert sorted(d.name for d in delegations) == sorted(name for name, *_ in DELEGATIONS)
        for delegation in delegations:
            members = db.session.scalars(select(Registration).where(Registration.delegation_id == delegation.id)).all()
            focal = [member for member in members if member.is_focal_point]
            assert len(focal) == 1 and delegation.quota > 0
            assert len(members) - 1 <= delegation.quota  # members under the quota (focal points take no place)
            assert {member.country for member in members} == {delegation.country}
            assert {member.institution for member in members} == {delegation.name}
        registrations = db.session.scalar(
            select(func.count()).select_from(Registration).where(Registration.event_id == demo["ceremony"])
        )
        assert registrations == DELEGATES  # the delegations' members among them, not on top


def test_the_forum_is_by_invitation_with_an_invitation_in_every_status(app, demo):
    with app.app_context():
        forum = db.session.get(Event, demo["forum"])
        assert forum.admission == "invitation" and forum.invitation_note
        invitations = db.session.scalars(select(Invitation).where(Invitation.event_id == forum.id)).all()
        assert {invitation.status for invitation in invitations} == set(InvitationStatus)
        assert len(invitations) == len(OUTCOMES)
        declined = [i for i in invitations if i.status == InvitationStatus.DECLINED]
        assert any(i.decline_reason for i in declined) and all(i.answered_at for i in declined)
        for invitation in invitations:
            if invitation.status == InvitationStatus.REGISTERED:
                registration = db.session.get(Registration, invitation.registration_id)
                assert registration.event_id == forum.id and registration.email == invitation.email
            if invitation.status in {InvitationStatus.OPENED, InvitationStatus.REGISTERED}:
                assert invitation.opened_at is not None
            if invitation.status != InvitationStatus.NOT_SENT:
                assert invitation.sent_at is not None or invitation.status == InvitationStatus.FAILED
        # Organizers assigned some categories (speakers, a guest); the invitees who registered carry theirs.
        assigned = {i.email: i.category for i in invitations if i.category}
        assert set(assigned.values()) >= {"speaker", "guest"}
        speakers = db.session.scalars(
            select(Registration.email).where(Registration.event_id == forum.id, Registration.category == "speaker")
        ).all()
        assert speakers and all(assigned[email] == "speaker" for email in speakers)


def test_the_invitation_list_came_through_the_import(app, demo, runner):
    with app.app_context():
        imported = db.session.scalar(select(InvitationImport).where(InvitationImport.event_id == demo["forum"]))
        assert (imported.state, imported.filename) == ("applied", "demo-invitations.csv")
        assert imported.counts == {"add": len(OUTCOMES), "update": 0, "refused": 0}
        slug = db.session.get(Event, demo["forum"]).slug
    # The saved file is one `flask invite` reads: again, every row is an update.
    result = runner.invoke(args=["invite", slug, str(demo["file"]), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"To add: 0  To update: {len(OUTCOMES)}  Refused: 0" in result.output


def test_nothing_is_left_to_send_and_nothing_was_sent(app, demo):
    with app.app_context():
        states = dict(db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
        assert set(states) == {OutboxState.SENT, OutboxState.FAILED}
        failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.state == OutboxState.FAILED)).all()
        assert all("550" in message.last_error and message.invitation_id for message in failed)
        failed_invitations = {message.invitation_id for message in failed}
        assert failed_invitations == set(
            db.session.scalars(select(Invitation.id).where(Invitation.status == InvitationStatus.FAILED))
        )
    mail_dir = Path(app.config["MAIL_FILE_DIR"])
    assert not mail_dir.exists() or not any(mail_dir.iterdir())


def test_the_forum_dashboard_counts_its_invitations(app, demo, client):
    with app.app_context():
        slug = db.session.get(Event, demo["forum"]).slug
    password = (Path(app.instance_path) / "demo-organizer.txt").read_text().split()[1]
    client.post("/auth/login", data={"email": "organizer@example.org", "password": password})
    page = client.get(f"/organizer/events/{slug}").text
    shown = {key: re.search(rf'id="invitations-{key}"[^>]*>(\d+)<', page).group(1) for key in ("invited", "declined")}
    declined = sum(outcome.startswith("declined") for outcome in OUTCOMES.values())
    assert shown == {"invited": str(len(OUTCOMES)), "declined": str(declined)}


def test_a_demo_that_fails_leaves_no_event_behind(app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "add_delegations", broken)
    with app.app_context(), pytest.raises(RuntimeError):
        load_demo(delegates=10)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0
