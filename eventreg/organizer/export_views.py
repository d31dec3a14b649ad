"""Downloads of the attendee list, as filtered on screen: CSV and XLSX."""

import os
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _

from ..attendees.filters import AttendeeFilter
from ..auth.access import current_organizer, managed_event, requires
from ..models import Right
from .exports import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    Export,
    csv_chunks,
    export_filename,
    file_chunks,
    registrations_export,
    write_xlsx,
)

bp = Blueprint("exports", __name__, url_prefix="/organizer")


def attachment(filename: str) -> str:
    """A Content-Disposition header for a download: a plain ASCII name, and the exact one per RFC 5987."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _export_or_problems(slug: str) -> Export | Response:
    """The export the query string asks for, or a 400 page listing the filters that were not understood."""
    event = managed_event(slug)
    attendee_filter, problems = AttendeeFilter.from_args(request.args)
    if problems:
        # Exporting something other than what was asked would be worse than exporting nothing.
        message = _("Nothing was exported: the list's filters were not understood.")
        page = render_template("error.html", code=400, message=" ".join([message, *problems]))
        return Response(page, status=400)
    return registrations_export(event, attendee_filter.select(event), current_organizer())


def _download(body, mimetype: str, filename: str, length: int | None = None) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment(filename)
    response.headers["Cache-Control"] = "no-store"
    if length is not None:
        response.content_length = length
    return response


@bp.get("/events/<slug:slug>/registrations.csv")
@requires(Right.MANAGE_EVENTS)
def csv(slug: str):
    """The filtered attendee list as CSV (UTF-8 with BOM, so Excel reads it), streamed as it is written."""
    export = _export_or_problems(slug)
    if isinstance(export, Response):
        return export
    return _download(stream_with_context(csv_chunks(export)), CSV_MIMETYPE, export_filename(export.event, "csv"))


@bp.get("/events/<slug:slug>/registrations.xlsx")
@requires(Right.MANAGE_EVENTS)
def xlsx(slug: str):
    """The filtered attendee list as an Excel workbook, built in a temporary file and sent in pieces."""
    export = _export_or_problems(slug)
    if isinstance(export, Response):
        return export
    handle = write_xlsx(export)
    length = os.fstat(handle.fileno()).st_size
    response = _download(file_chunks(handle), XLSX_MIMETYPE, export_filename(export.event, "xlsx"), length)
    response.call_on_close(handle.close)  # also when the client leaves before the end
    return response
