"""Flags as SVG pictures from flag-icons (static/vendor/flag-icons/), not emoji: Windows and machines without an
emoji font show a flag emoji as two letters or an empty box.

The pictures are served under a path that carries flag-icons' version, with a year's cache lifetime: a new
version is a new path, so browsers never keep an old picture. No flag is shown when the host turned flags off
(SHOW_FLAGS), nor for a region the host shows as part of another country (part_of in COUNTRY_NAMES).
"""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, g, url_for
from markupsafe import Markup

from .protocol import current_protocol

FLAG_ICONS_VERSION = "7.5.0"  # static/vendor/flag-icons/README.md says how to update it
FLAG_FOLDER = Path(__file__).resolve().parents[2] / "static" / "vendor" / "flag-icons" / "4x3"
CACHE_LIFETIME = timedelta(days=365)


class _FlagFiles(Blueprint):
    def get_send_file_max_age(self, filename: str | None) -> int:
        """A year: the version in the path changes whenever a picture may."""
        return int(CACHE_LIFETIME.total_seconds())


bp = _FlagFiles("flags", __name__, static_folder=FLAG_FOLDER, static_url_path=f"/flags/{FLAG_ICONS_VERSION}")


@lru_cache(maxsize=1)
def _codes_with_a_picture() -> frozenset[str]:
    return frozenset(path.stem.upper() for path in FLAG_FOLDER.glob("*.svg"))


def flag_url(code: str) -> str | None:
    """The address of a code's flag, or None when no flag is shown for it."""
    protocol = current_protocol()
    if not protocol.show_flags or protocol.is_part_of_another(code) or code not in _codes_with_a_picture():
        return None
    return _folder_url() + f"{code.lower()}.svg"


def _folder_url() -> str:
    """The flags' folder as url_for writes it here, asked once per request (pages and JSON list hundreds of flags)."""
    folder = g.get("flag_folder_url")
    if folder is None:
        folder = g.flag_folder_url = url_for("flags.static", filename="-")[:-1]
    return folder


def flag(code: str) -> Markup:
    """The flag of a code as an <img> (decorative: the name stands beside it), or nothing."""
    url = flag_url(code)
    return Markup("") if url is None else _picture(url)


@lru_cache(maxsize=1024)
def _picture(url: str) -> Markup:
    """The <img> of one flag's address, written once (a dashboard shows 400 flags per request)."""
    return Markup('<img class="flag" src="{}" alt="" width="20" height="15">').format(url)
