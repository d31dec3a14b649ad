"""Organizer accounts: creating them and checking their passwords."""

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import begin_write_transaction
from ..extensions import db
from ..forms import column_length
from ..models import Organizer, casefold_key, new_token

ROLES = ("admin", "organizer", "checkin")
MIN_PASSWORD_LENGTH = 10

# Checked when the address is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


class AccountError(ValueError):
    """An account that cannot be created as asked."""


def find_organizer(email: str) -> Organizer | None:
    """The organizer with this address, compared case-insensitively."""
    key = casefold_key(email.strip(), column_length(Organizer.email_key))
    return db.session.scalar(select(Organizer).where(Organizer.email_key == key))


def create_organizer(email: str, password: str, role: str = "admin") -> Organizer:
    """Create an organizer account with a hashed password, in one transaction."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password.strip()) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters (not counting spaces at its ends)"
        )
    try:
        email = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as error:
        raise AccountError(f"{email!r} is not a valid email address: {error}") from None
    # SQLite: no other writer between the check and the insert; PostgreSQL: the unique index refuses a racer.
    begin_write_transaction()
    if find_organizer(email) is not None:
        db.session.rollback()
        raise AccountError(f"an organizer with the address {email} exists already")
    organizer = Organizer(email=email, role=role)
    organizer.set_password(password)
    db.session.add(organizer)
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
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not organizer.check_password(password) or not organizer.active:
        return None
    return organizer
