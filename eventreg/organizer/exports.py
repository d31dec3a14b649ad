"""Exports of an event's registrations as CSV and XLSX, written row by row so memory stays flat on any size.

Rows come from the database in batches (yield_per); CSV leaves in chunks as it is written; XLSX goes through
openpyxl's write-only workbook into a temporary file that is then sent in chunks. Text that a spreadsheet would
run as a formula is neutralised in both formats (OWASP "CSV injection"). The XLSX has real dates (in UTC and in
the event's timezone, as the CSV's two columns), a frozen header row, an autofilter and column widths.
"""

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from sqlalchemy import Select

from ..categories.services import category_labels
from ..extensions import db
from ..geo.countries import country_name
from ..geo.regions import CONTINENT_LABELS, SUBREGION_LABELS, continent_of, subregion_of
from ..models import CATEGORY_LABELS, STATUS_LABELS, Delegation, Event, Organizer, Registration, utcnow
from ..registration.needs import may_see

BATCH = 1000  # rows fetched from the database at a time
CSV_ROWS_PER_CHUNK = 200  # rows per piece of the CSV response
FILE_CHUNK = 64 * 1024  # bytes per piece of the XLSX response
BOM = "\ufeff"  # lets Excel recognise UTF-8
# A cell starting with one of these is a formula to a spreadsheet (tab and CR too, per OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_MIMETYPE = "text/csv"  # Flask adds "; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """One column of the export: its header and how to read its value from a registration row."""

    header: Callable[[Event], str]
    value: Callable[[object, "Labels"], object]
    need: str | None = None  # a need ("dietary", "accessibility"): only for organizers who may see it
    width: int = 14  # characters, in the XLSX (wider when the header is)
    cell: Callable[[object, "Labels"], object] | None = None  # the XLSX's value, when it is not `value` (a date)


@dataclass(frozen=True)
class Labels:
    """Everything translated or per event that the rows need, looked up once per export, not once per row."""

    event: Event
    statuses: dict[str, str]
    categories: dict[str, str]
    delegations: dict[int, str]
    yes: str
    no: str
    places: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def place(self, code: str) -> tuple[str, str, str]:
        """(country name, continent, sub-region) of a country code, translated once per export."""
        if code not in self.places:
            self.places[code] = (
                country_name(code),
                str(CONTINENT_LABELS[continent_of(code)]),
                str(SUBREGION_LABELS[subregion_of(code)]),
            )
        return self.places[code]


def neutralise(value):
    """Text that a spreadsheet would run as a formula, made plain text with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def iso_utc(moment: datetime | None) -> str:
    """A moment in ISO 8601, UTC: 2027-03-01T02:00:00Z."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(moment: datetime | None, event: Event) -> str:
    """A moment in ISO 8601 in the event's timezone, with its offset: 2027-03-01T10:00:00+08:00."""
    return "" if moment is None else event.local(moment).isoformat(timespec="seconds")


def spreadsheet_time(moment: datetime | None, event: Event | None = None) -> datetime | None:
    """A moment as a spreadsheet date (which has no zone): the wall time in UTC, or in the event's timezone."""
    if moment is None:
        return None
    local = event.local(moment) if event is not None else moment.astimezone(UTC)
    return local.replace(tzinfo=None, microsecond=0)  # to the second, as the CSV


def _fixed(text) -> Callable[[Event], str]:
    return lambda event: str(text)


def _moment_columns(attribute: str, label) -> list[Column]:
    """A date as two columns: in UTC and in the event's timezone (text in the CSV, dates in the XLSX)."""
    return [
        Column(
            lambda event: _("%(label)s (UTC)", label=label),
            lambda row, labels: iso_utc(getattr(row, attribute)),
            width=20,
            cell=lambda row, labels: spreadsheet_time(getattr(row, attribute)),
        ),
        Column(
            lambda event: _("%(label)s (%(zone)s)", label=label, zone=event.timezone),
            lambda row, labels: iso_local(getattr(row, attribute), labels.event),
            width=20,
            cell=lambda row, labels: spreadsheet_time(getattr(row, attribute), labels.event),
        ),
    ]


# Every field of a registration people gave or organizers set; the private link's token is left out on purpose.
COLUMNS: list[Column] = [
    Column(_fixed(_l("Number")), lambda row, labels: row.id, width=9),
    Column(_fixed(_l("Check-in code")), lambda row, labels: row.checkin_code, width=14),
    Column(_fixed(_l("Status")), lambda row, labels: labels.statuses.get(row.status, row.status)),
    Column(_fixed(_l("Honorific")), lambda row, labels: row.honorific, width=10),
    Column(_fixed(_l("Given name")), lambda row, labels: row.given_name, width=18),
    Column(_fixed(_l("Family name")), lambda row, labels: row.family_name, width=18),
    Column(_fixed(_l("Name in native script")), lambda row, labels: row.native_name, width=22),
    Column(_fixed(_l("Email")), lambda row, labels: row.email, width=32),
    Column(_fixed(_l("Institution")), lambda row, labels: row.institution, width=36),
    Column(_fixed(_l("Position")), lambda row, labels: row.position, width=24),
    Column(_fixed(_l("Country or region code")), lambda row, labels: row.country, width=8),
    Column(_fixed(_l("Country or region")), lambda row, labels: labels.place(row.country)[0], width=24),
    Column(_fixed(_l("Continent")), lambda row, labels: labels.place(row.country)[1]),
    Column(_fixed(_l("Sub-region")), lambda row, labels: labels.place(row.country)[2], width=22),
    Column(_fixed(_l("Category code")), lambda row, labels: row.category, width=12),
    Column(
        _fixed(_l("Category")),
        lambda row, labels: labels.categories.get(row.category) or str(CATEGORY_LABELS.get(row.category, row.category)),
    ),
    Column(_fixed(_l("Delegation")), lambda row, labels: labels.delegations.get(row.delegation_id, ""), width=30),
    Column(_fixed(_l("Accompanying persons")), lambda row, labels: row.accompanying, width=10),
    Column(_fixed(_l("Visa letter requested")), lambda row, labels: labels.yes if row.visa_letter else labels.no),
    Column(_fixed(_l("Dietary requirements")), lambda row, labels: row.dietary, need="dietary", width=30),
    Column(_fixed(_l("Accessibility needs")), lambda row, labels: row.accessibility, need="accessibility", width=30),
    Column(_fixed(_l("Language")), lambda row, labels: row.language, width=9),
    *_moment_columns("created_at", _l("Registered")),
    *_moment_columns("updated_at", _l("Last changed")),
    *_moment_columns("consent_at", _l("Consent given")),
    *_moment_columns("checked_in_at", _l("Checked in")),
]

# Only the columns the export reads: no ORM objects, no identity map growing with the export.
ROW_FIELDS = (
    Registration.id,
    Registration.checkin_code,
    Registration.status,
    Registration.honorific,
    Registration.given_name,
    Registration.family_name,
    Registration.native_name,
    Registration.email,
    Registration.institution,
    Registration.position,
    Registration.country,
    Registration.category,
    Registration.delegation_id,
    Registration.accompanying,
    Registration.visa_letter,
    Registration.dietary,
    Registration.accessibility,
    Registration.language,
    Registration.created_at,
    Registration.updated_at,
    Registration.consent_at,
    Registration.checked_in_at,
)


@dataclass(frozen=True)
class Export:
    """What one export writes: the columns the organizer may see, with translated headers, and the rows."""

    event: Event
    columns: list[Column]
    headers: list[str]
    query: Select

    def rows(self, spreadsheet: bool = False) -> Iterator[list]:
        """Each registration as a list of cell values (the XLSX's, dates as dates, when `spreadsheet`), read from
        the database in batches."""
        values = [(column.cell or column.value) if spreadsheet else column.value for column in self.columns]
        labels = Labels(
            event=self.event,
            statuses={key.value: str(label) for key, label in STATUS_LABELS.items()},
            categories=category_labels(self.event.id),
            delegations=dict(
                db.session.execute(
                    db.select(Delegation.id, Delegation.name).where(Delegation.event_id == self.event.id)
                ).all()
            ),
            yes=_("Yes"),
            no=_("No"),
        )
        result = db.session.execute(self.query.execution_options(yield_per=BATCH))
        for row in result:
            yield [value(row, labels) for value in values]


def registrations_export(event: Event, query: Select, organizer: Organizer) -> Export:
    """The export of the registrations `query` selects (the attendee list's filter and sort), for this organizer."""
    columns = [column for column in COLUMNS if column.need is None or may_see(organizer, column.need)]
    return Export(
        event=event,
        columns=columns,
        headers=[column.header(event) for column in columns],
        query=query.with_only_columns(*ROW_FIELDS),
    )


def csv_chunks(export: Export) -> Iterator[bytes]:
    """The export as UTF-8 CSV with a BOM, in pieces of a few hundred rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(neutralise(header) for header in export.headers)
    yield _drain(buffer)
    for count, row in enumerate(export.rows(), start=1):
        writer.writerow([neutralise(value) for value in row])
        if count % CSV_ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def _xlsx_cell(value):
    """A cell value for openpyxl: numbers stay numbers; text is neutralised and cleared of characters XML forbids."""
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def write_xlsx(export: Export) -> IO[bytes]:
    """The export as an XLSX workbook in an anonymous temporary file (gone when closed), rewound for reading: the
    header row frozen, an autofilter over every row, each column as wide as its kind of value (or its header)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Registrations")[:31])
    # A write-only sheet takes its column widths before the first row.
    for number, (column, header) in enumerate(zip(export.columns, export.headers, strict=True), start=1):
        sheet.column_dimensions[get_column_letter(number)].width = max(column.width, min(len(header) + 2, 40))
    sheet.freeze_panes = "A2"
    sheet.append([_xlsx_cell(header) for header in export.headers])
    last_row = 1
    for row in export.rows(spreadsheet=True):
        sheet.append([_xlsx_cell(value) for value in row])
        last_row += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(export.headers))}{last_row}"
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it after sending
    try:
        workbook.save(handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """A file's content in pieces, closing (and so deleting a temporary) file at the end."""
    try:
        while chunk := handle.read(FILE_CHUNK):
            yield chunk
    finally:
        handle.close()


def export_filename(event: Event, extension: str, now: datetime | None = None) -> str:
    """The download's name: the event's slug, 'registrations' and today's date (UTC)."""
    day = (now or utcnow()).astimezone(UTC).date().isoformat()
    return f"{event.slug}-registrations-{day}.{extension}"
