"""Name badges: a run of them as one PDF (layouts in badge_layouts.py, each badge's text in badge_faces.py), the
registrations a run prints, and the document job that renders a large run outside the web request.

A run is rendered in chunks of about CHUNK_BADGES badges (whole pages) and joined (engine.render_joined):
WeasyPrint lays out a whole document before writing it, so memory stays flat however long the run is.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from werkzeug.datastructures import MultiDict

from ..attendees.filters import AttendeeFilter
from ..extensions import db
from ..models import DocumentSettings, Event, Registration, Status
from .badge_faces import badge_face, categories_of, text_direction_of
from .badge_layouts import CUSTOM, LAYOUTS, LabelSheet, label_sheet_from
from .engine import render_joined, static_url
from .jobs import JobError, add_job_kind

CHUNK_BADGES = 200
# Room around a lone badge for its crop marks (the "single" layout with crop marks), in mm.
CROP_BLEED = 8.0
MARK_LENGTH, MARK_OFFSET = 5.0, 1.0  # mm


class UnknownLayout(ValueError):
    """The layout asked for does not exist (or the event has no usable custom label sheet)."""


@dataclass(frozen=True)
class Geometry:
    """The sizes inside one badge, scaled from the A6 portrait and the ID-card landscape designs (mm and pt)."""

    width: float
    height: float
    landscape: bool
    padding: float
    title_pt: float
    name_pt: float
    text_pt: float
    qr: float
    band: float
    band_pt: float

    @property
    def name_width(self) -> float:
        """The width the name may take, in mm."""
        if self.landscape:
            return self.width - 3 * self.padding - self.qr
        return self.width - 2 * self.padding


def geometry(sheet: LabelSheet) -> Geometry:
    """The badge's inner sizes for a label of this sheet."""
    w, h = sheet.label_width, sheet.label_height
    if w >= h * 0.9:  # cards and landscape labels: text on the left, QR code on the right
        s = min(w / 86, h / 54)
        return Geometry(w, h, True, 3.5 * s, 7 * s, 17 * s, 7.5 * s, 19 * s, 9 * s, 9.5 * s)
    s = min(w / 105, h / 148)
    return Geometry(w, h, False, 6 * s, 10 * s, 28 * s, 11 * s, 30 * s, 16 * s, 15 * s)


def layout_sheet(event: Event, layout: str, sheet: LabelSheet | None = None) -> LabelSheet:
    """The sheet of a layout key; "custom" is `sheet` or the event's document settings' label sheet."""
    if layout == CUSTOM:
        if sheet is None:
            settings = db.session.get(DocumentSettings, event.id)
            sheet = label_sheet_from(settings.label_sheet if settings else None)
        if sheet is None:
            raise UnknownLayout(layout)
        return sheet
    if layout not in LAYOUTS:
        raise UnknownLayout(layout)
    return LAYOUTS[layout].sheet


def layout_keys(event: Event | None = None) -> list[str]:
    """The layouts a run may use (with "custom" when the event has a usable label sheet)."""
    keys = list(LAYOUTS)
    if event is not None:
        settings = db.session.get(DocumentSettings, event.id)
        if label_sheet_from(settings.label_sheet if settings else None):
            keys.append(CUSTOM)
    return keys


def _with_bleed(sheet: LabelSheet) -> LabelSheet:
    """A lone badge on a page with room around it for its crop marks."""
    return replace(
        sheet,
        page_width=sheet.label_width + 2 * CROP_BLEED,
        page_height=sheet.label_height + 2 * CROP_BLEED,
        margin_top=CROP_BLEED,
        margin_left=CROP_BLEED,
    )


def _free_space(sheet: LabelSheet, index: int) -> tuple[float, float, float, float]:
    """Room outside the `index`-th label (left, top, right, bottom) up to the page's edge or half a gap."""
    row, column = divmod(index, sheet.columns)
    left, top = sheet.position(index)
    right_space = sheet.page_width - left - sheet.label_width
    bottom_space = sheet.page_height - top - sheet.label_height
    return (
        left if column == 0 else sheet.gap_horizontal / 2,
        top if row == 0 else sheet.gap_vertical / 2,
        right_space if column == sheet.columns - 1 else sheet.gap_horizontal / 2,
        bottom_space if row == sheet.rows - 1 else sheet.gap_vertical / 2,
    )


def crop_marks(sheet: LabelSheet, index: int) -> list[tuple[float, float, float, float]]:
    """The crop marks of one label as (left, top, width, height) lines in mm, drawn outside it where the sheet
    leaves room; none where labels touch (the cut there is the neighbour's edge)."""
    x, y = sheet.position(index)
    w, h = sheet.label_width, sheet.label_height
    left, top, right, bottom = (min(MARK_LENGTH, space - MARK_OFFSET) for space in _free_space(sheet, index))
    marks = []
    for corner_y in (y, y + h):
        if left >= 1:
            marks.append((x - MARK_OFFSET - left, corner_y, left, 0))
        if right >= 1:
            marks.append((x + w + MARK_OFFSET, corner_y, right, 0))
    for corner_x in (x, x + w):
        if top >= 1:
            marks.append((corner_x, y - MARK_OFFSET - top, 0, top))
        if bottom >= 1:
            marks.append((corner_x, y + h + MARK_OFFSET, 0, bottom))
    return marks


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _chunk_html(event, registrations, sheet, shape, language, crop) -> str:
    """One chunk of the run as an HTML document of whole pages."""
    pages = []
    categories = categories_of(event)
    for page in _chunks(registrations, sheet.per_page):
        badges = [
            (
                *sheet.position(index),
                badge_face(event, registration, language, shape.name_width, shape.name_pt, categories),
            )
            for index, registration in enumerate(page)
        ]
        marks = [mark for index in range(len(page)) for mark in crop_marks(sheet, index)] if crop else []
        pages.append({"badges": badges, "marks": marks})
    # Where labels touch on every side, a hairline outline stands in for crop marks.
    outline = crop and not any(crop_marks(sheet, index) for index in range(sheet.per_page))
    return render_template(
        "documents/badges.html",
        pages=pages,
        sheet=sheet,
        shape=shape,
        outline=outline,
        text_dir=text_direction_of,
        css_url=static_url("css/documents.css"),
    )


def badge_pdf(
    event: Event,
    registrations: Iterable[Registration],
    layout: str = "single",
    language: str | None = None,
    crop_marks: bool = False,
    sheet: LabelSheet | None = None,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The badges of `registrations`, in their order, as one PDF; `language` None prints each in the delegate's
    language. `progress(badges_done)` is called as chunks finish. Raises UnknownLayout."""
    sheet = layout_sheet(event, layout, sheet)
    shape = geometry(sheet)
    if crop_marks and sheet.per_page == 1 and sheet.page_width == sheet.label_width:
        sheet = _with_bleed(sheet)
    chunk_size = sheet.per_page * max(1, CHUNK_BADGES // sheet.per_page)
    sizes = []

    def chunk_documents() -> Iterator[str]:
        for chunk in _chunks(registrations, chunk_size):
            sizes.append(len(chunk))
            yield _chunk_html(event, chunk, sheet, shape, language, crop_marks)

    def chunk_done(number: int) -> None:
        if progress:
            progress(sum(sizes[:number]))

    return render_joined(chunk_documents(), chunk_done)


def badge_selection(event: Event, attendee_filter: AttendeeFilter, ids: list[int] | None = None) -> Select:
    """The registrations a run prints: the ticked ones (`ids`), else those of the attendee list's filter; confirmed
    ones only unless the filter names a status (cancelled, pending or waitlisted delegates get no badge by
    default); never an erased one. In the list's order."""
    if ids:
        query = select(Registration).where(Registration.event_id == event.id, Registration.id.in_(set(ids)))
        query = query.order_by(Registration.name_key, Registration.id)
    else:
        if not attendee_filter.status:
            attendee_filter = replace(attendee_filter, status=Status.CONFIRMED.value)
        query = attendee_filter.select(event)
    return query.where(Registration.erased_at.is_(None))


def count_of(query: Select) -> int:
    """How many rows a selection holds."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def badge_filename(event: Event) -> str:
    """The PDF's file name."""
    return f"badges-{event.slug}.pdf"


def run_params(attendee_filter: AttendeeFilter, ids: list[int], layout: str, crop: bool, language: str | None):
    """A run as a document job's parameters (JSON)."""
    return {"filter": attendee_filter.query_args(), "ids": ids, "layout": layout, "crop": crop, "language": language}


def render_badge_job(job, progress: Callable[[int, int], None]) -> tuple[str, bytes]:
    """A document job of kind "badges": (filename, PDF) of the run its params describe."""
    event = db.session.get(Event, job.event_id)
    params = job.params or {}
    attendee_filter, _problems = AttendeeFilter.from_args(MultiDict(params.get("filter", {})))
    query = badge_selection(event, attendee_filter, params.get("ids") or [])
    total = count_of(query)
    if total == 0:  # cancelled or changed since the run was asked for: an empty PDF would look like a success
        raise JobError(_l("No registration matches this run any more, so no badges were made."))
    progress(0, total)
    # Read in chunks (a server-side cursor on PostgreSQL), closed however the render ends.
    rows = db.session.scalars(query.execution_options(yield_per=CHUNK_BADGES))
    try:
        pdf = badge_pdf(
            event,
            rows,
            layout=params.get("layout", "a6"),
            language=params.get("language"),
            crop_marks=bool(params.get("crop")),
            progress=lambda done: progress(done, total),
        )
    except UnknownLayout:  # the custom label sheet was removed after the run was queued
        raise JobError(
            _l("This run's label sheet is no longer in the document settings, so no badges were made.")
        ) from None
    finally:
        rows.close()
    return badge_filename(event), pdf


add_job_kind("badges", render_badge_job, _l("Name badges"))
