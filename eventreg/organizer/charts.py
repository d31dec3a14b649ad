"""Charts drawn on the server as inline SVG: bars, registrations over time, and a shaded world map.

Colours come from classes in site.css (the CSP allows no style attributes); every text is escaped here, since
the markup goes into the page as it is. Each chart is an image (`role="img"`, a <title> and an aria-label);
the page puts the same numbers beside it as a table, which is what assistive technology reads.

In a language written right to left (Arabic) the charts mirror, as the page does: bars grow from the right, labels
start at the right, the value axis stands on the right and time runs from right to left. Coordinates are computed
from the start side and turned round by one `_Side`; text anchors stay logical (start, end), and the SVG carries its
direction, so `start` is the right end of a text there. The world map itself is never mirrored, only its legend.
"""

import math
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup, escape

from ..geo.countries import countries
from ..languages import text_direction
from ..locale_formats import current_locale, day, number
from . import world_map_data

BAR_WIDTH = 480  # viewBox units; the SVG scales to its box
BAR_ROW = 30
LABEL_CHARS = 56  # longer labels are shortened in the chart, never in the table beside it
SERIES_WIDTH, SERIES_HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 16, 12, 34
MAP_STEPS = 4  # shaded classes besides "none"


def _num(value: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{round(value, 1):g}"


class _Side:
    """Horizontal positions measured from the start side of a drawing `width` wide: the left, or the right when the
    reader's language is written right to left."""

    def __init__(self, width: float):
        self.width = width
        self.direction = text_direction(current_locale())

    def x(self, offset: float, extent: float = 0) -> str:
        """The x of a shape `extent` wide whose start edge is `offset` from the start side (a point when 0)."""
        return _num(self.width - offset - extent if self.direction == "rtl" else offset)


def _shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """The text, cut with an ellipsis when longer than `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _svg(name: str, label: str, view_width: float, view_height: float, body: str, css_class: str) -> Markup:
    """An accessible SVG image with id `name`: role img, a <title> it is labelled by, the reading direction its text
    anchors follow, and the drawing."""
    name = escape(name)
    title_id = f"{name}-title"
    direction = text_direction(current_locale())
    # Every piece of text in `body` went through escape() where it was made; names and numbers are ours.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{name}" class="chart {css_class}" role="img" '
        f'viewBox="0 0 {_num(view_width)} {_num(view_height)}" aria-labelledby="{title_id}" direction="{direction}" '
        f'preserveAspectRatio="xMinYMin meet"><title id="{title_id}">{escape(label)}</title>{body}</svg>'
    )


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… that is at least `value` (axis ends and map steps read easily)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return int(step * power)
    return int(10 * power)


def bar_chart(name: str, rows: list[tuple[str, int]], label: str) -> Markup:
    """Horizontal bars, one per (label, count), the label above its bar and the count after it."""
    largest = max((count for _, count in rows), default=0) or 1
    room = BAR_WIDTH - 64  # the count's text follows the longest bar
    side = _Side(BAR_WIDTH)
    parts = []
    for index, (row_label, count) in enumerate(rows):
        top = index * BAR_ROW
        width = max(room * count / largest, 1 if count else 0)
        parts.append(
            f'<g class="bar"><title>{escape(row_label)}: {number(count)}</title>'
            f'<text x="{side.x(0)}" y="{top + 11}" class="chart-label">{escape(_shorten(row_label))}</text>'
            f'<rect x="{side.x(0, width)}" y="{top + 15}" width="{_num(width)}" height="10" class="chart-bar"/>'
            f'<text x="{side.x(width + 6)}" y="{top + 24}" class="chart-value">{number(count)}</text></g>'
        )
    return _svg(name, label, BAR_WIDTH, max(len(rows), 1) * BAR_ROW + 2, "".join(parts), "chart-bars")


def _date_ticks(days: list[date], limit: int = 6) -> list[int]:
    """Indexes of up to `limit` days to label on the time axis, first and last included."""
    if len(days) <= limit:
        return list(range(len(days)))
    step = (len(days) - 1) / (limit - 1)
    return sorted({round(n * step) for n in range(limit)})


def _time_axes(days: list[date], top_value: int) -> str:
    """Value gridlines with their numbers on the start side and date labels underneath a series chart."""
    plot_height = SERIES_HEIGHT - PAD_TOP - PAD_BOTTOM
    plot_width = SERIES_WIDTH - PAD_LEFT - PAD_RIGHT
    slot = plot_width / max(len(days), 1)
    side = _Side(SERIES_WIDTH)
    parts = []
    for value in (0, top_value // 2, top_value) if top_value >= 2 else (0, top_value):
        y = PAD_TOP + plot_height * (1 - value / top_value)
        parts.append(
            f'<line x1="{side.x(PAD_LEFT)}" x2="{side.x(SERIES_WIDTH - PAD_RIGHT)}" y1="{_num(y)}" y2="{_num(y)}" '
            'class="chart-grid"/>'
            f'<text x="{side.x(PAD_LEFT - 6)}" y="{_num(y + 4)}" text-anchor="end" class="chart-tick">'
            f"{number(value)}</text>"
        )
    for index in _date_ticks(days):
        text = escape(day(days[index], "short_month"))
        parts.append(
            f'<text x="{side.x(PAD_LEFT + slot * (index + 0.5))}" y="{SERIES_HEIGHT - PAD_BOTTOM + 18}" '
            f'text-anchor="middle" class="chart-tick">{text}</text>'
        )
    return "".join(parts)


def daily_chart(name: str, daily: list[dict], label: str) -> Markup:
    """Registrations per day as columns (the report's `daily` rows)."""
    days = [date.fromisoformat(row["date"]) for row in daily]
    top_value = nice_ceiling(max((row["registrations"] for row in daily), default=1))
    plot_height = SERIES_HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = (SERIES_WIDTH - PAD_LEFT - PAD_RIGHT) / max(len(daily), 1)
    gap = slot * 0.15 if slot > 4 else 0
    width = max(slot - gap, 0.5)
    side = _Side(SERIES_WIDTH)
    parts = [_time_axes(days, top_value)]
    for index, row in enumerate(daily):
        height = plot_height * row["registrations"] / top_value
        parts.append(
            f'<rect x="{side.x(PAD_LEFT + slot * index + gap / 2, width)}" y="{_num(PAD_TOP + plot_height - height)}" '
            f'width="{_num(width)}" height="{_num(height)}" class="chart-bar">'
            f"<title>{escape(day(days[index]))}: {number(row['registrations'])}</title></rect>"
        )
    return _svg(name, label, SERIES_WIDTH, SERIES_HEIGHT, "".join(parts), "chart-series")


def cumulative_chart(name: str, daily: list[dict], label: str) -> Markup:
    """The running total of registrations as a line over the same days."""
    days = [date.fromisoformat(row["date"]) for row in daily]
    top_value = nice_ceiling(daily[-1]["cumulative"] if daily else 1)
    plot_height = SERIES_HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = (SERIES_WIDTH - PAD_LEFT - PAD_RIGHT) / max(len(daily), 1)
    side = _Side(SERIES_WIDTH)
    points = [
        (side.x(PAD_LEFT + slot * (index + 0.5)), _num(PAD_TOP + plot_height * (1 - row["cumulative"] / top_value)))
        for index, row in enumerate(daily)
    ]
    parts = [_time_axes(days, top_value)]
    if points:
        line = "M" + "L".join(f"{x},{y}" for x, y in points)
        parts.append(f'<path d="{line}" class="chart-line"/>')
        x, y = points[-1]
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="3" class="chart-dot">'
            f"<title>{escape(day(days[-1]))}: {number(daily[-1]['cumulative'])}</title></circle>"
        )
    return _svg(name, label, SERIES_WIDTH, SERIES_HEIGHT, "".join(parts), "chart-series")


def map_steps(largest: int) -> list[int]:
    """The lower bounds of the shaded classes: 1, then round numbers rising geometrically up to `largest`."""
    bounds = [1]
    for step in range(1, MAP_STEPS):
        bound = nice_ceiling(largest ** (step / MAP_STEPS))
        if bound > bounds[-1] and bound <= largest:
            bounds.append(bound)
    return bounds


def _step_of(count: int, bounds: list[int]) -> int:
    """The shaded class of a count: 0 for none, else 1 + the highest bound it reaches."""
    return sum(1 for bound in bounds if count >= bound) if count else 0


def map_legend(bounds: list[int], largest: int) -> list[tuple[int, str]]:
    """(class number, range text) for each shaded class, e.g. (1, '1–4'), (2, '5–19'), the numbers written for the
    reader ('1 000–2 000' in French)."""
    legend = [(0, _("no delegates"))]
    for index, low in enumerate(bounds):
        high = bounds[index + 1] - 1 if index + 1 < len(bounds) else largest
        low_text, high_text = number(low), number(high)
        legend.append((index + 1, low_text if low == high else f"{low_text}–{high_text}"))
    return legend


def world_map(name: str, by_country: list[dict], label: str) -> Markup:
    """Every country shaded in a few steps by its count of delegates (the report's `by_country` rows), with a legend."""
    counts = {row["code"]: row["count"] for row in by_country}
    largest = max(counts.values(), default=0)
    bounds = map_steps(largest) if largest else []
    parts = ['<g class="map-land">']
    parts += [f'<path d="{d}" class="map-0"/>' for d in world_map_data.UNLABELLED]
    names = countries()  # the reader's table, looked up once for the 180 shapes
    for code, d in world_map_data.SHAPES.items():
        count = counts.get(code, 0)
        title = ngettext("%(name)s: %(num)d delegate", "%(name)s: %(num)d delegates", count, name=names.name(code))
        parts.append(
            f'<path d="{d}" class="map-{_step_of(count, bounds)}" data-country="{escape(code)}">'
            f"<title>{escape(title)}</title></path>"
        )
    parts.append("</g>")
    if largest:
        legend_top = world_map_data.HEIGHT + 12
        side = _Side(world_map_data.WIDTH)  # the legend reads from the start side; the map stays as it is
        for position, (step, text) in enumerate(map_legend(bounds, largest)):
            start = position * 130
            parts.append(
                f'<rect x="{side.x(start, 22)}" y="{_num(legend_top)}" width="22" height="14" '
                f'class="map-{step} map-key"/>'
                f'<text x="{side.x(start + 28)}" y="{_num(legend_top + 12)}" class="chart-tick map-legend">'
                f"{escape(text)}</text>"
            )
    height = world_map_data.HEIGHT + (36 if largest else 0)
    return _svg(name, label, world_map_data.WIDTH, height, "".join(parts), "chart-map")
