"""The demo's guest list: national academies' delegations at the ceremony, each led by a focal point, and a forum
by invitation whose invitation list is imported from a CSV file as `flask invite` imports it, then stands in every
status.

Beyond "not sent", each status is reached through the code that reaches it in the app: the invitation mails are
queued as the list's Send button queues them and recorded as the outbox worker records a delivery (or a refusal by
the mail server, for the "mail failed" ones) without sending anything; links are opened, invitees register and
decline through the invitee side's services. Only the recorded deliveries are demo data.
"""

import logging
import smtplib
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, with_expression

from ..events.services import create_event
from ..extensions import db
from ..invitations.importing import apply_import, preview_import
from ..invitations.links import decline_invitation, mark_opened, register_invitee
from ..invitations.services import send_invitations
from ..mail.compose import compose, outbox_message_id
from ..mail.retry import log as worker_log
from ..mail.retry import record_failure, record_sent
from ..models import Admission, Delegation, Event, Invitation, OutboxMessage, OutboxState, Registration, utcnow
from ..registration.services import DelegateDetails
from ..tickets.codes import mails_so_far
from .people import DELEGATIONS, FOCAL_POSITIONS, INVITATION_CSV, OUTCOMES

# The code of the mail server's refusal recorded for the invitations whose mail failed.
REFUSED = (550, b"5.1.1 <{address}>: Recipient address rejected: User unknown")


def add_delegations(event: Event, make_delegate) -> list[Registration]:
    """The ceremony's delegations (flushed) and their registrations, not yet added: for each academy a focal point
    and its members, from `make_delegate(country)`, a fictitious delegate of that country."""
    registrations = []
    for position, (name, country, quota, members) in enumerate(DELEGATIONS):
        delegation = Delegation(event_id=event.id, name=name, country=country, quota=quota)
        db.session.add(delegation)
        db.session.flush()
        for number in range(1 + members):
            registration = make_delegate(country)
            registration.institution = name
            registration.delegation_id = delegation.id
            registration.category = "delegate"
            registration.status = "confirmed"
            if number == 0:
                registration.is_focal_point = True
                registration.position = FOCAL_POSITIONS[position % len(FOCAL_POSITIONS)]
            registrations.append(registration)
    return registrations


def invitation_file() -> bytes:
    """The forum's invitation list as the organizers' CSV file (UTF-8 with a byte-order mark, as spreadsheets
    write it)."""
    return ("\ufeff" + INVITATION_CSV).encode("utf-8")


def load_forum(ceremony: Event, instance_path: str) -> tuple[Event, Path]:
    """The forum by invitation, the day after the ceremony: its invitation list imported from a CSV file saved in
    the instance folder (`flask invite <slug> <file>` reads the same file), then taken to every status."""
    starts = ceremony.starts_at + timedelta(days=1)
    forum = create_event(
        title="Academy Presidents' Forum",
        description="A closed forum of the presidents of the founding academies, the day after the ceremony.",
        venue="China National Convention Center, Room 301",
        city=ceremony.city,
        timezone=ceremony.timezone,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        capacity=60,
        registration_opens_at=ceremony.registration_opens_at,
        registration_closes_at=ceremony.registration_closes_at,
        contact_email="forum@example.org",
        admission=Admission.INVITATION,
        invitation_note=(
            "The presidents of the founding academies meet the day after the ceremony to adopt the alliance's "
            "first work plan. We would be honoured by your presence."
        ),
    )
    saved = Path(instance_path) / "demo-invitations.csv"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(invitation_file())
    apply_import(preview_import(forum.id, saved.name, saved.read_bytes()).id)
    _answer(forum)
    return forum, saved


def _answer(forum: Event) -> None:
    """Take each invitation to its status in OUTCOMES, through the app's own steps."""
    invitations = {
        invitation.email: invitation
        for invitation in db.session.scalars(select(Invitation).where(Invitation.event_id == forum.id))
    }
    mailed = [invitations[email].id for email, outcome in OUTCOMES.items() if outcome != "not_sent"]
    send_invitations(forum.id, mailed)
    _record_deliveries(forum, refused={email for email, outcome in OUTCOMES.items() if outcome == "failed"})
    for email, outcome in OUTCOMES.items():
        invitation = db.session.get(Invitation, invitations[email].id)
        if outcome in {"opened", "registered"} or outcome.startswith("declined"):
            mark_opened(invitation)
        if outcome == "registered":
            register_invitee(invitation, _details(invitation), invitation.language or "en", None)
        elif outcome.startswith("declined"):
            decline_invitation(invitation.id, outcome.partition(":")[2].strip())
    _record_deliveries(forum, refused=set())  # the confirmations of those who registered


def _details(invitation: Invitation) -> DelegateDetails:
    """What the invitee confirms on the pre-filled form."""
    return DelegateDetails(
        honorific=invitation.honorific,
        given_name=invitation.given_name,
        family_name=invitation.family_name,
        native_name=invitation.native_name,
        email=invitation.email,
        institution=invitation.institution,
        position=invitation.position,
        country=invitation.country,
        category=invitation.category or "delegate",
        accompanying=0,
        dietary="",
        accessibility="",
        visa_letter=False,
    )


def _record_deliveries(event: Event, refused: set[str]) -> None:
    """Record the event's queued mails as the outbox worker records its tries (mail/worker.py `_record`): sent,
    or refused for good by the mail server for the addresses in `refused`. Nothing is sent: each mail is composed
    only for its subject and Message-ID, as the worker keeps them."""
    ours = or_(
        OutboxMessage.invitation_id.in_(select(Invitation.id).where(Invitation.event_id == event.id)),
        OutboxMessage.registration_id.in_(select(Registration.id).where(Registration.event_id == event.id)),
    )
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.QUEUED, ours)
        .options(  # what compose() reads, as the worker's claim loads it
            joinedload(OutboxMessage.registration).joinedload(Registration.event),
            joinedload(OutboxMessage.invitation).joinedload(Invitation.event),
            with_expression(OutboxMessage.mails_so_far, mails_so_far()),
        )
    )
    for message in db.session.scalars(query).unique().all():
        started = utcnow()
        message.message_id = message.message_id or outbox_message_id(message)
        message.attempts += 1
        if message.recipient in refused:
            code, reply = REFUSED
            reply = reply.replace(b"{address}", message.recipient.encode())
            with _quiet(worker_log):  # the worker logs a failure for operators; here it is the demo's own
                record_failure(message, started, smtplib.SMTPRecipientsRefused({message.recipient: (code, reply)}))
            continue
        message.subject = compose(message).subject[:300]
        message.state = OutboxState.SENT
        message.sent_at = utcnow()
        record_sent(message, started)
    db.session.commit()


@contextmanager
def _quiet(logger: logging.Logger):
    """Nothing below CRITICAL from `logger` while the block runs."""
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
