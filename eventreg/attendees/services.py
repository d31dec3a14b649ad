"""What organizers do to registrations: edit them, and move them from one status to another, alone or in bulk.

Each use case is one transaction under the event lock (capacity.locked_event(), as every write to registrations),
with its audit entry and the delegate's mail written in that same transaction. The status changes themselves are
registration/status.py's change_status(), which the delegate's own cancellation uses too.
"""

from collections import Counter
from dataclasses import dataclass, field, replace

from babel.lists import format_list
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..categories.services import category_setter
from ..extensions import db
from ..locale_formats import current_locale
from ..mail.queue import queue_mail
from ..models import ACTIVE, Event, Registration
from ..registration.capacity import locked_event, promote_waitlisted
from ..registration.edits import EDITABLE_FIELDS, ORGANIZER, apply_edit, email_taken
from ..registration.services import CategoryNotOffered, DelegateDetails
from ..registration.status import ActionRefused, StatusAction, change_status

MAX_BULK = 1000  # far more than one page of the list shows; keeps one transaction reasonable

# Why an action was not applied, as a short reason for bulk summaries (ActionRefused.reason is the key).
SKIP_REASONS = {
    "no_approval": _l("the event does not need approval"),
    "not_pending": _l("not pending"),
    "not_active": _l("already cancelled or rejected"),
    "not_found": _l("not in this event"),
    "erased": _l("personal data erased"),
}


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
    with locked_event(event_id) as event:
        registration = _registration_in(event, registration_id)
        if registration is None:
            raise ActionRefused("not_found")
        promoted = change_status(event, registration, action)
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
        return format_list(parts, locale=current_locale())


def apply_bulk_action(event_id: int, registration_ids: list[int], action: StatusAction) -> BulkOutcome:
    """Apply one status action to many registrations of an event in ONE transaction; those it does not apply to
    are skipped and counted by reason."""
    outcome = BulkOutcome(action)
    wanted = sorted(set(registration_ids))[:MAX_BULK]
    with locked_event(event_id) as event:
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
    return outcome


@dataclass
class CategoryOutcome:
    """What a bulk "set category" did: how many moved, how many were in it already, how many were skipped."""

    done: int = 0
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)

    def summary(self, category_label: str) -> str:
        """'3 moved to Speaker, 1 already there', in the organizer's language."""
        parts = [ngettext("%(num)d moved to %(label)s", "%(num)d moved to %(label)s", self.done, label=category_label)]
        if self.unchanged:
            parts.append(ngettext("%(num)d already there", "%(num)d already there", self.unchanged))
        for reason, count in sorted(self.skipped.items()):
            parts.append(
                ngettext(
                    "%(num)d skipped (%(reason)s)", "%(num)d skipped (%(reason)s)", count, reason=SKIP_REASONS[reason]
                )
            )
        return format_list(parts, locale=current_locale())


def check_event_category(event_id: int, code: str) -> None:
    """Organizers may set any of the event's categories, and only those."""
    if category_setter(event_id, code) is None:
        raise CategoryNotOffered(_l("Please choose one of this event's categories."))


def set_category_in_bulk(event_id: int, registration_ids: list[int], category: str) -> CategoryOutcome:
    """Put many registrations of an event into one of its categories in ONE transaction (at most MAX_BULK), each
    change with its audit entry and the "changed" mail, as an organizer's edit of the category alone."""
    check_event_category(event_id, category)
    outcome = CategoryOutcome()
    wanted = sorted(set(registration_ids))[:MAX_BULK]
    with locked_event(event_id) as event:
        query = (
            select(Registration)
            .where(Registration.event_id == event.id, Registration.id.in_(wanted))
            .order_by(Registration.id)
            .execution_options(populate_existing=True)
        )
        found = list(db.session.scalars(query))
        if len(found) < len(wanted):
            outcome.skipped["not_found"] = len(wanted) - len(found)
        for registration in found:
            if registration.erased_at is not None:
                outcome.skipped["erased"] += 1
                continue
            if registration.category == category:
                outcome.unchanged += 1
                continue
            details = DelegateDetails(**{name: getattr(registration, name) for name in EDITABLE_FIELDS})
            apply_edit(event, registration, replace(details, category=category), ("category",), by=ORGANIZER)
            outcome.done += 1
    return outcome


def edit_registration(
    event_id: int, registration_id: int, details: DelegateDetails, language: str | None = None
) -> bool:
    """Apply an organizer's corrections to a registration, in one transaction; True when anything changed.
    `language`, when given, is the language of the delegate's mails from now on (the first one lists the change).

    The rules are the delegate's own edit's (registration/edits.py): an email address another active registration
    of the event uses, or more accompanying persons than there are free seats, is refused (writing nothing); fewer
    accompanying persons free seats for the waiting list. A change sends the "changed" mail listing it (a changed
    address is told at the old address too); an edit that changes nothing sends nothing.
    """
    try:
        with locked_event(event_id) as event:
            registration = _registration_in(event, registration_id)
            if registration is None:
                raise ActionRefused("not_found")
            if registration.erased_at is not None:  # an edit would bring personal data back
                raise ActionRefused("erased")
            if details.category != registration.category:
                check_event_category(event.id, details.category)
            changed = apply_edit(event, registration, details, EDITABLE_FIELDS, by=ORGANIZER, language=language)
    except IntegrityError:
        # Another registration took the address between the check and the commit; the unique index stopped it.
        raise email_taken() from None
    return bool(changed)


def resend_confirmation(event_id: int, registration_id: int) -> None:
    """Queue the confirmation mail again, as it reads now: the current status, and the current ticket (check-in
    code and calendar entry) for a confirmed place. Audited, in one transaction. Raises ActionRefused for a
    registration that is erased, cancelled or rejected, or not in the event (nothing written)."""
    with locked_event(event_id) as event:  # the status read is the one the mail reports
        registration = _registration_in(event, registration_id)
        if registration is None:
            raise ActionRefused("not_found")
        if registration.erased_at is not None:
            raise ActionRefused("erased_no_address")
        if registration.status not in ACTIVE:
            raise ActionRefused("not_active")
        entry = audit.record("registration.confirmation_resent", event=event, registration=registration)
        audit.same_moment(entry, queue_mail("confirmation", registration, details={"resent": True}))
