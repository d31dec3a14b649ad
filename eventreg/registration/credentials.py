"""A registration's credentials: the private link (its token) and the ticket's check-in code. A change of email
address replaces both, so whoever owns the old mailbox keeps neither the link nor a ticket that admits."""

from sqlalchemy import select

from ..extensions import db
from ..models import CredentialKind, Registration, ReplacedCredential, new_checkin_code, new_token, token_digest


def renew_credentials(registration: Registration) -> None:
    """Give the registration a new private link and a new check-in code inside the caller's transaction; the old
    ones are remembered as replaced."""
    db.session.add_all(
        [
            ReplacedCredential(
                registration_id=registration.id, kind=CredentialKind.LINK, lookup=registration.token_digest
            ),
            ReplacedCredential(
                registration_id=registration.id, kind=CredentialKind.CHECKIN, lookup=registration.checkin_code
            ),
        ]
    )
    registration.token = new_token()
    registration.checkin_code = new_checkin_code()


def link_was_replaced(token: str) -> bool:
    """True when `token` is a private link that a change of email address replaced (found by its digest)."""
    return _replaced(CredentialKind.LINK, token_digest(token))


def code_was_replaced(code: str) -> bool:
    """True when `code` (normalised) is the check-in code of a ticket that a change of email address replaced."""
    return _replaced(CredentialKind.CHECKIN, code)


def _replaced(kind: CredentialKind, lookup: str) -> bool:
    query = select(ReplacedCredential.id).where(ReplacedCredential.kind == kind, ReplacedCredential.lookup == lookup)
    return db.session.scalar(query) is not None
