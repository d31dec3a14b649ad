"""What a delegate does through their private link: change their details, cancel, move the registration to a new
email address (confirmed from that address), and have the link sent again. Each use case is one transaction; those
that touch seats or addresses run under the event lock, with the rules the organizer's edit uses."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..converters import MAX_ID
from ..extensions import db
from ..forms import column_length
from ..mail.queue import queue_invitation_mail, queue_mail
from ..models import ACTIVE, Event, Invitation, Registration, Status, casefold_key, utcnow
from .capacity import locked_event
from .credentials import renew_credentials
from .edits import (
    OWN_EDITABLE_FIELDS,
    apply_edit,
    check_email,
    check_own_category,
    email_taken,
    queue_changed_mail,
)
from .services import DelegateDetails, RegistrationRefused, active_registration
from .status import StatusAction, change_status

# The kind of the invitation mail (invitations/mails.py registers it), sent again to an invited address that has no
# registration yet.
INVITATION_MAIL = "invitation"

# How long the link that confirms a new email address works.
EMAIL_CHANGE_MAX_AGE = timedelta(hours=48)
_EMAIL_CHANGE_SALT = "eventreg.email-change"


class NotChangeable(RegistrationRefused):
    """The registration can no longer be changed through the private link."""


class LinkProblem(RegistrationRefused):
    """A link to confirm a new email address that cannot be used; `status` is the HTTP status to answer with."""

    status = 400


@dataclass(frozen=True)
class EmailChange:
    """A requested change of a registration's email address, read from a valid confirmation link."""

    registration: Registration
    new_email: str
    fingerprint: str  # of the address the link was sent to replace


def why_not_changeable(registration: Registration, event: Event) -> str | None:
    """Why the delegate cannot change or cancel the registration any more, or None while they can."""
    if registration.erased_at is not None:
        return str(_l("The personal data of this registration was erased, so it can no longer be changed."))
    if registration.status == Status.CANCELLED:
        return str(_l("This registration is already cancelled."))
    if registration.status not in ACTIVE:
        return str(_l("This registration was not accepted, so it can no longer be changed."))
    if utcnow() >= event.starts_at:
        return str(
            _l("The event has begun, so the registration can no longer be changed here. Please ask the organizers.")
        )
    return None


@contextmanager
def _own_registration(registration_id: int) -> Iterator[tuple[Event, Registration]]:
    """One change by the delegate (locked_event()): lock the registration's event and re-read the registration
    (fresh values); refuse one that cannot change. Commits when the block ends, rolls back when it raises."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise LookupError(f"no registration {registration_id}")
    with locked_event(registration.event_id) as event:
        query = select(Registration).where(Registration.id == registration_id)
        registration = db.session.scalar(query.execution_options(populate_existing=True))
        problem = why_not_changeable(registration, event)
        if problem is not None:
            raise NotChangeable(problem)
        yield event, registration


def edit_own_registration(registration_id: int, details: DelegateDetails) -> bool:
    """Apply the delegate's changes to every field but the email, in one transaction; True when anything changed.

    The organizer's rules apply (seats for more accompanying persons; fewer free seats for the waiting list) and the
    delegate gets the "changed" mail. Raises a RegistrationRefused (nothing written) when the rules refuse.
    """
    with _own_registration(registration_id) as (event, registration):
        check_own_category(registration, details.category)
        changed = apply_edit(event, registration, details, OWN_EDITABLE_FIELDS, by=audit.DELEGATE)
    return bool(changed)


def cancel_own_registration(registration_id: int) -> None:
    """Cancel the registration at the delegate's request, in one transaction: the "cancelled" mail, the audit entry
    naming the delegate, and the waiting list moving up into the freed seats. Raises NotChangeable."""
    with _own_registration(registration_id) as (event, registration), audit.acting_as(audit.DELEGATE, registration):
        change_status(event, registration, StatusAction.CANCEL)


def request_email_change(registration_id: int, new_email: str) -> None:
    """Send a link to confirm `new_email` to that address; nothing else changes until the link is confirmed.

    Whether another registration uses the address is checked on confirming, not here: the answer would tell a
    delegate who registered with which address.
    """
    with _own_registration(registration_id) as (_event, registration):
        if _key(new_email) == registration.email_key:
            raise RegistrationRefused(_l("This is already the email address of your registration."))
        key = _serializer().dumps({"r": registration.id, "e": new_email, "f": _fingerprint(registration)})
        queue_mail(
            "email_change",
            registration,
            recipient=new_email,
            details={"new_email": new_email, "key": key, "hours": EMAIL_CHANGE_MAX_AGE // timedelta(hours=1)},
        )


def read_email_change(key: str) -> EmailChange:
    """The change a confirmation link asks for; raises LinkProblem when the link is broken, expired or used up,
    or NotChangeable when the registration can no longer change."""
    try:
        payload = _serializer().loads(key, max_age=int(EMAIL_CHANGE_MAX_AGE.total_seconds()))
    except SignatureExpired:
        message = lazy_ngettext(
            "This link has expired: it was valid for %(num)d hour. Please ask for the change again on your "
            "registration page.",
            "This link has expired: it was valid for %(num)d hours. Please ask for the change again on your "
            "registration page.",
            EMAIL_CHANGE_MAX_AGE // timedelta(hours=1),
        )
        raise _link_problem(message, 410) from None
    except BadSignature:
        raise _link_problem(_l("This link is not valid. Please copy the whole link from the email."), 404) from None
    if not _well_formed(payload):  # only our key signs links, but a key of an older version could differ
        raise _link_problem(_l("This link is not valid. Please copy the whole link from the email."), 404)
    registration = db.session.get(Registration, payload["r"])
    if registration is None or payload["f"] != _fingerprint(registration):
        raise _link_problem(
            _l("This link has already been used, or the email address of the registration has changed since."), 410
        )
    problem = why_not_changeable(registration, registration.event)
    if problem is not None:
        raise NotChangeable(problem)
    return EmailChange(registration, payload["e"], payload["f"])


def confirm_email_change(key: str) -> Registration:
    """Move the registration to the confirmed new address, in one transaction under the event lock; the "changed"
    mail goes to the new address and the old one. Raises LinkProblem, NotChangeable or DuplicateRegistration."""
    change = read_email_change(key)
    try:
        with _own_registration(change.registration.id) as (event, registration):
            if _fingerprint(registration) != change.fingerprint:  # confirmed meanwhile, in another tab
                raise _link_problem(_l("This link has already been used."), 410)
            check_email(event, registration, change.new_email)
            before = registration.email
            registration.email = change.new_email
            renew_credentials(registration)  # the old address's owner keeps no link and no ticket that admits
            entry = audit.record(
                "registration.edited",
                event=event,
                registration=registration,
                before={"email": before},
                after={"email": change.new_email},
                actor=audit.DELEGATE,
            )
            messages = queue_changed_mail(registration, {"email": (before, change.new_email)}, by=audit.DELEGATE)
            audit.same_moment(entry, *messages)
    except IntegrityError:
        # Another registration took the address between the check and the commit; the unique index stopped it.
        raise email_taken() from None
    return registration


def send_lost_link(event_id: int, email: str) -> None:
    """Queue the "lost_link" mail when the address holds an active registration for the event; else the invitation
    again when the address was invited (its personal link is the way in); do nothing otherwise. The caller answers
    the same either way."""
    key = _key(email)
    registration = active_registration(event_id, key)
    if registration is not None:
        queue_mail("lost_link", registration)
        db.session.commit()
        return
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.event_id == event_id, Invitation.email_key == key)
    )
    if invitation is None:
        db.session.rollback()
        return
    queue_invitation_mail(INVITATION_MAIL, invitation)
    db.session.commit()


def _well_formed(payload) -> bool:
    """A confirmation link's payload as request_email_change() signs it: a registration id the id column can hold,
    and two strings."""
    return (
        isinstance(payload, dict)
        and type(payload.get("r")) is int  # not a bool, which is an int too
        and 1 <= payload["r"] <= MAX_ID
        and isinstance(payload.get("e"), str)
        and isinstance(payload.get("f"), str)
    )


def _key(email: str) -> str:
    return casefold_key(email, column_length(Registration.email_key))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_EMAIL_CHANGE_SALT)


def _fingerprint(registration: Registration) -> str:
    """Changes when the registration's address changes, so a link dies once used; the link's reader cannot tell
    the current address from it (the private token is mixed in)."""
    digest = hashlib.sha256(f"{registration.token}\n{registration.email_key}".encode())
    return digest.hexdigest()[:24]


def _link_problem(message, status: int) -> LinkProblem:
    problem = LinkProblem(message)
    problem.status = status
    return problem
