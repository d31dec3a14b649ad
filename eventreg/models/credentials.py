"""What a registration no longer answers to: private links and check-in codes replaced by a change of address."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import UTCDateTime, utcnow


class CredentialKind(enum.StrEnum):
    """What was replaced."""

    LINK = "link"  # a private link: `lookup` is its token's digest (models.common.token_digest), never the token
    CHECKIN = "checkin"  # a ticket's check-in code: `lookup` is the code, which admits no one any more


class ReplacedCredential(db.Model):
    """A private link or check-in code that a registration had before its email address changed. The old link
    then says only that it was replaced, and the desk refuses the old ticket as replaced, without showing anything
    of the registration."""

    __table_args__ = (UniqueConstraint("kind", "lookup", name="uq_replaced_credential_kind_lookup"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    lookup: Mapped[str] = mapped_column(String(43))
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
