"""What administrators do to organizer accounts: roles, deactivation, password resets, event assignments.

Accounts are never deleted (the audit log names them), and the last active administrator stays one.
"""

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..auth.services import ROLES, AccountError, check_new_password
from ..auth.tokens import revoke_all_tokens
from ..database import begin_write_transaction
from ..extensions import db
from ..models import Event, Organizer, event_organizer, new_token


def organizer_accounts() -> list[tuple[Organizer, int]]:
    """Every organizer account with the number of events assigned to it: active ones first, then by address."""
    assigned = (
        select(event_organizer.c.organizer_id, func.count().label("events"))
        .group_by(event_organizer.c.organizer_id)
        .subquery()
    )
    query = (
        select(Organizer, func.coalesce(assigned.c.events, 0))
        .outerjoin(assigned, assigned.c.organizer_id == Organizer.id)
        .order_by(Organizer.active.desc(), Organizer.email_key)
    )
    return [(organizer, events) for organizer, events in db.session.execute(query)]


class AccountNotFound(LookupError):
    """No organizer account has this id (the views answer 404)."""


def account_by_id(organizer_id: int) -> Organizer:
    """The organizer account with this id; AccountNotFound when there is none."""
    account = db.session.get(Organizer, organizer_id)
    if account is None:
        raise AccountNotFound(organizer_id)
    return account


def _locked_account(organizer_id: int, *, count_admins: bool = False) -> tuple[Organizer, list[int]]:
    """Start a write transaction and lock the account's row (AccountNotFound when there is none).

    With `count_admins`, the active administrators' rows are locked first, always in id order, so two
    administrators changing each other at once wait in line instead of deadlocking; their ids are returned.
    """
    begin_write_transaction()
    admins = []
    if count_admins:
        query = select(Organizer.id).where(Organizer.role == "admin", Organizer.active.is_(True))
        admins = list(db.session.scalars(query.order_by(Organizer.id).with_for_update()))
    account = db.session.get(Organizer, organizer_id, with_for_update=True, populate_existing=True)
    if account is None:
        db.session.rollback()
        raise AccountNotFound(organizer_id)
    return account, admins


def _keep_an_admin(account: Organizer, admins: list[int]) -> None:
    """Refuse to take the last active administrator away: nobody could manage accounts any more."""
    if account.role == "admin" and account.active and set(admins) <= {account.id}:
        db.session.rollback()
        raise AccountError(
            _(
                "%(email)s is the last active administrator. Make another account an administrator first.",
                email=account.email,
            ),
            "role",
        )


def change_role(organizer_id: int, role: str) -> bool:
    """Give an account another role (its sessions go on, with the new role's rights); False when unchanged."""
    if role not in ROLES:
        raise AccountError(_("The role must be one of %(roles)s.", roles=", ".join(ROLES)), "role")
    account, admins = _locked_account(organizer_id, count_admins=True)
    if account.role == role:
        db.session.rollback()
        return False
    if role != "admin":
        _keep_an_admin(account, admins)
    audit.record("account.role_changed", before={"account": account.email, "role": account.role}, after={"role": role})
    account.role = role
    db.session.commit()
    return True


def set_active(organizer_id: int, active: bool) -> bool:
    """Deactivate an account (it can no longer log in, its sessions end and its API tokens are revoked for good) or
    reactivate it; False when unchanged."""
    account, admins = _locked_account(organizer_id, count_admins=True)
    if account.active == active:
        db.session.rollback()
        return False
    if not active:
        _keep_an_admin(account, admins)
        account.session_token = new_token()
    account.active = active
    audit.record(
        "account.reactivated" if active else "account.deactivated",
        before={"account": account.email, "active": not active},
        after={"active": active},
    )
    if not active:
        revoke_all_tokens(account)
    db.session.commit()
    return True


def reset_password(organizer_id: int, password: str) -> Organizer:
    """Set a new password chosen by an administrator; every session of the account ends and its API tokens are
    revoked."""
    check_new_password(password)
    account, _admins = _locked_account(organizer_id)
    account.set_password(password)
    account.session_token = new_token()
    audit.record("account.password_reset", after={"account": account.email})
    revoke_all_tokens(account)
    db.session.commit()
    return account


def assign_events(organizer_id: int, event_ids: set[int]) -> tuple[list[Event], list[Event]]:
    """Make the account run exactly these events; returns the events (added, removed), each with an audit entry."""
    account, _admins = _locked_account(organizer_id)
    wanted = set(db.session.scalars(select(Event).where(Event.id.in_(event_ids)))) if event_ids else set()
    current = set(account.events)
    added = sorted(wanted - current, key=lambda event: event.starts_at)
    removed = sorted(current - wanted, key=lambda event: event.starts_at)
    for event in added:
        account.events.append(event)
        audit.record("event.organizer_added", event=event, after={"organizer": account.email})
    for event in removed:
        account.events.remove(event)
        audit.record("event.organizer_removed", event=event, before={"organizer": account.email})
    db.session.commit()
    return added, removed


def all_events() -> list[Event]:
    """Every event, latest start first (the choices when assigning organizers)."""
    return list(db.session.scalars(select(Event).order_by(Event.starts_at.desc(), Event.id)))
