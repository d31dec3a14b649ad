"""An event's document settings: the letterhead (host organisation, address, logo, signatory, signature) that visa
letters and certificates are printed on, the visa letter's template(s), the letter numbers' prefix, and the custom
label sheet for badges. Read with document_settings(); changed in one audited transaction with save_settings()."""

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from .. import audit
from ..extensions import db
from ..models import DocumentSettings, Event, Organizer, VisaLetter
from ..placeholders import unknown_placeholders
from ..registration.capacity import lock_event
from .badge_layouts import label_sheet_problems
from .images import ImageRefused, add_image, read_upload
from .letter_template import DEFAULT_LETTER_TEMPLATE, LETTER_PLACEHOLDERS

PREFIX_PATTERN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
MAX_PREFIX_LENGTH = 30
# What the audit entry keeps of the settings (the images by id: the bytes are not a change anyone reads).
AUDITED = (
    "host_organisation",
    "address",
    "signatory_name",
    "signatory_title",
    "logo_id",
    "signature_id",
    "letter_prefix",
    "letter_template",
    "second_language",
    "second_template",
    "label_sheet",
)
# A custom label sheet: sizes in millimetres, then the grid. Keys as documents.badges reads them.
SHEET_LENGTHS = (
    "page_width",
    "page_height",
    "label_width",
    "label_height",
    "margin_top",
    "margin_left",
    "gap_horizontal",
    "gap_vertical",
)
SHEET_COUNTS = ("columns", "rows")


class SettingsRefused(Exception):
    """A change the settings cannot take; `field` names the form field it belongs to (None: the whole form)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SettingsChange:
    """What the settings form asks: the new values, the uploads (None: keep the image) and the removals."""

    host_organisation: str = ""
    address: str = ""
    signatory_name: str = ""
    signatory_title: str = ""
    letter_prefix: str = ""
    letter_template: str = ""
    second_language: str = ""
    second_template: str = ""
    label_sheet: dict | None = None
    logo: FileStorage | None = None
    signature: FileStorage | None = None
    remove: frozenset[str] = field(default_factory=frozenset)  # "logo", "signature"


def default_prefix(event: Event) -> str:
    """The letter numbers' prefix an event starts with: its slug in capitals and its year, e.g. ANSO-2027."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", event.slug).strip("-").upper()
    year = str(event.starts_at.year)
    return f"{slug[: MAX_PREFIX_LENGTH - len(year) - 1]}-{year}" if slug else year


def document_settings(event: Event) -> DocumentSettings:
    """The event's document settings: the stored row, or an unsaved one holding the defaults."""
    settings = db.session.get(DocumentSettings, event.id)
    if settings is None:
        settings = DocumentSettings(
            event_id=event.id,
            host_organisation="",
            address="",
            signatory_name="",
            signatory_title="",
            letter_prefix=default_prefix(event),
            letter_template=DEFAULT_LETTER_TEMPLATE,
            second_language="",
            second_template="",
            label_sheet=None,
        )
    return settings


def letter_template_problem(text: str) -> str | None:
    """Why a letter's template cannot be used (a placeholder not in the list), or None."""
    unknown = unknown_placeholders(text, LETTER_PLACEHOLDERS)
    if unknown:
        return _l(
            "Unknown placeholder(s): %(names)s. Use only those listed below.",
            names=", ".join("{" + name + "}" for name in unknown),
        )
    return None


def label_sheet_problem(sheet: dict) -> str | None:
    """Why a custom label sheet cannot be printed (a size that is not positive, labels that overflow the page),
    or None: the badges' own check (documents/badge_layouts.py)."""
    return " ".join(str(problem) for problem in label_sheet_problems(sheet)) or None


def prefix_taken(event_id: int, prefix: str) -> bool:
    """Whether another event numbers its letters with `prefix` (in its settings, or on letters already issued):
    a letter's number names it on the verification page, so two events may never share one."""
    others = select(DocumentSettings.event_id).where(
        DocumentSettings.event_id != event_id, func.upper(DocumentSettings.letter_prefix) == prefix.upper()
    )
    issued = select(VisaLetter.id).where(
        VisaLetter.event_id != event_id, func.upper(VisaLetter.number).like(f"{prefix.upper()}-%")
    )
    return db.session.scalar(others.limit(1)) is not None or db.session.scalar(issued.limit(1)) is not None


def check_change(change: SettingsChange, languages: list[str], event_id: int | None = None) -> None:
    """Raise SettingsRefused for the first value the settings cannot take."""
    prefix = change.letter_prefix
    if not prefix or len(prefix) > MAX_PREFIX_LENGTH or not PREFIX_PATTERN.fullmatch(prefix):
        raise SettingsRefused(
            _l(
                "Letters, digits and single hyphens only, at most %(max)d characters, e.g. ANSO-2027.",
                max=MAX_PREFIX_LENGTH,
            ),
            "letter_prefix",
        )
    if event_id is not None and prefix and prefix_taken(event_id, prefix):
        raise SettingsRefused(
            _l("Another event numbers its letters with %(prefix)s: please choose another prefix.", prefix=prefix),
            "letter_prefix",
        )
    if not change.letter_template.strip():
        raise SettingsRefused(_l("The letter needs a text."), "letter_template")
    for name in ("letter_template", "second_template"):
        if problem := letter_template_problem(getattr(change, name)):
            raise SettingsRefused(problem, name)
    if change.second_language and change.second_language not in languages:
        raise SettingsRefused(_l("Please choose one of the languages offered."), "second_language")
    if change.second_language and not change.second_template.strip():
        raise SettingsRefused(_l("Please write the letter in the second language too."), "second_template")
    if change.label_sheet is not None and (problem := label_sheet_problem(change.label_sheet)):
        raise SettingsRefused(problem, "label_sheet")


def _read_uploads(change: SettingsChange) -> dict[str, tuple[bytes, str, int, int]]:
    """The change's uploads re-encoded, by purpose: done before the write lock is taken, so that no other writer
    waits while Pillow decodes. Raises SettingsRefused."""
    encoded = {}
    for purpose in ("logo", "signature"):
        upload = getattr(change, purpose)
        if upload is not None:
            try:
                encoded[purpose] = read_upload(upload)
            except ImageRefused as refusal:
                raise SettingsRefused(refusal.message, purpose) from None
    return encoded


def _replace_image(
    event: Event, settings: DocumentSettings, purpose: str, change: SettingsChange, encoded: dict
) -> None:
    if purpose not in encoded and purpose not in change.remove:
        return
    new_id = None
    if purpose in encoded:
        image = add_image(event, purpose, encoded[purpose])
        db.session.flush()
        new_id = image.id
    # The replaced image is kept: letters already issued name it by id, and render again as they were issued.
    setattr(settings, f"{purpose}_id", new_id)


def save_settings(
    event: Event, change: SettingsChange, organizer: Organizer | None, languages: list[str]
) -> DocumentSettings:
    """Save an event's document settings in ONE transaction with one audit entry ("event.documents_changed", the
    changed values before and after). Raises SettingsRefused (nothing written)."""
    try:
        encoded = _read_uploads(change)
        # The event's lock first: two saves (the first one of all creates the row) take turns, and on SQLite a
        # transaction that began by reading cannot fail with "database is locked" when it comes to write.
        event = lock_event(event.id)
        check_change(change, languages, event.id)
        settings = document_settings(event)
        before = audit.snapshot(settings, AUDITED) if settings in db.session else {}
        db.session.add(settings)
        for name in AUDITED:
            if name not in ("logo_id", "signature_id"):
                setattr(settings, name, getattr(change, name))
        if not change.second_language:
            settings.second_template = ""
        for purpose in ("logo", "signature"):
            _replace_image(event, settings, purpose, change, encoded)
        db.session.flush()
        old, new = audit.changes(before, audit.snapshot(settings, AUDITED))
        if old or new:
            audit.record("event.documents_changed", event=event, organizer=organizer, before=old, after=new)
        db.session.commit()
        return settings
    except BaseException:
        db.session.rollback()
        raise
