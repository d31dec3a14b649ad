"""Names on printed badges are shaped: an Arabic name comes out of the PDF joined and right to left, as HarfBuzz
shapes it, not as disconnected letters in typing order; a Chinese name comes out as its characters, not as empty
boxes. The page is rasterized by pdftoppm and compared with Pillow's drawings (tests/shaping.py)."""

import pytest

from eventreg.documents.badges import badge_pdf
from eventreg.documents.engine import render_pdf, static_url
from eventreg.extensions import db
from eventreg.models import Event, Registration
from tests.shaping import difference, drawn_by_pillow, isolated_forms, require_tools, text_on_page

ARABIC_NAME = "محمد عبد الله"
CHINESE_NAME = "王小明"
# The badge sets the name in bold; pdffonts names the fonts it embeds: Noto-Naskh-Arabic-Bold (the first Arabic
# family of static/css/documents.css) and Noto-Sans-CJK-SC-Bold. fontconfig finds the same files for Pillow.
ARABIC_FONT = "Noto Naskh Arabic:bold"
CJK_FONT = "Noto Sans CJK SC:bold"
LATIN_ONLY_FONT = "Noto Sans:bold"  # no CJK glyphs: Pillow draws each character as the .notdef box


@pytest.fixture(autouse=True)
def _tools():
    require_tools()


def real_badge(app, make_event, make_registration, **name) -> bytes:
    """The badge (single layout, one per page) of a delegate with this name and no honorific or native name."""
    event = make_event()
    registration_id, _token = make_registration(event, honorific="", native_name="", **name)
    with app.app_context(), app.test_request_context():
        registration = db.session.get(Registration, registration_id)
        return badge_pdf(db.session.get(Event, event.id), [registration], layout="single")


def name_document(name: str, style: str = "") -> str:
    """A page with the name set large, as on a badge, linking the documents' font stack: for names that a badge
    cannot print (a left-to-right override, shaping features turned off)."""
    stylesheet = static_url("css/documents.css")
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="{stylesheet}">'
        "<style>@page { size: A6; margin: 10mm }</style>"
        f"<style>.name {{ font-size: 28pt; font-weight: bold; {style} }}</style></head>"
        f'<body><p>Inaugural Ceremony</p><p class="name">{name}</p><p>Institute of Physics</p></body></html>'
    )


def arabic_distances(pdf: bytes, tmp_path) -> tuple[float, float]:
    """How far the PDF's Arabic name is from HarfBuzz's shaping, and from the isolated letters."""
    seen = text_on_page(pdf, ARABIC_NAME, tmp_path)
    shaped = difference(seen, drawn_by_pillow(ARABIC_NAME, ARABIC_FONT, shaped=True))
    unshaped = difference(seen, drawn_by_pillow(ARABIC_NAME, ARABIC_FONT, shaped=False))
    return shaped, unshaped


def test_an_arabic_name_is_joined_and_right_to_left(app, make_event, make_registration, tmp_path):
    """On a real badge, the name's image is closer to HarfBuzz's shaping than to the isolated letter forms in
    typing order."""
    pdf = real_badge(app, make_event, make_registration, given_name="محمد", family_name="عبد الله")
    shaped, unshaped = arabic_distances(pdf, tmp_path)
    assert shaped < unshaped, f"closer to unshaped letters ({unshaped:.1f}) than to HarfBuzz ({shaped:.1f})"


# WeasyPrint 70 ignores `unicode-bidi: bidi-override` (the name still came out right to left), so the left-to-right
# override is written with Unicode's own controls: LEFT-TO-RIGHT OVERRIDE … POP DIRECTIONAL FORMATTING.
UNSHAPED = {
    "isolated forms, left to right": (
        f"\u202d{isolated_forms(ARABIC_NAME)}\u202c",
        "unicode-bidi: bidi-override; direction: ltr",
    ),
    "joining turned off": (ARABIC_NAME, 'font-feature-settings: "init" 0, "medi" 0, "fina" 0, "rlig" 0, "liga" 0'),
}


@pytest.mark.parametrize("case", UNSHAPED)
def test_the_comparison_fails_for_an_unshaped_name(app, tmp_path, case):
    """Honesty: the name drawn as an engine without shaping draws it (each letter's isolated form, left to right
    in typing order), or with HarfBuzz's joining features turned off, through the same pipeline, is found closer
    to the isolated letters."""
    name, style = UNSHAPED[case]
    with app.app_context():
        pdf = render_pdf(name_document(name, style))
    shaped, unshaped = arabic_distances(pdf, tmp_path)
    assert unshaped < shaped, f"closer to HarfBuzz ({shaped:.1f}) than to unshaped letters ({unshaped:.1f})"


def test_a_chinese_name_is_drawn_not_boxes(app, make_event, make_registration, tmp_path):
    """On a real badge, the Chinese name's image is closer to its characters in the CJK font than to the boxes of
    a font without them (tofu)."""
    pdf = real_badge(app, make_event, make_registration, given_name="小明", family_name="王")
    seen = text_on_page(pdf, CHINESE_NAME, tmp_path)
    glyphs = difference(seen, drawn_by_pillow(CHINESE_NAME, CJK_FONT, shaped=True))
    boxes = difference(seen, drawn_by_pillow(CHINESE_NAME, LATIN_ONLY_FONT, shaped=True))
    assert glyphs < boxes, f"closer to empty boxes ({boxes:.1f}) than to the characters ({glyphs:.1f})"
