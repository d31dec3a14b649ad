"""Helpers every table uses: UTC time, comparison keys, tokens, and the UTC datetime column type."""

import secrets
import unicodedata
from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    TypeDecorator,
)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


# str.casefold() makes text at most three times longer ("ß" → "ss", "ﬃ" → "ffi"): key columns are that wide.
KEY_EXPANSION = 3


def casefold_key(text: str, limit: int | None = None) -> str:
    """A key that compares text case-insensitively in any script (NFC, casefolded, runs of spaces collapsed).

    `limit` cuts it to its column's width, which only text far beyond any real name or address reaches.
    """
    key = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    return key[:limit] if limit else key


def search_key(text: str, limit: int | None = None) -> str:
    """casefold_key without accents on Latin, Greek and Cyrillic letters, so "Jose" finds "José" and "Nguyễn"
    sorts with "Nguyen"; other scripts' combining signs (Devanagari vowels, Hangul) are kept as they are."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not 0x300 <= ord(ch) <= 0x36F)
    return casefold_key(bare, limit)


def new_token() -> str:
    """An unguessable URL-safe token of 256 bits for private links."""
    return secrets.token_urlsafe(32)


def _is_east_asian(text: str) -> bool:
    """True when the text is written in Chinese, Japanese or Korean characters (family name first)."""
    return bool(text) and all(
        any(script in unicodedata.name(ch, "") for script in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))
        for ch in text
        if not ch.isspace()
    )


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as naive UTC, so SQLite and PostgreSQL hold the same values."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)
