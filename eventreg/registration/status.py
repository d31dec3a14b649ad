"""The one place that moves a registration from one status to another: cancel, approve, reject.

The organizer's actions (attendees/services.py) and the delegate's own cancellation (self_service.py) both call
change_status() inside their transaction, under the event lock.
"""

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .. import audit
from ..mail.queue import queue_mail
from ..models import ACTIVE, Event, Registration, Status
from ..visas.letter_states import withdraw_letters
from .capacity import promote_waitlisted
from .services import RegistrationRefused


class StatusAction(enum.StrEnum):
    """What can be done to a registration's status."""

    CANCEL = "cancel"
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class Transition:
    """One status action: from which statuses it is allowed, where it leads, and the mail the delegate gets."""

    allowed_from: tuple[Status, ...]
    to: Status
    mail: str
    audit_action: str
    needs_approval_event: bool = False


TRANSITIONS = {
    StatusAction.CANCEL: Transition(ACTIVE, Status.CANCELLED, "cancelled", "registration.cancelled"),
    StatusAction.APPROVE: Transition(
        (Status.PENDING,), Status.CONFIRMED, "approved", "registration.approved", needs_approval_event=True
    ),
    StatusAction.REJECT: Transition(
        (Status.PENDING,), Status.REJECTED, "rejected", "registration.rejected", needs_approval_event=True
    ),
}

# Why an action was not applied to a single registration, as a sentence; the keys are ActionRefused's reasons.
REFUSALS = {
    "no_approval": _l("This event does not need approval: its registrations are confirmed when they are made."),
    "not_pending": _l("Only a registration that is pending approval can be approved or rejected."),
    "not_active": _l("This registration is already cancelled or rejected."),
    "not_found": _l("There is no such registration in this event."),
    "erased": _l("The personal data of this registration was erased: there are no details to edit."),
    "erased_no_address": _l("The personal data of this registration was erased: there is no address to write to."),
}


class ActionRefused(RegistrationRefused):
    """An action that does not apply to this registration; `reason` is a key of REFUSALS."""

    def __init__(self, reason: str):
        super().__init__(REFUSALS[reason])
        self.reason = reason


def _refusal_reason(event: Event, registration: Registration, action: StatusAction) -> str | None:
    """Why `action` cannot be applied to the registration, or None when it can."""
    transition = TRANSITIONS[action]
    if transition.needs_approval_event and not event.requires_approval:
        return "no_approval"
    if registration.status not in transition.allowed_from:
        return "not_pending" if transition.needs_approval_event else "not_active"
    return None


def change_status(
    event: Event, registration: Registration, action: StatusAction, *, promote: bool = True
) -> list[Registration]:
    """The one place that changes a registration's status, inside the caller's transaction under the event lock:
    checks the action applies, records the audit entry and queues the delegate's mail. Raises ActionRefused.

    Cancelling or rejecting frees the registration's seats; the waiting list is then promoted into them in the same
    transaction (unless `promote` is False: a bulk action promotes once, after all its changes). Returns the
    registrations promoted. Their visa letters are withdrawn too: a consulate must not read an ended registration's
    letter as valid.
    """
    reason = _refusal_reason(event, registration, action)
    if reason is not None:
        raise ActionRefused(reason)
    transition = TRANSITIONS[action]
    before = audit.snapshot(registration, ("status",))
    registration.status = transition.to
    if transition.to in (Status.CANCELLED, Status.REJECTED):
        withdraw_letters(registration.id)
    entry = audit.record(
        transition.audit_action,
        event=event,
        registration=registration,
        before=before,
        after=audit.snapshot(registration, ("status",)),
    )
    audit.same_moment(entry, queue_mail(transition.mail, registration))
    return promote_waitlisted(event) if promote else []
