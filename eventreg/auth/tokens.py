"""Read-only API tokens: shown once when created, stored only as a SHA-256 hash, revocable."""

import hashlib
import hmac
import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..forms import column_length, text_problem
from ..models import ApiToken, Organizer, Right, utcnow

TOKEN_PREFIX = "evr_"  # noqa: S105 - marks our tokens in logs and scanners; not a secret
MAX_LIVE_TOKENS = 20  # per organizer: more are forgotten, and forgotten tokens are how secrets leak
LAST_USED_RESOLUTION = 60  # seconds: last_used_at is written at most this often, so reads stay reads


class TokenError(ValueError):
    """A token that cannot be created as asked."""


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _live_tokens(organizer: Organizer) -> int:
    query = select(func.count()).where(ApiToken.organizer_id == organizer.id, ApiToken.revoked_at.is_(None))
    return int(db.session.scalar(query))


def create_token(organizer: Organizer, name: str) -> tuple[ApiToken, str]:
    """A new token for the organizer, named so they can tell it apart; returns the row and the only copy of it.

    Recorded in the audit log (name and prefix, never the token) in the same transaction.
    """
    name = " ".join(name.split())
    if not name:
        raise TokenError(_("Please give the token a name."))
    limit = column_length(ApiToken.name)
    if len(name) > limit:
        raise TokenError(_("A token's name has at most %(max)d characters.", max=limit))
    if problem := text_problem(name):
        raise TokenError(str(problem))
    if not organizer.can(Right.USE_API):
        raise TokenError(_("This account's role cannot use the API."))
    if _live_tokens(organizer) >= MAX_LIVE_TOKENS:
        raise TokenError(
            _("You already have %(max)d active tokens. Please revoke one you no longer use.", max=MAX_LIVE_TOKENS)
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(organizer_id=organizer.id, name=name, token_hash=_digest(raw), prefix=raw[:10])
    db.session.add(token)
    db.session.flush()  # the id, for the audit entry
    audit.record("token.created", organizer=organizer, after=_described(token))
    db.session.commit()
    return token, raw


def _described(token: ApiToken) -> dict:
    """What the audit log keeps of a token: enough to recognise it, nothing to use it."""
    return {"token_id": token.id, "name": token.name, "prefix": token.prefix}


def tokens_of(organizer: Organizer) -> list[ApiToken]:
    """The organizer's tokens, newest first, revoked ones included."""
    query = select(ApiToken).where(ApiToken.organizer_id == organizer.id).order_by(ApiToken.id.desc())
    return list(db.session.scalars(query))


def revoke_token(organizer: Organizer, token_id: int) -> ApiToken | None:
    """Revoke one of the organizer's own live tokens (audited); None when they have no such token."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.organizer_id != organizer.id or token.revoked_at is not None:
        return None
    token.revoked_at = utcnow()
    audit.record("token.revoked", organizer=organizer, before=_described(token))
    db.session.commit()
    return token


def revoke_all_tokens(owner: Organizer, *, acting: Organizer | None = None) -> list[ApiToken]:
    """Revoke every live token of `owner` in the caller's transaction, one audit entry each (by `acting`, else
    whoever acts in this request): what a password change, a reset and a deactivation do, for good."""
    query = select(ApiToken).where(ApiToken.organizer_id == owner.id, ApiToken.revoked_at.is_(None))
    tokens = list(db.session.scalars(query.order_by(ApiToken.id)))
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
        audit.record("token.revoked", organizer=acting, before=_described(token) | {"account": owner.email})
    return tokens


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
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return organizer
