"""What a ceremony prints: document jobs (badge runs rendered by a worker, the PDF kept here so any host serves it),
an event's document settings (letterhead, letter template, label sheet) with their images, visa applications with
their passport data sealed under the data keyring, and the numbered visa letters issued from them."""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..data_keys import seal, unseal
from ..extensions import db
from .common import UTCDateTime, utcnow
from .registration import Registration


class DocumentJobState(enum.StrEnum):
    """Where a document job is: waiting for a worker, being rendered, ready to download, or failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


DOCUMENT_JOB_STATE_LABELS = {
    DocumentJobState.QUEUED: _l("Waiting for a worker"),
    DocumentJobState.RUNNING: _l("Rendering"),
    DocumentJobState.DONE: _l("Ready"),
    DocumentJobState.FAILED: lazy_pgettext("document job", "Failed"),
}


class DocumentJob(db.Model):
    """A document too large to render in a web request (a run of badges): asked for by an organizer, claimed and
    rendered by a worker, and kept here, so whichever app host the download reaches can serve it. Expires after a
    day (expires_at); the worker deletes expired jobs."""

    __table_args__ = (Index("ix_document_job_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "badges" (documents.jobs.KINDS says how each renders)
    # What to render, as the request asked: the attendee list's filters or the chosen ids, the layout, the language.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=DocumentJobState.QUEUED)
    # Progress: documents rendered so far out of total (the page polls it).
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # A worker's claim holds until then; a worker that died mid-job leaves it to expire, and another takes the job.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(200), default="")
    # The PDF, once rendered; deferred, so listing jobs never loads it.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    event = relationship("Event", lazy="raise_on_sql")


class StoredImage(db.Model):
    """An image uploaded for an event's documents (the letterhead's logo, the signature), re-encoded when stored:
    the PDF renderer reads images only from here and from static/."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "logo" or "signature"
    content_type: Mapped[str] = mapped_column(String(20))  # image/png or image/jpeg
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentSettings(db.Model):
    """One event's document settings: the letterhead of its visa letters and certificates, the visa letter's
    template (English, and an optional second language on the same letter), the letter numbers' prefix, and the
    custom label sheet for badges. A row is created the first time the settings are saved; until then, the
    defaults of documents.settings apply."""

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), primary_key=True)
    host_organisation: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")  # several lines
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_title: Mapped[str] = mapped_column(String(200), default="")
    logo_id: Mapped[int | None] = mapped_column(ForeignKey("stored_image.id"))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("stored_image.id"))
    # Letter numbers are "<prefix>-<sequence, 4 digits>", e.g. ANSO-2027-0042.
    letter_prefix: Mapped[str] = mapped_column(String(30), default="")
    # Plain text with placeholders from a fixed list (documents/placeholders), never a Jinja template.
    letter_template: Mapped[str] = mapped_column(Text, default="")
    second_language: Mapped[str] = mapped_column(String(10), default="")  # "" for none
    second_template: Mapped[str] = mapped_column(Text, default="")
    # The custom label sheet (documents.badges.LabelSheet as a dict), or None.
    label_sheet: Mapped[dict | None] = mapped_column(JSON)

    logo: Mapped[StoredImage | None] = relationship(foreign_keys=[logo_id])
    signature: Mapped[StoredImage | None] = relationship(foreign_keys=[signature_id])


class VisaState(enum.StrEnum):
    """Where a visa letter request is."""

    PENDING = "pending"  # asked for, not yet decided (again pending after a change of passport data)
    ISSUED = "issued"  # a valid letter exists
    REFUSED = "refused"  # organizers refused it, with a reason


VISA_STATE_LABELS = {
    VisaState.PENDING: _l("Pending"),
    VisaState.ISSUED: _l("Issued"),
    VisaState.REFUSED: _l("Refused"),
}


class VisaApplication(db.Model):
    """What a consulate needs to see on a delegate's visa invitation letter. The passport number and the date of
    birth are sealed under the data keyring (read and set through `passport_number` and `birth_date`): a database
    or a backup alone does not hold them."""

    __table_args__ = (Index("ix_visa_application_event_state", "event_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    passport_name: Mapped[str] = mapped_column(String(200), default="")  # exactly as in the passport
    nationality: Mapped[str] = mapped_column(String(2), default="")  # ISO 3166-1 alpha-2
    passport_number_sealed: Mapped[str] = mapped_column(Text, default="")
    passport_expiry: Mapped[date | None] = mapped_column(Date)
    birth_date_sealed: Mapped[str] = mapped_column(Text, default="")
    consulate_city: Mapped[str] = mapped_column(String(100), default="")
    arrival: Mapped[date | None] = mapped_column(Date)
    departure: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default=VisaState.PENDING)
    refusal_reason: Mapped[str] = mapped_column(String(500), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    registration: Mapped[Registration] = relationship(lazy="raise_on_sql")

    @property
    def passport_number(self) -> str:
        """The passport number, unsealed ("" when none, or erased)."""
        return unseal(self.passport_number_sealed) if self.passport_number_sealed else ""

    @passport_number.setter
    def passport_number(self, value: str) -> None:
        self.passport_number_sealed = seal(value) if value else ""

    @property
    def birth_date(self) -> date | None:
        """The date of birth, unsealed (None when none, or erased)."""
        return date.fromisoformat(unseal(self.birth_date_sealed)) if self.birth_date_sealed else None

    @birth_date.setter
    def birth_date(self, value: date | None) -> None:
        self.birth_date_sealed = seal(value.isoformat()) if value else ""


class LetterState(enum.StrEnum):
    """What the verification page says of a visa letter."""

    VALID = "valid"
    REPLACED = "replaced"  # a newer letter was issued to the same delegate
    WITHDRAWN = "withdrawn"  # the passport data changed, the registration ended, or organizers withdrew it


LETTER_STATE_LABELS = {
    LetterState.VALID: _l("Valid"),
    LetterState.REPLACED: _l("Replaced by a newer letter"),
    LetterState.WITHDRAWN: _l("Withdrawn"),
}


class VisaLetter(db.Model):
    """One issued visa invitation letter, numbered per event (ANSO-2027-0042) and dated. What it says is fixed when
    it is issued: `content` (sealed, since it holds the passport number and the date of birth) keeps the letter's
    filled text and the verification code, so the PDF can be rendered again, identical, whenever it is needed. The
    verification page reads only the plain columns: number, holder's name, the passport number's last three
    characters, state."""

    __table_args__ = (UniqueConstraint("event_id", "sequence", name="uq_visa_letter_event_sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    # models.common.token_digest of the verification code printed on the letter (the code itself is in content).
    verify_digest: Mapped[str] = mapped_column(String(43))
    holder_name: Mapped[str] = mapped_column(String(200))
    passport_tail: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20), default=LetterState.VALID)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id"))
    # JSON sealed under the data keyring: the letter's filled text(s), the verification code, the passport data.
    content_sealed: Mapped[str] = mapped_column(Text, default="")

    registration: Mapped[Registration] = relationship(lazy="raise_on_sql")
