"""What one badge says, in its language: the event's title, the name sized to fit, the native-script name, the
institution, the country or region as the host names it, the category on a band of its colour, and the QR code of
the check-in code that the desk scans (the same content as the ticket's, tickets/codes.py)."""

import base64
import unicodedata
from dataclasses import dataclass

from flask_babel import force_locale

from ..categories.services import CategoryInfo, category_infos, label
from ..geo.countries import country_name
from ..languages import bcp47, mail_language
from ..models import HONORIFIC_LABELS, Event, Registration
from ..tickets.codes import qr_png

# Widths of a character in em, by script, as Noto Sans and Noto Sans CJK draw them on average: WeasyPrint cannot
# shrink text to fit, so the name's size is chosen here from its estimated width.
WIDE_EM, LATIN_EM, CAPITAL_EM, OTHER_EM = 1.0, 0.6, 0.72, 0.68  # bold
POINTS_PER_MM = 72 / 25.4
LINE_HEIGHT = 1.15
# A name is set on one line down to this share of the largest size, then on two lines, then smaller still.
SHRINK_BEFORE_WRAP = 0.6
SMALLEST_SHARE = 0.3

SCRIPT_LANGUAGES = (  # unicodedata name prefix → the language Pango shapes that script for
    ("CJK", "zh"),
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("HANGUL", "ko"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("CYRILLIC", "ru"),
    ("GREEK", "el"),
    ("THAI", "th"),
    ("DEVANAGARI", "hi"),
)


@dataclass(frozen=True)
class BadgeFace:
    """One badge's text, ready for the template: every string in the badge's language."""

    language: str  # BCP 47, for the badge's lang attribute
    title: str
    honorific: str
    name: str
    name_lang: str  # the script's language ("" when Latin: the badge's)
    name_size: float  # pt
    name_lines: int
    native_name: str
    native_lang: str
    native_size: float
    institution: str
    country: str
    category: str
    colour: str
    text_colour: str
    qr: str  # data: URL


def char_width(ch: str) -> float:
    """Estimated advance of one character, in em."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0.0  # vowel signs and marks sit on their base letter (Thai, Devanagari, Arabic harakat)
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return WIDE_EM
    if ch.isascii():
        return CAPITAL_EM if ch.isupper() else LATIN_EM
    return OTHER_EM


def text_width(text: str) -> float:
    """Estimated width of `text` in em."""
    return sum(char_width(ch) for ch in text)


def fit_size(text: str, width_mm: float, largest_pt: float) -> tuple[float, int]:
    """(size in pt, lines) at which `text` fits `width_mm`: as large as possible on one line, then on two lines,
    then the smallest size on two lines (the template wraps anywhere, so even one long word stays on the badge)."""
    width = max(text_width(text), 0.5)
    one_line = width_mm * POINTS_PER_MM / width
    if one_line >= largest_pt * SHRINK_BEFORE_WRAP:
        return round(min(largest_pt, one_line), 1), 1
    # On two lines a break falls near the middle; words make the halves uneven, so allow for it.
    two_lines = width_mm * POINTS_PER_MM / (width / 2 * 1.2)
    return round(max(min(largest_pt * SHRINK_BEFORE_WRAP, two_lines), largest_pt * SMALLEST_SHARE), 1), 2


def script_language(text: str) -> str:
    """The language of the first non-Latin script in `text` (Pango picks glyph forms by it), else ""."""
    for ch in text:
        if ch.isalpha() and not ch.isascii():
            name = unicodedata.name(ch, "")
            for prefix, language in SCRIPT_LANGUAGES:
                if name.startswith(prefix):
                    return language
    return ""


def qr_image(code: str) -> str:
    """The ticket's QR code of the check-in code as a data: URL of a 1-bit PNG, one pixel per module (printed sharp:
    the template turns off smoothing). Drawing 200 vector QR codes (engine.qr_data_uri) took a fifth of a chunk's
    rendering time; an image costs almost nothing."""
    return "data:image/png;base64," + base64.b64encode(qr_png(code, scale=1)).decode("ascii")


def text_direction_of(text: str) -> str:
    """ "rtl" or "ltr" by the first letter with a strong direction (Arabic, Hebrew… or any other), as the Unicode
    bidirectional algorithm picks a paragraph's direction; WeasyPrint does not act on dir="auto" by itself."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def readable_on(colour: str) -> str:
    """Black or white, whichever contrasts more with `colour` (#rrggbb), by WCAG's relative luminance."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05): equal at L ≈ 0.179.
    return "#000000" if luminance > 0.179 else "#ffffff"


def badge_language(registration: Registration, language: str | None) -> str:
    """The run's language if one was chosen, else the delegate's (while it is offered)."""
    return mail_language(language or registration.language)


def categories_of(event: Event) -> dict[str, CategoryInfo]:
    """The event's categories by code, read once for a chunk of badges (outside a request nothing caches them)."""
    return {info.code: info for info in category_infos(event.id)}


def badge_face(
    event: Event,
    registration: Registration,
    language: str | None,
    name_width_mm: float,
    name_pt: float,
    categories: dict[str, CategoryInfo] | None = None,
) -> BadgeFace:
    """The badge of one registration; `language` None means the delegate's."""
    chosen = badge_language(registration, language)
    info = (categories if categories is not None else categories_of(event)).get(registration.category)
    colour = info.colour if info else "#1f5fa8"
    with force_locale(chosen):
        honorific = str(HONORIFIC_LABELS.get(registration.honorific, registration.honorific))
        full = registration.display_name
        # display_name puts the honorific first; the badge prints it small, above the name.
        name = full[len(honorific) + 1 :] if registration.honorific and full.startswith(honorific + " ") else full
        category = label(info, chosen) if info else registration.category
        country = country_name(registration.country, chosen)
    size, lines = fit_size(name, name_width_mm, name_pt)
    native = registration.native_name if registration.native_name != name else ""
    native_size, _native_lines = fit_size(native, name_width_mm, name_pt * 0.6) if native else (0, 1)
    return BadgeFace(
        language=bcp47(chosen),
        title=event.title,
        honorific=honorific if registration.honorific else "",
        name=name,
        name_lang=script_language(name),
        name_size=size,
        name_lines=lines,
        native_name=native,
        native_lang=script_language(native),
        native_size=native_size,
        institution=registration.institution,
        country=country,
        category=category,
        colour=colour,
        text_colour=readable_on(colour),
        qr=qr_image(registration.checkin_code),
    )
