"""Organizer accounts: creating them, checking and changing their passwords, ending their sessions."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..database import begin_write_transaction
from ..extensions import db
from ..forms import column_length
from ..models import Organizer, Right, casefold_key, new_token
from .tokens import revoke_all_tokens

ROLES = ("admin", "organizer", "checkin")
# 12 characters, as OWASP ASVS asks (V2.1.1); with logins throttled (throttle.py) and passwords stored as scrypt
# hashes, a passphrase of that length is out of reach of online and offline guessing alike.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing megabytes of "password" would be a cheap way to keep the server busy

# Checked when the address is unknown, so a wrong address takes as long as a wrong password: made with the same
# method and cost as every new password's hash.
DUMMY_HASH = generate_password_hash("not a real password")


class AccountError(ValueError):
    """An account that cannot be created or changed as asked; `field` names the detail at fault, if one is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def login_key(email: str) -> str:
    """The key an address typed at login is compared by: every way of typing one account's address gives one key."""
    return casefold_key(email.strip(), column_length(Organizer.email_key))


def find_organizer(email: str) -> Organizer | None:
    """The organizer with this address, compared case-insensitively."""
    return db.session.scalar(select(Organizer).where(Organizer.email_key == login_key(email)))


def check_new_password(password: str) -> None:
    """Refuse a password that is too short (spaces at its ends do not count) or absurdly long."""
    if len(password.strip()) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _(
                "The password needs at least %(min)d characters (not counting spaces at its ends).",
                min=MIN_PASSWORD_LENGTH,
            ),
            "password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(_("The password may have at most %(max)d characters.", max=MAX_PASSWORD_LENGTH), "password")


def create_organizer(email: str, password: str, role: str = "admin") -> Organizer:
    """Create an organizer account with a hashed password, in one transaction, with an audit entry."""
    if role not in ROLES:
        raise AccountError(_("The role must be one of %(roles)s.", roles=", ".join(ROLES)), "role")
    check_new_password(password)
    try:
        email = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as error:
        raise AccountError(
            _("%(email)r is not a valid email address: %(reason)s", email=email, reason=str(error)), "email"
        ) from None
    if len(email) > column_length(Organizer.email):
        raise AccountError(_("%(email)r is not a valid email address: it is too long.", email=email), "email")
    # SQLite: no other writer between the check and the insert; PostgreSQL: the unique index refuses a racer.
    begin_write_transaction()
    if find_organizer(email) is not None:
        db.session.rollback()
        raise AccountError(_("An organizer with the address %(email)s exists already.", email=email), "email")
    organizer = Organizer(email=email, role=role)
    organizer.set_password(password)
    db.session.add(organizer)
    db.session.flush()
    audit.record("account.created", after={"account": email, "role": role})
    db.session.commit()
    return organizer


def end_sessions(organizer: Organizer) -> None:
    """Log the organizer out everywhere: every copy of their session cookie stops working."""
    organizer.session_token = new_token()
    db.session.commit()


def authenticate(email: str, password: str) -> Organizer | None:
    """The active organizer whose address and password match, else None (in about the same time either way)."""
    organizer = find_organizer(email)
    if organizer is None:
        check_password_hash(DUMMY_HASH, password)
        return None
    if not organizer.check_password(password) or not organizer.active:
        return None
    return organizer


def change_own_password(organizer: Organizer, current_password: str, new_password: str) -> Organizer:
    """Change one's own password (the current one is needed), ending every other session of the account and
    revoking its API tokens.

    The caller logs the browser in again with the account's new session token. Raises AccountError.
    """
    if not organizer.check_password(current_password):
        raise AccountError(_("The current password is not right."), "current_password")
    check_new_password(new_password)
    if organizer.check_password(new_password):
        raise AccountError(_("The new password is the same as the current one."), "password")
    organizer_id = organizer.id
    begin_write_transaction()
    organizer = db.session.get(Organizer, organizer_id, with_for_update=True, populate_existing=True)
    organizer.set_password(new_password)
    organizer.session_token = new_token()
    audit.record("account.password_changed", after={"account": organizer.email}, organizer=organizer)
    revoke_all_tokens(organizer, acting=organizer)
    db.session.commit()
    return organizer


def home_endpoint(organizer: Organizer) -> str:
    """Where an organizer lands after logging in: the events when their role runs events, the check-in desk for
    check-in staff, else their account."""
    if organizer.can(Right.MANAGE_EVENTS):
        return "organizer.index"
    return "checkin.index" if organizer.can(Right.CHECK_IN) else "auth.account"
