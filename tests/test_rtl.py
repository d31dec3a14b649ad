"""Right to left: the stylesheet mirrors by itself, fields and values keep the direction of their content, charts
and mails turn round in Arabic."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHYSICAL = re.compile(r"(^|-)(left|right)(-|$)")


def declarations(css: str) -> list[tuple[str, str]]:
    """(property, value) of every declaration in a stylesheet, comments left out."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    found = []
    for block in re.findall(r"\{([^{}]*)\}", css):
        for declaration in block.split(";"):
            name, colon, value = declaration.partition(":")
            if colon:
                found.append((name.strip(), value.strip()))
    return found


def test_the_stylesheet_uses_logical_sides_only():
    """margin-inline-start, not margin-left: the same rule lays out English and Arabic pages, mirrored."""
    physical = [
        f"{name}: {value}"
        for name, value in declarations((ROOT / "static" / "css" / "site.css").read_text())
        if PHYSICAL.search(name) or (name in {"float", "clear", "text-align"} and value in {"left", "right"})
    ]
    assert physical == []
