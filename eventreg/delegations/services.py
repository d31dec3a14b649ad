"""The organizers' rules for delegations: create, rename, set the quota, delete an empty one, mark focal points
(registrations or invitations), attach or remove registrations; and the list with its counts. Each write is one
transaction with its audit entry."""

import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from .. import audit
from ..extensions import db
from ..models import ACTIVE, Delegation, Event, Invitation, Registration, Status, casefold_key, search_key
from ..registration.capacity import locked_event

MAX_SEARCH_TERMS = 5
CANDIDATES_SHOWN = 20


class DelegationRefused(Exception):
    """A change to a delegation that the rules do not allow; `message` is shown, next to `field` when set."""

    field: str | None = None

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NoSuchDelegation(LookupError):
    """The delegation (or the registration or invitation named with it) is not part of this event."""


@dataclass(frozen=True)
class DelegationRow:
    """One line of the organizers' list: the delegation and its counts."""

    delegation: Delegation
    registered: int  # active members counted against the quota (focal points lead and take no place)
    focal_points: int
    confirmed: int
    checked_in: int


def delegation_rows(event: Event) -> list[DelegationRow]:
    """The event's delegations by name, each with its counts, from one GROUP BY query."""
    active = Registration.status.in_(ACTIVE)
    member = and_(active, Registration.is_focal_point.is_(False))
    counts = (
        func.coalesce(func.sum(case((member, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(active, Registration.is_focal_point.is_(True)), 1), else_=0)), 0),
        func.coalesce(func.sum(case((Registration.status == Status.CONFIRMED, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(active, Registration.checked_in_at.is_not(None)), 1), else_=0)), 0),
    )
    query = (
        select(Delegation, *counts)
        .outerjoin(Registration, Registration.delegation_id == Delegation.id)
        .where(Delegation.event_id == event.id)
        .group_by(Delegation.id)
        .order_by(Delegation.name_key)
    )
    return [DelegationRow(row[0], *(int(count) for count in row[1:])) for row in db.session.execute(query)]


def delegation_in(event: Event, delegation_id: int) -> Delegation:
    """The event's delegation with this id; raises NoSuchDelegation."""
    delegation = db.session.get(Delegation, delegation_id)
    if delegation is None or delegation.event_id != event.id:
        raise NoSuchDelegation(delegation_id)
    return delegation


def delegation_members(delegation: Delegation) -> list[Registration]:
    """Every registration of the delegation (cancelled ones too), focal points first, then by name."""
    query = (
        select(Registration)
        .where(Registration.delegation_id == delegation.id)
        .order_by(Registration.is_focal_point.desc(), Registration.name_key, Registration.id)
    )
    return list(db.session.scalars(query))


def delegation_invitations(delegation: Delegation) -> list[Invitation]:
    """The invitations that name the delegation, focal points first."""
    query = (
        select(Invitation)
        .where(Invitation.delegation_id == delegation.id)
        .order_by(Invitation.is_focal_point.desc(), Invitation.name_key, Invitation.id)
    )
    return list(db.session.scalars(query))


def candidates(event: Event, q: str) -> tuple[list[Registration], list[Invitation]]:
    """Active registrations and invitations of the event whose name, address or institution holds every word of
    `q` (at most CANDIDATES_SHOWN of each); nothing for an empty search."""
    words = q.split()[:MAX_SEARCH_TERMS]
    if not words:
        return [], []
    registration_clauses, invitation_clauses = [], []
    for word in words:
        folded, address = search_key(word), casefold_key(unicodedata.normalize("NFKC", word))
        registration_clauses.append(
            or_(
                Registration.name_key.contains(folded, autoescape=True),
                Registration.email_key.contains(address, autoescape=True),
                Registration.institution_key.contains(folded, autoescape=True),
            )
        )
        invitation_clauses.append(
            or_(
                Invitation.name_key.contains(folded, autoescape=True),
                Invitation.email_key.contains(address, autoescape=True),
            )
        )
    registrations = select(Registration).where(
        Registration.event_id == event.id, Registration.status.in_(ACTIVE), *registration_clauses
    )
    invitations = select(Invitation).where(Invitation.event_id == event.id, *invitation_clauses)
    return (
        list(db.session.scalars(registrations.order_by(Registration.name_key).limit(CANDIDATES_SHOWN))),
        list(db.session.scalars(invitations.order_by(Invitation.name_key).limit(CANDIDATES_SHOWN))),
    )


def save_delegation(event: Event, delegation_id: int | None, name: str, country: str, quota: int) -> Delegation:
    """Create a delegation (`delegation_id` None) or change one, with its audit entry, in one transaction. Raises
    DelegationRefused when another delegation of the event has the name, NoSuchDelegation for a stranger's id."""
    with locked_event(event.id) as locked:
        if delegation_id is None:
            delegation = Delegation(event_id=locked.id)
            before = {}
        else:
            delegation = delegation_in(locked, delegation_id)
            before = audit.snapshot(delegation, ("name", "country", "quota"))
        delegation.name, delegation.country, delegation.quota = name, country, quota
        taken = select(Delegation.id).where(
            Delegation.event_id == locked.id, Delegation.name_key == delegation.name_key
        )
        if delegation_id is not None:
            taken = taken.where(Delegation.id != delegation_id)
        if db.session.scalar(taken) is not None:
            raise DelegationRefused(_l("This event already has a delegation of this name."), "name")
        db.session.add(delegation)
        db.session.flush()
        after = audit.snapshot(delegation, ("name", "country", "quota"))
        old, new = audit.changes(before, after)
        if new:
            audit.record(
                "delegation.created" if delegation_id is None else "delegation.updated",
                event=locked,
                before=old or None,
                after={"delegation": delegation.id, **new},
            )
    return delegation


def delete_delegation(event: Event, delegation_id: int) -> None:
    """Delete a delegation that has no registration and no invitation, in one transaction; raises
    DelegationRefused otherwise."""
    with locked_event(event.id) as locked:
        delegation = delegation_in(locked, delegation_id)
        used = db.session.scalar(select(Registration.id).where(Registration.delegation_id == delegation.id).limit(1))
        invited = db.session.scalar(select(Invitation.id).where(Invitation.delegation_id == delegation.id).limit(1))
        if used is not None or invited is not None:
            raise DelegationRefused(
                _l("Only a delegation without registrations or invitations can be deleted. Remove them first.")
            )
        audit.record("delegation.deleted", event=locked, before={"delegation": delegation.id, "name": delegation.name})
        db.session.delete(delegation)


def set_membership(event: Event, delegation_id: int, registration_id: int, *, member: bool, focal: bool) -> None:
    """Attach a registration of the event to the delegation (as a focal point when `focal`), or remove it
    (`member` False), with its audit entry, in one transaction. Organizers may exceed the quota: it limits what a
    focal point may register, not what the organizers decide."""
    with locked_event(event.id) as locked:
        delegation = delegation_in(locked, delegation_id)
        registration = db.session.get(Registration, registration_id)
        if registration is None or registration.event_id != locked.id:
            raise NoSuchDelegation(registration_id)
        if not member and registration.delegation_id != delegation.id:
            raise NoSuchDelegation(registration_id)
        if member and registration.delegation_id not in (None, delegation.id):
            raise DelegationRefused(_l("This registration belongs to another delegation. Remove it there first."))
        before = audit.snapshot(registration, ("delegation_id", "is_focal_point"))
        registration.delegation_id = delegation.id if member else None
        registration.is_focal_point = member and focal
        old, new = audit.changes(before, audit.snapshot(registration, ("delegation_id", "is_focal_point")))
        if new:
            audit.record(
                "delegation.member_added" if member else "delegation.member_removed",
                event=locked,
                registration=registration,
                before=old,
                after=new,
            )


def set_invitation(event: Event, delegation_id: int, invitation_id: int, *, member: bool, focal: bool) -> None:
    """Name the delegation on an invitation (its invitee registers into it, as a focal point when `focal`), or take
    it off (`member` False), in one transaction with the audit entry."""
    with locked_event(event.id) as locked:
        delegation = delegation_in(locked, delegation_id)
        invitation = db.session.get(Invitation, invitation_id)
        if invitation is None or invitation.event_id != locked.id:
            raise NoSuchDelegation(invitation_id)
        if not member and invitation.delegation_id != delegation.id:
            raise NoSuchDelegation(invitation_id)
        before = audit.snapshot(invitation, ("delegation_id", "is_focal_point"))
        invitation.delegation_id = delegation.id if member else None
        invitation.is_focal_point = member and focal
        old, new = audit.changes(before, audit.snapshot(invitation, ("delegation_id", "is_focal_point")))
        if new:
            audit.record(
                "delegation.invitation_changed", event=locked, before=old, after={"invitation": invitation.id, **new}
            )
