"""Where badges go on paper: the layouts a run can use (A6 and A7 on A4, ID cards, one badge per page for a badge
printer, label sheets) as data, and the check of a custom label sheet that the event's document settings hold."""

import math
from dataclasses import asdict, dataclass, fields

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

MM_PER_INCH = 25.4
# A badge must hold a readable name and a QR code that a desk scanner reads: smaller labels are refused.
MIN_LABEL_WIDTH, MIN_LABEL_HEIGHT = 40.0, 25.0
MAX_PAGE_SIDE = 1000.0  # mm: larger than any printer's paper
MAX_PER_SIDE = 20  # columns or rows of one sheet
FIT_TOLERANCE = 0.05  # mm: rounding in published sheet sizes (inches converted to mm)
CUSTOM = "custom"


@dataclass(frozen=True)
class LabelSheet:
    """A sheet of badges, in millimetres: the page, a grid of columns × rows, the margins to the first label and
    the gaps between labels."""

    page_width: float
    page_height: float
    columns: int
    rows: int
    margin_top: float
    margin_left: float
    gap_horizontal: float
    gap_vertical: float
    label_width: float
    label_height: float

    @property
    def per_page(self) -> int:
        """Badges on one page."""
        return self.columns * self.rows

    def position(self, index: int) -> tuple[float, float]:
        """(left, top) in mm of the `index`-th label of a page, row by row."""
        row, column = divmod(index, self.columns)
        return (
            self.margin_left + column * (self.label_width + self.gap_horizontal),
            self.margin_top + row * (self.label_height + self.gap_vertical),
        )

    def as_dict(self) -> dict:
        """Plain values, as DocumentSettings.label_sheet stores them."""
        return asdict(self)


@dataclass(frozen=True)
class Layout:
    """A layout offered to organizers: its label in the choice, and its sheet."""

    label: object  # a lazy string
    sheet: LabelSheet


def _inches(*values: float) -> list[float]:
    return [round(value * MM_PER_INCH, 3) for value in values]


LAYOUTS: dict[str, Layout] = {
    # A4 = four A6 or eight A7: the badges tile the page, and the guillotine cuts straight through.
    "a6": Layout(_l("A6, four per A4 page"), LabelSheet(210, 297, 2, 2, 0, 0, 0, 0, 105, 148)),
    "a7": Layout(_l("A7, eight per A4 page"), LabelSheet(297, 210, 4, 2, 0, 0.5, 0, 0, 74, 105)),
    # ID-1 cards (ISO/IEC 7810) with room between them to cut.
    "card": Layout(_l("ID card (86 × 54 mm), ten per A4 page"), LabelSheet(210, 297, 2, 5, 7.5, 16, 6, 3, 86, 54)),
    "single": Layout(_l("One A6 badge per page (badge printer)"), LabelSheet(105, 148, 1, 1, 0, 0, 0, 0, 105, 148)),
    # Avery's published templates: L7418, 86 × 55 mm, 2 × 5 on A4, 15 mm side margins and 8 mm between columns;
    # 5395, 3⅜ × 2⅓ in, 2 × 4 on US Letter.
    "avery-l7418": Layout(
        _l("Avery L7418 labels (86 × 55 mm, 10 per A4)"), LabelSheet(210, 297, 2, 5, 11, 15, 8, 0, 86, 55)
    ),
    "avery-5395": Layout(
        _l("Avery 5395 labels (3⅜ × 2⅓ in, 8 per US Letter)"),
        LabelSheet(*_inches(8.5, 11), 2, 4, *_inches(0.5906, 0.6875, 0.375, 0.1618, 3.375, 7 / 3)),
    ),
}
DEFAULT_LAYOUT = "a6"


def _number_problem(name: str, value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return _("The label sheet's %(name)s must be a number.", name=name)
    return None


def label_sheet_problems(sheet: LabelSheet | dict | None) -> list[str]:
    """What is wrong with a label sheet (a LabelSheet or its dict), each as a sentence; empty when it can print."""
    if sheet is None:
        return [_("No label sheet is set.")]
    values = sheet.as_dict() if isinstance(sheet, LabelSheet) else dict(sheet)
    names = [field.name for field in fields(LabelSheet)]
    missing = [name for name in names if name not in values]
    if missing:
        return [_("The label sheet lacks %(names)s.", names=", ".join(missing))]
    problems = [problem for name in names if (problem := _number_problem(name, values[name]))]
    if problems:
        return problems
    s = LabelSheet(**{name: values[name] for name in names})
    for name in ("columns", "rows"):
        count = values[name]
        if count != int(count) or not 1 <= count <= MAX_PER_SIDE:
            problems.append(_("The label sheet's %(name)s must be a whole number from 1 to 20.", name=name))
    if not (0 < s.page_width <= MAX_PAGE_SIDE and 0 < s.page_height <= MAX_PAGE_SIDE):
        problems.append(_("The page must be between 1 and 1000 mm on each side."))
    if min(s.margin_top, s.margin_left, s.gap_horizontal, s.gap_vertical) < 0:
        problems.append(_("Margins and gaps cannot be negative."))
    if s.label_width < MIN_LABEL_WIDTH or s.label_height < MIN_LABEL_HEIGHT:
        problems.append(
            _("A label must be at least %(width)d × %(height)d mm to hold a name and a QR code.", width=40, height=25)
        )
    if problems:
        return problems
    right = s.margin_left + s.columns * s.label_width + (s.columns - 1) * s.gap_horizontal
    bottom = s.margin_top + s.rows * s.label_height + (s.rows - 1) * s.gap_vertical
    if right > s.page_width + FIT_TOLERANCE:
        problems.append(
            _(
                "The labels do not fit across the page: they reach %(reach)s mm of %(page)s mm.",
                reach=format_decimal(right),
                page=format_decimal(s.page_width),
            )
        )
    if bottom > s.page_height + FIT_TOLERANCE:
        problems.append(
            _(
                "The labels do not fit down the page: they reach %(reach)s mm of %(page)s mm.",
                reach=format_decimal(bottom),
                page=format_decimal(s.page_height),
            )
        )
    return problems


def label_sheet_from(values: dict | None) -> LabelSheet | None:
    """The custom label sheet stored in the settings, or None when there is none or it cannot print."""
    if not values or label_sheet_problems(values):
        return None
    names = [field.name for field in fields(LabelSheet)]
    sheet = {name: values[name] for name in names}
    sheet["columns"], sheet["rows"] = int(sheet["columns"]), int(sheet["rows"])
    return LabelSheet(**sheet)
