"""The one PDF engine: WeasyPrint, HTML and CSS laid out by Pango, every script shaped by HarfBuzz (Arabic joined
and right to left, CJK, Devanagari, Thai), fonts from Debian's Noto packages embedded as subsets.

docs/architecture.md ("Documents") says why WeasyPrint and not ReportLab with uharfbuzz, with the measurements of
bench/pdf_engines.py. Nothing is fetched from the network while rendering: the URL fetcher serves only files under
the app's static/ folder and images stored in the database (documents/images); any other address is refused.

WeasyPrint lays out every page of a document before it writes any, so memory grows with the document: a long run
is rendered in chunks (render_joined) and the chunks' PDFs are joined with pypdf.
"""

import io
import mimetypes
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import segno
from flask import current_app
from pypdf import PdfWriter
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

from ..extensions import db
from ..models import StoredImage

# The address documents are laid out at: relative URLs in templates resolve under it, and the fetcher below knows
# only its two folders. ".invalid" is reserved (RFC 2606): no request could ever reach a host of that name.
BASE_URL = "https://documents.eventreg.invalid/"
STATIC_PREFIX = BASE_URL + "static/"
IMAGE_PREFIX = BASE_URL + "images/"


class FetchRefused(ValueError):
    """The document asked for a resource outside static/ and the stored images."""


def static_url(filename: str) -> str:
    """The address of a file under static/ inside a document."""
    return STATIC_PREFIX + filename


def image_url(image_id: int) -> str:
    """The address of a stored image (models.StoredImage) inside a document."""
    return f"{IMAGE_PREFIX}{image_id}"


class DocumentFetcher(URLFetcher):
    """WeasyPrint's URL fetcher for documents: a file under static/, a stored image, or a data: URL (a QR code);
    nothing else, and never the network. A refused address stops the rendering (fail_on_errors), so a template
    that points elsewhere fails loudly instead of printing without the resource."""

    def __init__(self):
        super().__init__(allowed_protocols=("data",), allow_redirects=False, fail_on_errors=True)

    def fetch(self, url, headers=None):
        """The resource at `url`, from static/, the stored images, or the data: URL itself."""
        if url.startswith(STATIC_PREFIX):
            # The file's name without query or fragment, percent-escapes decoded (a "%2E%2E/" is then refused by
            # safe_join like any "../").
            name = unquote(urlsplit(url).path.removeprefix(urlsplit(STATIC_PREFIX).path))
            path = safe_join(current_app.static_folder, name)
            if path is None or not Path(path).is_file():
                raise FetchRefused(f"no such static file: {url}")
            mime_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return URLFetcherResponse(url, Path(path).read_bytes(), {"Content-Type": mime_type})
        if url.startswith(IMAGE_PREFIX):
            key = url[len(IMAGE_PREFIX) :]
            image = db.session.get(StoredImage, int(key)) if key.isdigit() and len(key) < 12 else None
            if image is None:
                raise FetchRefused(f"no such stored image: {url}")
            return URLFetcherResponse(url, image.data, {"Content-Type": image.content_type})
        if url.startswith("data:"):
            return super().fetch(url, headers)  # decoded by urllib's DataHandler: no network involved
        raise FetchRefused(f"documents fetch nothing from outside the app: {url}")


def render_pdf(html: str, font_config: FontConfiguration | None = None) -> bytes:
    """One HTML document as PDF bytes; FetchRefused when it asks for a resource the fetcher does not serve."""
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=DocumentFetcher())
    try:
        return document.write_pdf(font_config=font_config or FontConfiguration())
    except FatalURLFetchingError as error:
        # WeasyPrint's error is a BaseException: a document job's `except Exception` would miss it and the worker's
        # thread would die with the job left claimed. An ordinary exception fails the job instead.
        raise FetchRefused(str(error.__cause__ or error)) from error


def render_joined(chunks: Iterable[str], progress: Callable[[int], None] | None = None) -> bytes:
    """Several HTML documents (chunks of one long run) rendered one after the other and joined into one PDF; only
    one chunk's layout is in memory at a time. `progress(n)` is called after each chunk with its number (1, 2…)."""
    font_config = FontConfiguration()
    writer = PdfWriter()
    for number, html in enumerate(chunks, start=1):
        writer.append(io.BytesIO(render_pdf(html, font_config)))
        if progress:
            progress(number)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def qr_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data: URL, drawn as vectors (sharp at any print size)."""
    return segno.make_qr(text, error="m").svg_data_uri(border=0, dark="#000", light=None, unit="mm")
