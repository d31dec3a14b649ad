"""The PDF engine (documents/engine.py): what its fetcher serves and refuses, joined chunks, embedded fonts, and no
network while rendering."""

import io
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from eventreg.documents.engine import (
    FetchRefused,
    image_url,
    qr_data_uri,
    render_joined,
    render_pdf,
    static_url,
)
from eventreg.extensions import db
from eventreg.models import StoredImage
from tests.conftest import IN_CI


def document(body: str, head: str = "") -> str:
    """A small HTML document that links the documents' font stack, as every real document does."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="{static_url("css/documents.css")}">{head}</head><body>{body}</body></html>'
    )


def png_bytes(colour=(200, 30, 30)) -> bytes:
    """A small PNG, as documents/images stores an uploaded logo."""
    out = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, "PNG")
    return out.getvalue()


def stored_image(make_event) -> int:
    """The id of a StoredImage row (a logo) of a new event."""
    event = make_event()
    image = StoredImage(event_id=event.id, purpose="logo", content_type="image/png", data=png_bytes(), width=40,
                        height=20)  # fmt: skip
    db.session.add(image)
    db.session.commit()
    return image.id


def image_count(pdf: bytes) -> int:
    """How many raster images the PDF's pages draw."""
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def font_descriptors(pdf: bytes) -> dict[str, dict]:
    """Every font the PDF's pages use, by base name, with its font descriptor."""
    fonts = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            described = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            fonts[str(font["/BaseFont"])] = described["/FontDescriptor"].get_object()
    return fonts


def pdffonts(pdf: bytes, tmp_path) -> str:
    """poppler's `pdffonts` listing of the PDF (name, type, embedded…)."""
    if shutil.which("pdffonts") is None:
        if IN_CI:
            pytest.fail("pdffonts is missing but CI=true: apt-get install -y poppler-utils")
        pytest.skip("pdffonts is not installed (apt-get install -y poppler-utils); set CI=true to make this a failure")
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


def test_static_file_stored_image_and_data_url_are_served(app, make_event):
    """A document draws a stored image and a QR code (data: URL) and reads its stylesheet from static/."""
    with app.app_context():
        image_id = stored_image(make_event)
        pdf = render_pdf(document(f'<img src="{image_url(image_id)}"><img src="{qr_data_uri("CHECKIN-42")}">'))
    assert pdf.startswith(b"%PDF-")
    assert image_count(pdf) == 1  # the PNG; the QR code is vector SVG, drawn as paths
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_a_static_address_with_a_query_fragment_or_escapes_is_served(app, tmp_path):
    """`documents.css?v=2#top` and `documents%2Ecss` name the same static file as `documents.css`."""
    with app.app_context():
        for address in ("css/documents.css?v=2#top", "css/documents%2Ecss", "css/documents.css#fonts"):
            pdf = render_pdf(document(f'<link rel="stylesheet" href="{static_url(address)}"><p>محمد</p>'))
            assert any(name.endswith("Noto-Naskh-Arabic") for name in font_descriptors(pdf)), address


@pytest.mark.parametrize(
    "address",
    [
        "https://example.org/logo.png",
        "http://127.0.0.1:5000/static/favicon.svg",
        "file:///etc/passwd",
        "file:///usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "static/../../eventreg/config.py",  # resolved against the base URL: outside static/
        "static/..%2F..%2Feventreg/config.py",  # encoded: a file name no folder holds, never a way out
        "/etc/passwd",
        "static/css/no-such-sheet.css",
        "images/999999",  # no such stored image
        "images/1e3",
        "images/99999999999999999999999",  # longer than any id: refused without asking the database
        "ftp://example.org/logo.png",
    ],
)
def test_a_resource_outside_static_and_stored_images_stops_the_rendering(app, address):
    """A template that points anywhere else fails loudly, rather than printing a document without the resource."""
    with app.app_context(), pytest.raises(FetchRefused) as refused:
        render_pdf(document(f'<img src="{address}"><link rel="stylesheet" href="{address}">'))
    fatal = refused.value.__cause__
    assert isinstance(fatal, FatalURLFetchingError)
    assert isinstance(fatal.__cause__, FetchRefused), "refused by the fetcher itself, not by a failed download"


def test_a_refused_stylesheet_stops_the_rendering(app):
    """A stylesheet from the network is refused, not silently dropped (the document would print unstyled)."""
    with app.app_context(), pytest.raises(FetchRefused, match=r"example\.org"):
        render_pdf(document("<p>Hello</p>", head='<link rel="stylesheet" href="https://example.org/x.css">'))


def test_a_refused_resource_is_an_ordinary_exception(app):
    """A worker's `except Exception` catches a refused resource and marks its job failed: WeasyPrint's own
    FatalURLFetchingError is a BaseException that would kill the worker's thread instead."""
    with app.app_context():
        try:
            render_pdf(document('<img src="https://example.org/x.png">'))
        except Exception as error:  # noqa: BLE001 - the point of the test
            assert isinstance(error, FetchRefused)
        else:
            pytest.fail("the network image was not refused")


def test_rendering_opens_no_network_connection(app, make_event, monkeypatch):
    """With every socket connection refused, a document with a stylesheet, a stored image and a QR code renders."""
    with app.app_context():
        image_id = stored_image(make_event)

        def no_network(sock, address):
            raise AssertionError(f"the renderer connected to {address}")

        monkeypatch.setattr(socket.socket, "connect", no_network)
        monkeypatch.setattr(socket.socket, "connect_ex", no_network)
        pdf = render_pdf(document(f'<img src="{image_url(image_id)}"><img src="{qr_data_uri("X")}"><p>Ok</p>'))
        with pytest.raises(FetchRefused, match="outside the app"):  # refused before any connection, not by the guard
            render_pdf(document('<img src="https://example.org/x.png">'))
    assert image_count(pdf) == 1


def test_render_joined_joins_the_chunks_and_reports_progress(app):
    """Three chunks of 2, 3 and 1 pages make one PDF of 6 pages; progress hears of each chunk in order."""
    pages = '<div style="page-break-after: always">page</div>'
    chunks = [document(pages * 2), document(pages * 3), document("last")]
    seen = []
    with app.app_context():
        pdf = render_joined(iter(chunks), seen.append)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2 + 3 + 1
    assert seen == [1, 2, 3]


def test_render_joined_without_progress(app):
    """Progress is optional."""
    with app.app_context():
        pdf = render_joined([document("a"), document("b")])
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2


NAMES_BY_SCRIPT = {
    "Noto-Sans": "Zoë Ångström Nguyễn Thị Minh Khai Дмитрий Иванов",
    "Noto-Sans-CJK-SC": "王小明",
    "Noto-Naskh-Arabic": "محمد عبد الله",
    "Noto-Sans-Thai": "สมชาย ใจดี",
    "Noto-Sans-Devanagari": "अनिल कुमार",
}


def test_each_script_is_drawn_with_its_font_and_every_font_is_embedded(app, tmp_path):
    """Latin with diacritics, Cyrillic, Chinese, Arabic, Thai and Devanagari each find their Noto font in the
    documents' font stack, and every font is embedded (a subset): the PDF prints the same on any machine."""
    body = "".join(f"<p>{name}</p>" for name in NAMES_BY_SCRIPT.values())
    with app.app_context():
        pdf = render_pdf(document(body))
    fonts = font_descriptors(pdf)
    for family in NAMES_BY_SCRIPT:
        assert any(name.split("+")[-1] == family for name in fonts), f"no {family} font in {sorted(fonts)}"
    for name, descriptor in fonts.items():
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), f"{name} is not embedded"
    listing = pdffonts(pdf, tmp_path).splitlines()[2:]  # after the header and its rule
    assert len(listing) == len(fonts)
    for line in listing:
        assert line.split()[-5] == "yes", line  # the "emb" column


def font_families_of_the_stylesheet() -> list[str]:
    """Every family named in static/css/documents.css."""
    css = (Path(__file__).parent.parent / "static" / "css" / "documents.css").read_text()
    stacks = re.findall(r"font-family:([^;]+);", css)
    return sorted({family for stack in stacks for family in re.findall(r'"([^"]+)"', stack)})


@pytest.mark.parametrize("family", font_families_of_the_stylesheet())
def test_every_family_of_the_font_stack_is_installed(family):
    """fontconfig finds each family the documents name (fonts-noto-core, fonts-noto-cjk), not a stand-in: a missing
    package would print that script with another font, or as boxes."""
    if shutil.which("fc-match") is None:
        if IN_CI:
            pytest.fail("fc-match is missing but CI=true: apt-get install -y fontconfig")
        pytest.skip("fc-match is not installed (apt-get install -y fontconfig); set CI=true to make this a failure")
    found = subprocess.run(["fc-match", "-f", "%{family}", family], capture_output=True, text=True, check=True)
    assert family in found.stdout.split(","), f"fontconfig gives {found.stdout!r} for {family!r}"
