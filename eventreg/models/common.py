"""Helpers every table uses: UTC time, comparison keys, tokens, and the UTC datetime column type."""

import base64
import hashlib
import re
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


# Marks that change how a letter is written, not which letter it is: accents on Latin, Greek and Cyrillic letters,
# Hebrew points, Arabic short vowels. Other scripts' combining signs (Devanagari vowels…) are part of the letter.
# Only the nonspacing marks (category Mn) of these ranges: the Hebrew maqaf or an Arabic end-of-ayah sign stays.
_IGNORED_MARKS = ((0x300, 0x36F), (0x591, 0x5C7), (0x610, 0x61A), (0x64B, 0x65F), (0x670, 0x670), (0x6D6, 0x6ED))
_MARKS_DROPPED = "".join(
    re.escape(chr(code))
    for low, high in _IGNORED_MARKS
    for code in range(low, high + 1)
    if unicodedata.category(chr(code)) == "Mn"
)
IGNORED_MARK = re.compile(f"[{_MARKS_DROPPED}]")

# Arabic-script letters that people type one for the other: ة/ه at a word's end, ى/ي, the Persian keyboard's ک and
# ی for ك and ي; alef wasla is an alef, and the tatweel only stretches a word. Alef, waw and yeh with a hamza or
# madda (أ إ آ ؤ ئ) need no entry: NFKD splits off the hamza or madda, a mark dropped above.
ARABIC_LETTER_FOLDS = str.maketrans({"ة": "ه", "ى": "ي", "ٱ": "ا", "ک": "ك", "ی": "ي", "ـ": None})


def search_key(text: str, limit: int | None = None) -> str:
    """casefold_key for searching: compatibility forms folded (full-width Ｌ is L, ﬁ is fi), the marks above
    dropped and the Arabic letters above folded, so "Jose" finds "José", "istanbul" finds "İstanbul", Arabic typed
    without vowels finds it with them, and "فاطمه" finds "فاطمة"."""
    bare = IGNORED_MARK.sub("", unicodedata.normalize("NFKD", text.casefold()))
    return casefold_key(bare.translate(ARABIC_LETTER_FOLDS), limit)


def person_search_key(family_name: str, given_name: str, native_name: str, limit: int | None = None) -> str:
    """The search and sort key of a person: family name first; a name in Chinese, Japanese or Korean characters
    is written as one word, as people write it (白春礼), so it is found typed with or without a space."""
    joiner = "" if _is_east_asian(family_name) and _is_east_asian(given_name) else " "
    return search_key(f"{family_name}{joiner}{given_name} {native_name}", limit)


def new_token() -> str:
    """An unguessable URL-safe token of 256 bits for private links."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The SHA-256 of a private-link token, URL-safe base 64 without padding (43 characters).

    Links are looked up by it, not by the token itself: a lookup's time can then depend only on how many leading
    characters of this digest a guess shares with a stored one, which a guesser cannot steer (see
    registration.services.find_registration, which then compares the tokens in constant time).
    """
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode("utf-8")).digest()).decode("ascii").rstrip("=")


# Crockford's base 32: digits and capitals without I, L, O and U, so a code read aloud or typed is hard to get wrong.
CHECKIN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECKIN_CODE_LENGTH = 10  # 50 bits: not guessable at a desk, short enough to type and for a small QR code


def new_checkin_code() -> str:
    """A short random code for the ticket's QR code; it admits at the door and grants no other right."""
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_CODE_LENGTH))


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
