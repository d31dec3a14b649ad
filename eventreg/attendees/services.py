"""What organizers do to registrations: edit them, and move them from one status to another, alone or in bulk.

Each use case is one transaction under the event lock (the one register_delegate takes), with its audit entry
and the delegate's mail written in that same transaction.
"""

import enum
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..mail.queue import queue_mail
from ..models import ACTIVE, Event, Registration, Status
from ..registration.capacity import promote_waitlisted
from ..registration.edits import EDITABLE_FIELDS, ORGANIZER, apply_edit, email_taken
from ..registration.services import (
    DelegateDetails,
    RegistrationRefused,
    lock_event,
)

MAX_BULK = 1000  # far more than one page of the list shows; keeps one transaction reasonable


class StatusAction(enum.StrEnum):
    """What an organizer can do to a registration's status."""

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

# Why an action was not applied: a short reason for bulk summaries, a sentence for a single registration.
SKIP_REASONS = {
    "no_approval": _l("the event does not need approval"),
    "not_pending": _l("not pending"),
    "not_active": _l("already cancelled or rejected"),
    "not_found": _l("not in this event"),
}
REFUSALS = {
    "no_approval": _l("This event does not need approval: its registrations are confirmed when they are made."),
    "not_pending": _l("Only a registration that is pending approval can be approved or rejected."),
    "not_active": _l("This registration is already cancelled or rejected."),
    "not_found": _l("There is no such registration in this event."),
    "erased": _l("The personal data of this registration was erased: there are no details to edit."),
    "erased_no_address": _l("The personal data of this registration was erased: there is no address to write to."),
}


class ActionRefused(RegistrationRefused):
    """A status action that does not apply to this registration; `reason` is a key of SKIP_REASONS."""

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
    registrations promoted.
    """
    reason = _refusal_reason(event, registration, action)
    if reason is not None:
        raise ActionRefused(reason)
    transition = TRANSITIONS[action]
    before = audit.snapshot(registration, ("status",))
    registration.status = transition.to
    entry = audit.record(
        transition.audit_action,
        event=event,
        registration=registration,
        before=before,
        after=audit.snapshot(registration, ("status",)),
    )
    audit.same_moment(entry, queue_mail(transition.mail, registration))
    return promote_waitlisted(event) if promote else []


def _registration_in(event: Event, registration_id: int) -> Registration | None:
    """The event's registration with this id, with fresh values (the event is locked, so they stay fresh)."""
    query = (
        select(Registration)
        .where(Registration.id == registration_id, Registration.event_id == event.id)
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(query)


def apply_action(event_id: int, registration_id: int, action: StatusAction) -> list[Registration]:
    """Cancel, approve or reject one registration, in one transaction; raises ActionRefused (nothing written).
    Returns the registrations promoted from the waiting list into the seats it freed."""
    try:
        event = lock_event(event_id)
        registration = _registration_in(event, registration_id)
        if registration is None:
            raise ActionRefused("not_found")
        promoted = change_status(event, registration, action)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return promoted


@dataclass
class BulkOutcome:
    """What a bulk action did: how many registrations changed, and how many were skipped for which reason."""

    action: StatusAction
    done: int = 0
    skipped: Counter = field(default_factory=Counter)
    promoted: int = 0

    def summary(self) -> str:
        """'3 approved, 1 skipped (not pending)', in the organizer's language."""
        done = {
            StatusAction.CANCEL: ngettext("%(num)d cancelled", "%(num)d cancelled", self.done),
            StatusAction.APPROVE: ngettext("%(num)d approved", "%(num)d approved", self.done),
            StatusAction.REJECT: ngettext("%(num)d rejected", "%(num)d rejected", self.done),
        }[self.action]
        parts = [done]
        for reason, count in sorted(self.skipped.items()):
            parts.append(
                ngettext(
                    "%(num)d skipped (%(reason)s)", "%(num)d skipped (%(reason)s)", count, reason=SKIP_REASONS[reason]
                )
            )
        if self.promoted:
            parts.append(
                ngettext(
                    "%(num)d promoted from the waiting list", "%(num)d promoted from the waiting list", self.promoted
                )
            )
        return ", ".join(parts)


def apply_bulk_action(event_id: int, registration_ids: list[int], action: StatusAction) -> BulkOutcome:
    """Apply one status action to many registrations of an event in ONE transaction; those it does not apply to
    are skipped and counted by reason."""
    outcome = BulkOutcome(action)
    wanted = sorted(set(registration_ids))[:MAX_BULK]
    try:
        event = lock_event(event_id)
        query = (
            select(Registration)
            .where(Registration.event_id == event.id, Registration.id.in_(wanted))
            .order_by(Registration.id)
            .execution_options(populate_existing=True)
        )
        found = list(db.session.scalars(query))
        outcome.skipped.update({"not_found": len(wanted) - len(found)} if len(found) < len(wanted) else {})
        for registration in found:
            try:
                change_status(event, registration, action, promote=False)
            except ActionRefused as refusal:
                outcome.skipped[refusal.reason] += 1
            else:
                outcome.done += 1
        outcome.promoted = len(promote_waitlisted(event))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return outcome


def edit_registration(event_id: int, registration_id: int, details: DelegateDetails) -> bool:
    """Apply an organizer's corrections to a registration, in one transaction; True when anything changed.

    The rules are the delegate's own edit's (registration/changes.py): an email address another active registration
    of the event uses, or more accompanying persons than there are free seats, is refused (writing nothing); fewer
    accompanying persons free seats for the waiting list. A change sends the "changed" mail listing it (a changed
    address is told at the old address too); an edit that changes nothing sends nothing.
    """
    try:
        event = lock_event(event_id)
        registration = _registration_in(event, registration_id)
        if registration is None:
            raise ActionRefused("not_found")
        if registration.erased_at is not None:  # an edit would bring personal data back
            raise ActionRefused("erased")
        if not apply_edit(event, registration, details, EDITABLE_FIELDS, by=ORGANIZER):
            db.session.rollback()
            return False
        db.session.commit()
    except RegistrationRefused:
        db.session.rollback()
        raise
    except IntegrityError:
        # Another registration took the address between the check and the commit; the unique index stopped it.
        db.session.rollback()
        raise email_taken() from None
    return True


def resend_confirmation(event_id: int, registration_id: int) -> None:
    """Queue the confirmation mail again, as it reads now: the current status, and the current ticket (check-in
    code and calendar entry) for a confirmed place. Audited, in one transaction. Raises ActionRefused for a
    registration that is erased, cancelled or rejected, or not in the event (nothing written)."""
    try:
        event = lock_event(event_id)  # the status read is the one the mail reports
        registration = _registration_in(event, registration_id)
        if registration is None:
            raise ActionRefused("not_found")
        if registration.erased_at is not None:
            raise ActionRefused("erased_no_address")
        if registration.status not in ACTIVE:
            raise ActionRefused("not_active")
        entry = audit.record("registration.confirmation_resent", event=event, registration=registration)
        audit.same_moment(entry, queue_mail("confirmation", registration, details={"resent": True}))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
