"""What an invitee does through their personal link: it is opened, they register through it or decline it, and
they may still accept after a decline while registration is open."""

import hmac

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from .. import audit
from ..database import begin_write_transaction
from ..extensions import db
from ..models import (
    ACTIVE,
    Invitation,
    InvitationStatus,
    Registration,
    token_digest,
    utcnow,
)
from ..registration.services import DelegateDetails, Membership, register_delegate

# How long a decline's reason may be: a sentence or two for the organizers, not a letter.
MAX_DECLINE_REASON = 500
# The statuses that opening the link moves to OPENED: an answer (registered, declined) stays what it is.
OPENABLE = (InvitationStatus.NOT_SENT, InvitationStatus.SENT, InvitationStatus.FAILED)


class InvitationAnswered(Exception):
    """The invitation was already answered by a registration: it cannot be declined any more."""


def find_invitation(token: str) -> Invitation | None:
    """The invitation behind a personal link, with its event, or None."""
    if not token or len(token) > 64:
        return None
    # As find_registration: found by the digest, then the tokens compared in constant time.
    query = select(Invitation).where(Invitation.token_digest == token_digest(token))
    invitation = db.session.scalar(query.options(joinedload(Invitation.event)))
    if invitation is None or not hmac.compare_digest(invitation.token.encode(), token.encode()):
        return None
    return invitation


def mark_opened(invitation: Invitation) -> None:
    """Note that the link was opened, the first time only, and only while nothing was answered: a mail scanner
    opens links too, so OPENED says only that."""
    if invitation.status not in OPENABLE:
        return
    table = Invitation.__table__
    now = utcnow()
    # A conditional UPDATE: two opens at once, or an open racing a registration, cannot undo an answer.
    db.session.execute(
        update(table)
        .where(table.c.id == invitation.id, table.c.status.in_(OPENABLE))
        .values(status=InvitationStatus.OPENED, opened_at=invitation.opened_at or now, updated_at=now)
    )
    db.session.commit()


def active_registration_of(invitation: Invitation) -> Registration | None:
    """The registration made through the invitation while it is active (not cancelled or rejected)."""
    if invitation.registration_id is None:
        return None
    registration = db.session.get(Registration, invitation.registration_id)
    return registration if registration is not None and registration.status in ACTIVE else None


def register_invitee(invitation: Invitation, details: DelegateDetails, language: str, submission_key: str | None):
    """Register the invitee through their invitation (see register_delegate): the invited address, the assigned
    category if any, the delegation and focal-point flag, and no approval step when the invitation skips it; the
    invitation becomes REGISTERED in the same transaction."""
    membership = Membership(
        invitation_id=invitation.id,
        skip_approval=invitation.skip_approval,
        delegation_id=invitation.delegation_id,
        is_focal_point=invitation.is_focal_point,
        assigned_category=invitation.category,
    )
    return register_delegate(
        invitation.event_id, details, language=language, submission_key=submission_key, membership=membership
    )


def decline_invitation(invitation_id: int, reason: str) -> Invitation:
    """Decline the invitation with an optional reason, audited, in one transaction. Raises InvitationAnswered when
    it is registered already (the registration is cancelled through its own link)."""
    begin_write_transaction()
    invitation = db.session.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .with_for_update(of=Invitation)
        .options(joinedload(Invitation.event))
    )
    if invitation.status == InvitationStatus.REGISTERED and active_registration_of(invitation) is not None:
        db.session.rollback()
        raise InvitationAnswered
    before = {"invitation": invitation.id, "status": invitation.status}
    invitation.status = InvitationStatus.DECLINED
    invitation.decline_reason = reason
    invitation.answered_at = utcnow()
    audit.record(
        "invitation.declined",
        event=invitation.event,
        before=before,
        after={"invitation": invitation.id, "status": invitation.status, "reason": reason},
        actor=audit.DELEGATE,
    )
    db.session.commit()
    return invitation
