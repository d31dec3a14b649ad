"""Placeholders in text that organizers write (a visa letter's template, a message to delegates): `{name}` from a
fixed list, replaced by one regular expression. Organizer-written text is never a Jinja template and never goes
through str.format, so it can reach nothing but the values it is given.
"""

import re
from collections.abc import Iterable, Mapping

# A placeholder: a name (a letter or underscore, then letters, digits, underscores) between braces. Names of any
# case are matched, so a mistyped "{Given_name}" is reported as unknown instead of being printed as it is; braces
# around anything else ("{ }", "{1}") are plain text.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders_in(text: str) -> list[str]:
    """The placeholder names `text` uses, each once, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text or "")))


def unknown_placeholders(text: str, known: Iterable[str]) -> list[str]:
    """The names `text` uses that are not in `known` (to refuse before anything is sent or issued)."""
    allowed = set(known)
    return [name for name in placeholders_in(text) if name not in allowed]


def fill(text: str, values: Mapping[str, str], escape=None) -> str:
    """`text` with each known placeholder replaced by its value (passed through `escape`, e.g. markupsafe.escape,
    when the result is HTML); an unknown one is left as written (callers refuse those first)."""

    def value_of(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = str(values[name])
        return str(escape(value)) if escape else value

    return PLACEHOLDER.sub(value_of, text or "")
