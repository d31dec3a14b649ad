"""An import of invitations from a CSV or XLSX file: parsed into a preview kept in the database (InvitationImport),
then applied in chunks with its progress recorded, or cancelled."""

import csv
import io
import zipfile
from datetime import datetime

from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..data_keys import seal
from ..database import insert_or_skip
from ..extensions import db
from ..models import Delegation, Event, Invitation, InvitationImport, Organizer, utcnow
from ..models.common import KEY_EXPANSION, casefold_key, new_token, person_search_key, token_digest
from ..models.guests import InvitationStatus
from ..models.registration import NAME_KEY_WIDTH
from .services import PERSON_FIELDS, address_problem, category_lookup, country_code, language_code, send_invitations

# Each column an import reads, with the header names it is known by (compared casefolded, "_" and "-" as spaces).
HEADERS = {
    "email": ("email", "e mail", "email address", "e mail address", "mail"),
    "honorific": ("honorific", "title", "salutation"),
    "given_name": ("given name", "first name", "firstname", "forename", "given names"),
    "family_name": ("family name", "last name", "lastname", "surname"),
    "native_name": ("native name", "native script name", "name in own script", "native script"),
    "institution": ("institution", "organisation", "organization", "affiliation"),
    "position": ("position", "job title", "function"),
    "country": ("country", "country code", "country or region"),
    "category": ("category",),
    "language": ("language", "lang", "mail language"),
    "delegation": ("delegation", "delegation name"),
}
_HEADER_NAMES = {synonym: column for column, synonyms in HEADERS.items() for synonym in synonyms}
# The longest text each column holds.
LIMITS = {
    **{name: Invitation.__table__.c[name].type.length for name in ("email", *PERSON_FIELDS)},
    "delegation": Delegation.__table__.c.name.type.length,
}
MAX_ROWS = 20_000  # a ceremony's guest list is far shorter; keeps a preview's JSON within reason
CHUNK_ROWS = 500  # rows written per transaction when an import is applied


class ImportFileError(ValueError):
    """A file that cannot be read as a list of invitations; the message says why, for the organizer."""


class ImportStateError(ValueError):
    """An import that cannot be confirmed or cancelled any more (done, cancelled)."""


def _header_key(text) -> str:
    return " ".join(str(text or "").casefold().replace("_", " ").replace("-", " ").split())


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table_rows(filename: str, data: bytes) -> list[list[str]]:
    """The file's rows as lists of text, its header first."""
    if filename.lower().endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise ImportFileError(_("This file cannot be read as an Excel (XLSX) workbook.")) from None
        try:
            return [[_cell(value) for value in row] for row in workbook.active.iter_rows(values_only=True)]
        finally:
            workbook.close()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("This CSV file is not in UTF-8; please save it as “CSV UTF-8”.")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        return [
            [cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error:
        raise ImportFileError(_("This CSV file cannot be read.")) from None


def parse_file(filename: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as (row number in the file, {column: text}), blank rows left out."""
    table = _table_rows(filename, data)
    if not table:
        raise ImportFileError(_("The file is empty."))
    columns = [_HEADER_NAMES.get(_header_key(name)) for name in table[0]]
    if "email" not in columns:
        raise ImportFileError(_("The first row must name the columns, one of them “email”."))
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {column: cell for column, cell in zip(columns, cells, strict=False) if column and cell}
        if values:
            rows.append((number, values))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("The file has more than %(count)s rows; please split it.", count=MAX_ROWS))
    return rows


def _checked(values: dict[str, str], categories: dict[str, str]) -> tuple[dict, str | None]:
    """A row's values resolved to what an invitation holds, and why it is refused, or None."""
    for column, limit in LIMITS.items():
        if len(values.get(column, "")) > limit:
            return values, _("The %(column)s is longer than %(limit)d characters.", column=column, limit=limit)
    email, problem = address_problem(values.get("email", ""))
    if problem:
        return values, problem
    resolved = {**values, "email": email}
    lookups = {
        "country": (country_code, _("Unknown country or region: %(value)s.")),
        "category": (lambda text: categories.get(text.casefold()), _("Unknown category: %(value)s.")),
        "language": (language_code, _("Unknown or unoffered language: %(value)s.")),
    }
    for column, (lookup, message) in lookups.items():
        if column in values:
            resolved[column] = lookup(values[column])
            if not resolved[column]:
                return values, message % {"value": values[column]}
    return resolved, None


def preview_import(
    event_id: int, filename: str, data: bytes, organizer: Organizer | None = None, *, keep: bool = True
) -> InvitationImport:
    """Parse a file and store its preview: each row to add, to update (the event already invites the address) or
    refused with its reason. Nothing else is written (nothing at all unless `keep`). ImportFileError when the file
    cannot be read."""
    parsed = parse_file(filename, data)
    existing = dict(
        db.session.execute(select(Invitation.email_key, Invitation.id).where(Invitation.event_id == event_id)).all()
    )
    categories = category_lookup(event_id)
    seen: dict[str, int] = {}
    rows = []
    for number, values in parsed:
        resolved, reason = _checked(values, categories)
        key = casefold_key(resolved.get("email", ""), 254 * KEY_EXPANSION)
        if reason is None and key in seen:
            reason = _("The same address as row %(row)d.", row=seen[key])
        if reason is not None:
            rows.append({"row": number, "action": "refused", "reason": reason, "values": values})
            continue
        seen[key] = number
        action = "update" if key in existing else "add"
        rows.append({"row": number, "action": action, "values": resolved})
    counts = {action: sum(row["action"] == action for row in rows) for action in ("add", "update", "refused")}
    preview = InvitationImport(
        event_id=event_id,
        organizer_id=organizer.id if organizer is not None else None,
        filename=filename[:255],
        rows=rows,
        counts=counts,
    )
    if keep:
        db.session.add(preview)
        db.session.commit()
    return preview


def import_in(event_id: int, import_id: int) -> InvitationImport | None:
    """The event's import with this id, or None."""
    preview = db.session.get(InvitationImport, import_id)
    return preview if preview is not None and preview.event_id == event_id else None


def to_apply(preview: InvitationImport) -> list[dict]:
    """The rows a confirmation writes, in the file's order."""
    return [row for row in preview.rows if row["action"] != "refused"]


def cancel_import(import_id: int) -> None:
    """Drop a preview: nothing of it is written. ImportStateError once it is being applied or done."""
    done = db.session.execute(
        update(InvitationImport)
        .where(InvitationImport.id == import_id, InvitationImport.state == "preview")
        .values(state="cancelled", finished_at=utcnow())
    )
    db.session.commit()
    if done.rowcount != 1:
        raise ImportStateError(_("This import can no longer be cancelled."))


def apply_import(import_id: int, *, send: bool = False, organizer: Organizer | None = None) -> InvitationImport:
    """Write a previewed import, CHUNK_ROWS rows a transaction, recording the progress in `applied`; an import
    interrupted while applying resumes after its last written chunk. `send` then queues the invitation mail of
    every added or updated invitation not yet sent."""
    claimed = db.session.execute(
        update(InvitationImport)
        .where(InvitationImport.id == import_id, InvitationImport.state.in_(("preview", "applying")))
        .values(state="applying")
    )
    db.session.commit()
    preview = db.session.get(InvitationImport, import_id)
    if claimed.rowcount != 1:
        raise ImportStateError(_("This import was already applied or cancelled."))
    event_id, rows = preview.event_id, to_apply(preview)
    try:
        named = {row["values"]["delegation"] for row in rows if "delegation" in row["values"]}
        delegations = _delegations(event_id, named)
        for start in range(preview.applied, len(rows), CHUNK_ROWS):
            _write_chunk(event_id, rows[start : start + CHUNK_ROWS], delegations)
            db.session.execute(
                update(InvitationImport).where(InvitationImport.id == import_id).values(applied=start + CHUNK_ROWS)
            )
            db.session.commit()
    except IntegrityError:
        # Another request applies the same import at this moment (a second press of Confirm): its rows won, the
        # unique invitation per address refused ours, and that request finishes the import.
        db.session.rollback()
        raise ImportStateError(
            _("This import is being applied by another request; its page shows its progress.")
        ) from None
    finished = db.session.execute(
        update(InvitationImport)
        .where(InvitationImport.id == import_id, InvitationImport.state == "applying")
        .values(applied=len(rows), state="applied", finished_at=utcnow())
    )
    preview = db.session.get(InvitationImport, import_id)
    if finished.rowcount == 1:  # recorded once, by the request that finished it
        event = db.session.get(Event, event_id)
        audit.record(
            "invitation.imported", event=event, after={"file": preview.filename, **preview.counts}, organizer=organizer
        )
    db.session.commit()
    if send and rows:
        keys = [casefold_key(row["values"]["email"], 254 * KEY_EXPANSION) for row in rows]
        ids = [
            invitation_id
            for start in range(0, len(keys), CHUNK_ROWS)
            for invitation_id in db.session.scalars(
                select(Invitation.id).where(
                    Invitation.event_id == event_id, Invitation.email_key.in_(keys[start : start + CHUNK_ROWS])
                )
            )
        ]
        send_invitations(event_id, ids, organizer, unsent_only=True)
    return preview


def _delegations(event_id: int, names: set[str]) -> dict[str, int]:
    """Casefolded delegation name → id, creating the missing ones (quota 0 until the organizers set it)."""
    keys = {casefold_key(name, 200 * KEY_EXPANSION): name for name in names}
    found = dict(
        db.session.execute(select(Delegation.name_key, Delegation.id).where(Delegation.event_id == event_id)).all()
    )
    for key, name in keys.items():
        if key not in found:
            delegation = Delegation(event_id=event_id, name=name, quota=0)
            db.session.add(delegation)
            db.session.flush()
            found[key] = delegation.id
    db.session.commit()
    return found


def _columns(values: dict, delegations: dict[str, int]) -> dict:
    columns = {name: value for name, value in values.items() if name != "delegation"}
    if "delegation" in values:
        columns["delegation_id"] = delegations[casefold_key(values["delegation"], 200 * KEY_EXPANSION)]
    return columns


def _write_chunk(event_id: int, rows: list[dict], delegations: dict[str, int]) -> None:
    """Insert the new invitations of a chunk with one Core statement, update the existing ones (the addresses are
    looked up again: an invitation added since the preview is updated, not doubled). Cells left empty in the file
    keep what an existing invitation says."""
    keys = {casefold_key(row["values"]["email"], 254 * KEY_EXPANSION): row for row in rows}
    existing = {
        invitation.email_key: invitation
        for invitation in db.session.scalars(
            select(Invitation).where(Invitation.event_id == event_id, Invitation.email_key.in_(list(keys)))
        )
    }
    now: datetime = utcnow()
    inserts = []
    for key, row in keys.items():
        columns = _columns(row["values"], delegations)
        if key in existing:
            for name, value in columns.items():
                setattr(existing[key], name, value)
            continue
        token = new_token()
        inserts.append(
            {
                **dict.fromkeys(("honorific", *PERSON_FIELDS, "country", "category", "language"), ""),
                "delegation_id": None,
                **columns,
                "event_id": event_id,
                "email_key": key,
                "name_key": person_search_key(
                    columns.get("family_name", ""),
                    columns.get("given_name", ""),
                    columns.get("native_name", ""),
                    NAME_KEY_WIDTH,
                ),
                "token_sealed": seal(token),
                "token_digest": token_digest(token),
                "status": InvitationStatus.NOT_SENT.value,
                "created_at": now,
                "updated_at": now,
            }
        )
    if inserts:
        # A second request confirming the same import at the same moment (a double press) may have inserted some of
        # these addresses since the lookup: each is inserted once, by whichever request comes first.
        db.session.execute(insert_or_skip(Invitation.__table__, "event_id", "email_key"), inserts)
