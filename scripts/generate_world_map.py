"""Generate eventreg/organizer/world_map_data.py: one SVG path per country, from the npm package world-atlas
(Natural Earth).

    cd /tmp && npm install world-atlas
    python scripts/generate_world_map.py /tmp/node_modules/world-atlas/countries-110m.json

Decodes the TopoJSON (quantized, delta-encoded arcs shared between neighbours), projects it with the
Natural Earth projection (Šavrič, Jenny, Patterson & Hurni 2011, the published polynomial), and keys each shape
by its ISO 3166-1 alpha-2 code through pycountry. Shapes without an ISO code (N. Cyprus, Somaliland) are kept
as unlabelled land; Kosovo gets the user-assigned code XK that COUNTRY_NAMES can offer. Antarctica is left out.
"""

import argparse
import json
import math
import sys
from itertools import pairwise
from pathlib import Path

import pycountry

WIDTH = 960.0
SOUTH_LIMIT = -60.0  # degrees: cut Antarctica's latitudes, nobody registers from there
NAMED_WITHOUT_ISO = {"Kosovo": "XK"}
LEAVE_OUT = {"AQ"}
OUTPUT = Path(__file__).resolve().parent.parent / "eventreg" / "organizer" / "world_map_data.py"


def natural_earth(lon: float, lat: float) -> tuple[float, float]:
    """The Natural Earth projection of a point in degrees, in units of the earth's radius."""
    lam, phi = math.radians(lon), math.radians(lat)
    phi2 = phi * phi
    phi4 = phi2 * phi2
    x = lam * (0.8707 - 0.131979 * phi2 + phi4 * (-0.013791 + phi4 * (0.003971 * phi2 - 0.001529 * phi4)))
    y = phi * (1.007226 + phi2 * (0.015085 + phi4 * (-0.044475 + 0.028874 * phi2 - 0.005916 * phi4)))
    return x, y


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Every arc as a list of (longitude, latitude): undo the delta encoding, then the quantization."""
    (scale_x, scale_y), (shift_x, shift_y) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)
    return arcs


def ring_points(ring: list[int], arcs) -> list[tuple[float, float]]:
    """A closed ring from arc indices; a negative index ~i means arc i walked backwards."""
    points: list[tuple[float, float]] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])  # consecutive arcs share their end point
    return points


def unwrap(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A ring that crosses the antimeridian (Russia, Fiji) made continuous, its bulk kept within ±180°.

    Natural Earth cuts such rings at ±180°, so they jump across the whole map; shifting the points after a
    jump by 360° keeps the outline together, and the part beyond the edge falls outside the drawing.
    """
    result: list[tuple[float, float]] = []
    shift = 0.0
    for lon, lat in points:
        if result:
            step = lon + shift - result[-1][0]
            shift += -360.0 if step > 180 else 360.0 if step < -180 else 0.0
        result.append((lon + shift, lat))
    middle = sum(lon for lon, _ in result) / len(result)
    correction = -360.0 if middle > 180 else 360.0 if middle < -180 else 0.0
    return [(lon + correction, lat) for lon, lat in result]


def polygons_of(geometry: dict) -> list[list[list[int]]]:
    """The polygons (lists of rings) of a Polygon or MultiPolygon geometry."""
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def path_data(geometry: dict, arcs, scale: float, top: float) -> str:
    """The SVG path `d` of a geometry: projected, scaled into the map, rounded to 0.1 px, repeats dropped."""
    parts = []
    for polygon in polygons_of(geometry):
        for ring in polygon:
            coords = []
            for lon, lat in unwrap(ring_points(ring, arcs)):
                x, y = natural_earth(lon, max(lat, SOUTH_LIMIT))
                point = (round(WIDTH / 2 + x * scale, 1), round(top - y * scale, 1))
                if not coords or coords[-1] != point:
                    coords.append(point)
            if len(coords) >= 3:
                parts.append(_relative(coords))
    return "".join(parts)


def _relative(coords: list[tuple[float, float]]) -> str:
    """A closed ring as `M x,y l dx,dy …z`: relative steps between the rounded points keep the text short."""
    (x0, y0), steps = coords[0], []
    for (px, py), (x, y) in pairwise(coords):
        steps.append(f"{round(x - px, 1):g},{round(y - py, 1):g}")
    return f"M{x0:g},{y0:g}l" + " ".join(steps) + "z"


def alpha2_of(feature: dict) -> str | None:
    """The ISO alpha-2 code of a feature, from its ISO numeric id (or a known name), else None."""
    numeric = feature.get("id")
    country = pycountry.countries.get(numeric=numeric) if numeric else None
    if country:
        return country.alpha_2
    return NAMED_WITHOUT_ISO.get(feature.get("properties", {}).get("name", ""))


def generate(source: Path) -> str:
    """The text of world_map_data.py for the TopoJSON file at `source`."""
    topology = json.loads(source.read_text())
    arcs = decode_arcs(topology)
    half_width, _ = natural_earth(180, 0)
    scale = (WIDTH / 2) / half_width
    _, north = natural_earth(0, 90)
    _, south = natural_earth(0, SOUTH_LIMIT)
    top = north * scale
    height = round((north - south) * scale, 1)
    shapes: dict[str, str] = {}
    unlabelled: list[str] = []
    for feature in topology["objects"]["countries"]["geometries"]:
        code = alpha2_of(feature)
        if code in LEAVE_OUT:
            continue
        d = path_data(feature, arcs, scale, top)
        if not d:
            continue
        if code is None:
            unlabelled.append(d)
        else:
            shapes[code] = shapes.get(code, "") + d
    lines = [
        '"""Country shapes for the dashboard\'s world map: ISO alpha-2 code → SVG path, Natural Earth projection.',
        "",
        "Generated by scripts/generate_world_map.py from the npm package world-atlas "
        f"({source.name}; Natural Earth, public domain; world-atlas ISC); do not edit.",
        '"""',
        "",
        "# ruff: noqa: E501",
        f"WIDTH = {WIDTH:g}",
        f"HEIGHT = {height:g}",
        "",
        "SHAPES: dict[str, str] = {",
        *(f'    "{code}": "{shapes[code]}",' for code in sorted(shapes)),
        "}",
        "",
        "# Land with no ISO code of its own, drawn unshaded.",
        "UNLABELLED: tuple[str, ...] = (",
        *(f'    "{d}",' for d in unlabelled),
        ")",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Write the module; print how many countries it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topojson", type=Path, help="countries-110m.json from the world-atlas package")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    text = generate(args.topojson)
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
