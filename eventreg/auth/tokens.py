"""Read-only API tokens: shown once when created, stored only as a SHA-256 hash, revocable."""

import hashlib
import hmac
import secrets

from sqlalchemy import select

from ..extensions import db
from ..forms import column_length
from ..models import ApiToken, Organizer, Right, utcnow

TOKEN_PREFIX = "evr_"  # noqa: S105 - marks our tokens in logs and scanners; not a secret


class TokenError(ValueError):
    """A token that cannot be created as asked."""


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(organizer: Organizer, name: str) -> tuple[ApiToken, str]:
    """A new token for the organizer, named so they can tell it apart; returns the row and the only copy of it."""
    name = " ".join(name.split())
    if not name:
        raise TokenError("a token needs a name")
    if len(name) > column_length(ApiToken.name):
        raise TokenError(f"a token's name has at most {column_length(ApiToken.name)} characters")
    if not organizer.can(Right.USE_API):
        raise TokenError("this account's role cannot use the API")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(organizer_id=organizer.id, name=name, token_hash=_digest(raw), prefix=raw[:10])
    db.session.add(token)
    db.session.commit()
    return token, raw


def tokens_of(organizer: Organizer) -> list[ApiToken]:
    """The organizer's tokens, newest first, revoked ones included."""
    query = select(ApiToken).where(ApiToken.organizer_id == organizer.id).order_by(ApiToken.id.desc())
    return list(db.session.scalars(query))


def revoke_token(organizer: Organizer, token_id: int) -> bool:
    """Revoke one of the organizer's own tokens; False when they have no such live token."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.organizer_id != organizer.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.commit()
    return True


def authenticate_token(raw: str) -> Organizer | None:
    """The active organizer owning this live token, else None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    digest = _digest(raw)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # The lookup is by hash, so timing reveals nothing of the token; compare again in constant time all the same.
    if token is None or token.revoked_at is not None or not hmac.compare_digest(token.token_hash, digest):
        return None
    organizer = token.organizer
    if not organizer.active:
        return None
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now  # at most once a minute: reads stay reads
        db.session.commit()
    return organizer
