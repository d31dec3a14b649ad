"""Helpers of the shaping test (test_document_shaping.py): find a line of text on a PDF's page, rasterize it with
poppler's pdftoppm, and compare its ink with the same text drawn by Pillow, shaped by HarfBuzz (raqm) or not.

The comparison: both images are cropped to their ink, scaled to the same size, blurred a little (so that a pixel of
difference in the outline counts for little) and compared by their mean absolute difference, 0 for the same image."""

import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageStat, features

from tests.conftest import IN_CI

DPI = 150
INK = 128  # a gray level below this is ink
LINE_RE = re.compile(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', re.S)
WORD_RE = re.compile(r"<word [^>]*>(.*?)</word>")


def require_tools() -> None:
    """poppler's pdftoppm and pdftotext, and Pillow built with raqm; a skip on a workstation without them, a
    failure in CI (CI=true), where they must be installed."""
    missing = [tool for tool in ("pdftoppm", "pdftotext") if shutil.which(tool) is None]
    if not features.check("raqm"):
        missing.append("Pillow with raqm (libraqm0)")
    if not missing:
        return
    message = f"the shaping test needs {', '.join(missing)} (apt-get install -y poppler-utils libraqm0)"
    if IN_CI:
        pytest.fail(f"{message}, missing but CI=true")
    pytest.skip(f"{message}; set CI=true to make this a failure")


def font_file(family: str) -> tuple[str, int]:
    """The file and face index fontconfig picks for `family`: the same Debian font WeasyPrint embeds."""
    found = subprocess.run(["fc-match", "-f", "%{file}:%{index}", family], capture_output=True, text=True, check=True)
    path, index = found.stdout.rsplit(":", 1)
    return path, int(index)


def letters(text: str) -> Counter:
    """The letters of `text`, whatever their order and presentation forms (pdftotext may give Arabic reversed)."""
    return Counter(char for char in unicodedata.normalize("NFKC", text) if not char.isspace())


@dataclass
class Box:
    """A rectangle on the page, in PDF points."""

    left: float
    top: float
    right: float
    bottom: float


def line_box(pdf_path: Path, text: str) -> Box:
    """Where the line showing `text` is on the first page (the tallest such line: the name, set large)."""
    layout = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox-layout", str(pdf_path), "-"], capture_output=True, text=True
    ).stdout
    wanted = letters(text)
    boxes = []
    for left, top, right, bottom, words in LINE_RE.findall(layout):
        shown = "".join(WORD_RE.findall(words)).replace("&amp;", "&")
        if letters(shown) == wanted:
            boxes.append(Box(float(left), float(top), float(right), float(bottom)))
    assert boxes, f"{text!r} is not on the page: {layout}"
    return max(boxes, key=lambda box: box.bottom - box.top)


def rasterize(pdf_path: Path) -> Image.Image:
    """The first page as a grayscale image at DPI, by pdftoppm."""
    prefix = pdf_path.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", str(DPI), "-gray", "-png", "-singlefile", str(pdf_path), str(prefix)],
        check=True,
    )
    return Image.open(f"{prefix}.png").convert("L")


def text_on_page(pdf: bytes, text: str, tmp_path: Path) -> Image.Image:
    """The ink of the line showing `text` on the PDF's first page."""
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    box, page = line_box(path, text), rasterize(path)
    scale, pad = DPI / 72, 4
    region = (
        max(0, int(box.left * scale) - pad),
        max(0, int(box.top * scale) - pad),
        min(page.width, int(box.right * scale) + pad),
        min(page.height, int(box.bottom * scale) + pad),
    )
    return to_ink(page.crop(region))


def drawn_by_pillow(text: str, family: str, shaped: bool, size: int = 96) -> Image.Image:
    """`text` drawn by Pillow with the font fontconfig picks for `family`: shaped by HarfBuzz (raqm: joined, right
    to left) or not (BASIC: each letter's isolated form, in the order typed, left to right)."""
    path, index = font_file(family)
    layout = ImageFont.Layout.RAQM if shaped else ImageFont.Layout.BASIC
    font = ImageFont.truetype(path, size, index=index, layout_engine=layout)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (right - left + 20, bottom - top + 20), 255)
    ImageDraw.Draw(image).text((10 - left, 10 - top), text, font=font, fill=0)
    return to_ink(image)


def to_ink(image: Image.Image) -> Image.Image:
    """The image cropped to its ink (dark pixels)."""
    mask = image.point(lambda gray: 255 if gray < INK else 0)
    bbox = mask.getbbox()
    assert bbox, "no ink at all"
    return image.crop(bbox)


def difference(seen: Image.Image, reference: Image.Image) -> float:
    """How unlike two ink images are, 0 (same) to 255: the reference scaled to the size of the one seen, both
    blurred by a pixel, then the mean absolute difference of their gray levels."""
    reference = reference.resize(seen.size, Image.Resampling.LANCZOS)
    blur = ImageFilter.GaussianBlur(1.5)
    return ImageStat.Stat(ImageChops.difference(seen.filter(blur), reference.filter(blur))).mean[0]


def isolated_forms(text: str) -> str:
    """Each Arabic letter of `text` as its isolated presentation form (U+FE70–U+FEFF): what an engine that does
    not shape draws."""
    isolated = {}
    for code in range(0xFE70, 0xFF00):
        decomposition = unicodedata.decomposition(chr(code))
        if decomposition.startswith("<isolated> ") and len(decomposition.split()) == 2:
            isolated[chr(int(decomposition.split()[1], 16))] = chr(code)
    return "".join(isolated.get(char, char) for char in text)
