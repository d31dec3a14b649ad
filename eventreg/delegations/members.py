"""What a focal point does for their delegation through their private link (register, edit and cancel members up
to the quota), and a member's own answers: join a delegation they were offered, leave one. Each use case is one
transaction; those that change seats or the quota's count run under the event lock."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from .. import audit
from ..converters import MAX_ID
from ..extensions import db
from ..forms import column_length
from ..mail.queue import queue_mail
from ..models import ACTIVE, Delegation, Event, Registration, casefold_key
from ..registration.capacity import locked_event
from ..registration.edits import OWN_EDITABLE_FIELDS, apply_edit, check_own_category
from ..registration.self_service import NotChangeable, why_not_changeable
from ..registration.services import (
    DelegateDetails,
    Membership,
    RegistrationRefused,
    active_registration,
    check_quota,
    register_delegate,
)
from ..registration.status import StatusAction, change_status
from . import mails  # noqa: F401 - makes the "delegation_join" kind known before one is queued

# The visa request is the member's own (its passport data is not shown to the focal point): unticking the box would
# delete it and withdraw the letter, so the focal point's edit leaves it as it is.
FOCAL_EDITABLE_FIELDS = tuple(name for name in OWN_EDITABLE_FIELDS if name != "visa_letter")

JOIN_SALT = "delegation-join"
# How long an offer to join works: a registration period is weeks long, and the offer attaches nothing by itself.
JOIN_MAX_AGE = timedelta(days=30)


class NoSuchMember(LookupError):
    """The registration is not a member of the focal point's delegation (or the link leads to none)."""


class JoinProblem(RegistrationRefused):
    """An offer to join that cannot be used; `status` is the HTTP status to answer with."""

    status = 400


@dataclass(frozen=True)
class JoinOffer:
    """A valid offer to join a delegation, read from its signed link."""

    delegation: Delegation
    focal_points: list[str]  # the names of those who lead it


def focal_delegation(registration: Registration) -> Delegation | None:
    """The delegation that an active focal point's registration leads, or None."""
    if not registration.is_focal_point or registration.delegation_id is None or registration.status not in ACTIVE:
        return None
    return db.session.get(Delegation, registration.delegation_id)


def places_used(members: list[Registration]) -> int:
    """How many of the quota's places the members take: active members who are not focal points
    (registration.services.check_quota counts the same)."""
    return sum(1 for member in members if member.status in ACTIVE and not member.is_focal_point)


def member_of(delegation: Delegation, member_id: int) -> Registration:
    """A member (not a focal point) of the delegation; raises NoSuchMember for anyone else."""
    member = db.session.get(Registration, member_id)
    if member is None or member.delegation_id != delegation.id or member.is_focal_point:
        raise NoSuchMember(member_id)
    return member


def register_member(focal: Registration, details: DelegateDetails, language: str, submission_key: str | None) -> None:
    """Register a member of the focal point's delegation, checked against its quota under the event lock: the
    member gets their own confirmation, naming the focal point. Raises a RegistrationRefused (the quota, the window,
    the capacity) when nothing could be done; DuplicateRegistration for an address already registered for the
    event, which the caller answers as a success after offer_to_join() (neither attached nor revealed)."""
    delegation = focal_delegation(focal)
    if delegation is None:
        raise NoSuchMember(focal.id)
    membership = Membership(
        delegation_id=delegation.id,
        quota=delegation.quota,
        mail_details={
            "registered_by": focal.display_name,
            "delegation": delegation.name,
            "delegation_id": delegation.id,
        },
    )
    register_delegate(focal.event_id, details, language, submission_key=submission_key, membership=membership)


def offer_to_join(focal: Registration, email: str) -> None:
    """Mail the owner of the address's active registration an offer to join the focal point's delegation (unless
    they are in it already), in one transaction; nothing when the address holds none."""
    delegation = focal_delegation(focal)
    if delegation is None:
        raise NoSuchMember(focal.id)
    existing = active_registration(focal.event_id, casefold_key(email, column_length(Registration.email_key)))
    if existing is None or existing.delegation_id == delegation.id:
        db.session.rollback()
        return
    key = _serializer().dumps({"r": existing.id, "d": delegation.id})
    details = {"delegation": delegation.name, "registered_by": focal.display_name, "key": key}
    queue_mail("delegation_join", existing, details=details)
    db.session.commit()


def delegation_of(registration: Registration) -> Delegation | None:
    """The delegation a registration belongs to, if any."""
    return db.session.get(Delegation, registration.delegation_id) if registration.delegation_id else None


def read_join_offer(registration: Registration, key: str) -> JoinOffer:
    """The offer behind a join link opened through the registration's own private link; raises JoinProblem."""
    try:
        payload = _serializer().loads(key, max_age=int(JOIN_MAX_AGE.total_seconds()))
    except SignatureExpired:
        raise _problem(_l("This offer has expired. Please ask the focal point of the delegation again."), 410) from None
    except BadSignature:
        raise _problem(_l("This link is not valid. Please copy the whole link from the email."), 404) from None
    if not _well_formed(payload) or payload["r"] != registration.id:
        raise _problem(_l("This link is not valid. Please copy the whole link from the email."), 404)
    delegation = db.session.get(Delegation, payload["d"])
    if delegation is None or delegation.event_id != registration.event_id:
        raise _problem(_l("This delegation no longer exists."), 410)
    leaders = select(Registration).where(
        Registration.delegation_id == delegation.id,
        Registration.is_focal_point.is_(True),
        Registration.status.in_(ACTIVE),
    )
    return JoinOffer(delegation, [leader.display_name for leader in db.session.scalars(leaders)])


def join_delegation(registration_id: int, key: str) -> Delegation:
    """Attach the registration to the delegation of the offer it accepts, under the event lock and within the
    quota, with the audit entry, in one transaction. Raises JoinProblem, NotChangeable or QuotaReached."""
    with _own_registration(registration_id) as (event, registration):
        offer = read_join_offer(registration, key)
        if registration.delegation_id == offer.delegation.id:
            return offer.delegation
        if registration.delegation_id is not None:
            raise _problem(_l("You are a member of another delegation. Please leave it first."), 409)
        check_quota(offer.delegation.id, offer.delegation.quota)
        registration.delegation_id = offer.delegation.id
        audit.record(
            "delegation.joined",
            event=event,
            registration=registration,
            before={"delegation_id": None},
            after={"delegation_id": offer.delegation.id},
            actor=audit.DELEGATE,
        )
    return offer.delegation


def leave_delegation(registration_id: int) -> None:
    """Detach a member from their delegation at their request, with the audit entry, in one transaction; a focal
    point cannot leave this way (the organizers change who leads). Raises JoinProblem or NotChangeable."""
    with _own_registration(registration_id) as (event, registration):
        if registration.delegation_id is None:
            raise _problem(_l("You are not a member of a delegation."), 409)
        if registration.is_focal_point:
            raise _problem(_l("You lead this delegation. Please ask the organizers to hand it to someone else."), 409)
        audit.record(
            "delegation.left",
            event=event,
            registration=registration,
            before={"delegation_id": registration.delegation_id},
            after={"delegation_id": None},
            actor=audit.DELEGATE,
        )
        registration.delegation_id = None


def edit_member(delegation: Delegation, member_id: int, details: DelegateDetails) -> bool:
    """The focal point changes a member's details (all but the email, which only its owner can move), with the
    rules and mail of the delegate's own edit, in one transaction; True when anything changed."""
    with _member(delegation, member_id) as (event, member):
        check_own_category(member, details.category)  # as the member's own edit: never into or out of an assigned one
        changed = apply_edit(event, member, details, FOCAL_EDITABLE_FIELDS, by=audit.DELEGATE)
    return bool(changed)


def cancel_member(delegation: Delegation, member_id: int) -> None:
    """The focal point cancels a member's registration: the member's "cancelled" mail, the audit entry and the
    waiting list moving up, in one transaction."""
    with _member(delegation, member_id) as (event, member), audit.acting_as(audit.DELEGATE, member):
        change_status(event, member, StatusAction.CANCEL)


@contextmanager
def _member(delegation: Delegation, member_id: int) -> Iterator[tuple[Event, Registration]]:
    """Lock the event, re-read the member (fresh values) and refuse one that left or cannot change any more."""
    with locked_event(delegation.event_id) as event:
        query = select(Registration).where(Registration.id == member_id).execution_options(populate_existing=True)
        member = db.session.scalar(query)
        if member is None or member.delegation_id != delegation.id or member.is_focal_point:
            raise NoSuchMember(member_id)
        problem = why_not_changeable(member, event)
        if problem is not None:
            raise NotChangeable(problem)
        yield event, member


@contextmanager
def _own_registration(registration_id: int) -> Iterator[tuple[Event, Registration]]:
    """Lock the registration's event, re-read it and refuse one that can no longer change."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise NoSuchMember(registration_id)
    with locked_event(registration.event_id) as event:
        query = select(Registration).where(Registration.id == registration_id)
        registration = db.session.scalar(query.execution_options(populate_existing=True))
        problem = why_not_changeable(registration, event)
        if problem is not None:
            raise NotChangeable(problem)
        yield event, registration


def _well_formed(payload) -> bool:
    """A join link's payload as offer_to_join() signs it: two ids the id columns can hold."""
    return isinstance(payload, dict) and all(
        type(payload.get(name)) is int and 1 <= payload[name] <= MAX_ID for name in ("r", "d")
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=JOIN_SALT)


def _problem(message, status: int) -> JoinProblem:
    problem = JoinProblem(message)
    problem.status = status
    return problem
