"""The host's protocol for countries and regions: how some are named, which are not offered, whether flags show.

Read once from the settings when the app starts, and refused there with a message saying what is wrong:

- COUNTRY_NAMES: labels by code. A flat label applies to every language ({"XK": "Kosovo"}); a mapping gives one per
  language ({"TW": {"en": "Taiwan, China", "zh": "中国台湾", "fr": "Taïwan (Chine)"}}), keyed by language tags as
  "zh", "zh-Hans" or "zh_Hans". A language the mapping leaves out takes its "en" label, else CLDR's name. The
  mapping may also say that the territory is shown as part of another ("part_of": "CN"): it then has no flag of
  its own. Every code named here is offered, also one that ISO 3166-1 lacks.
- COUNTRY_HIDDEN: codes the registration form does not offer and refuses; registrations that have one still show it.
- SHOW_FLAGS: whether flags are shown at all.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, has_app_context

ANY_LANGUAGE = "*"  # the language key of a flat label
PART_OF = "part_of"
EXAMPLE = '{"XK": "Kosovo", "TW": {"en": "Taiwan, China", "zh": "中国台湾", "part_of": "CN"}}'


@dataclass(frozen=True)
class Protocol:
    """The settings, checked and normalised. Hashable: the per-language tables are cached per protocol."""

    labels: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (code, ((language key, label), …)), sorted
    part_of: tuple[tuple[str, str], ...] = ()  # (region, country it is shown as part of)
    hidden: frozenset[str] = frozenset()
    show_flags: bool = True
    parts: frozenset[str] = field(init=False, compare=False, repr=False)  # the regions of part_of, for lookups

    def __post_init__(self):
        object.__setattr__(self, "parts", frozenset(code for code, _country in self.part_of))

    def labels_of(self, code: str) -> Mapping[str, str]:
        """The host's labels of one code by language key (ANY_LANGUAGE for a flat label); empty when none."""
        return dict(dict(self.labels).get(code, ()))

    def is_part_of_another(self, code: str) -> bool:
        """True for a region the host shows as part of another country (it has no flag of its own)."""
        return code in self.parts


def is_code(value) -> bool:
    """Two ASCII letters, in either case."""
    return isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha()


def language_key(tag: str) -> str:
    """'zh-Hans', 'zh_Hans', 'zh-CN' → 'zh_Hans'; 'zh' → 'zh'; 'fr-CA' → 'fr': language and script, as labels are
    looked up. Raises ValueError for a tag Babel does not know."""
    try:
        locale = Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as error:
        raise ValueError(tag) from error
    return f"{locale.language}_{locale.script}" if locale.script else locale.language


def lookup_keys(language: str) -> tuple[str, ...]:
    """The keys to try, in order, for a reader's language: itself (language and script), the bare language, English
    and the flat label. 'zh_Hans' → ('zh_Hans', 'zh', 'en', '*')."""
    try:
        key = language_key(language)
    except ValueError:
        key = language
    bare = key.split("_")[0]
    return tuple(dict.fromkeys((key, bare, "en", ANY_LANGUAGE)))


def _fail(problem: str) -> None:
    raise ValueError(f"{problem}. Example: FLASK_COUNTRY_NAMES='{EXAMPLE}'")


def _per_language(code: str, labels: Mapping) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """The labels of one code's mapping by normalised language key, and its part_of code."""
    by_key: dict[str, str] = {}
    part_of = None
    for key, value in labels.items():
        if key == PART_OF:
            if not is_code(value) or value.upper() == code:
                _fail(f'COUNTRY_NAMES["{code}"]["part_of"] must be the two-letter code of another country')
            part_of = value.upper()
            continue
        if not isinstance(key, str) or not isinstance(value, str) or not value.strip():
            _fail(f'COUNTRY_NAMES["{code}"] must map language tags to labels (text that is not empty)')
        try:
            normal = language_key(key)
        except ValueError:
            _fail(f'COUNTRY_NAMES["{code}"] has a label for "{key}", which is not a language tag such as "zh-Hans"')
        if normal in by_key:
            _fail(f'COUNTRY_NAMES["{code}"] has two labels for the language "{normal}"')
        by_key[normal] = value.strip()
    return tuple(sorted(by_key.items())), part_of


def read_protocol(config: Mapping) -> Protocol:
    """Check COUNTRY_NAMES, COUNTRY_HIDDEN and SHOW_FLAGS; ValueError saying what is wrong, at start-up rather
    than at the first form."""
    names = config.get("COUNTRY_NAMES") or {}
    if not isinstance(names, Mapping) or not all(is_code(code) for code in names):
        _fail("COUNTRY_NAMES must map two-letter codes to labels")
    labels, part_of = [], []
    for code, value in names.items():
        code = code.upper()
        if isinstance(value, str):
            if not value.strip():
                _fail(f'COUNTRY_NAMES["{code}"] must not be empty')
            labels.append((code, ((ANY_LANGUAGE, value.strip()),)))
        elif isinstance(value, Mapping):
            per_language, parent = _per_language(code, value)
            labels.append((code, per_language))
            if parent:
                part_of.append((code, parent))
        else:
            _fail(f'COUNTRY_NAMES["{code}"] must be a label or a mapping of language tags to labels')
    if len({code for code, _ in labels}) != len(labels):
        _fail("COUNTRY_NAMES names a code twice (codes are compared in capitals)")
    hidden = config.get("COUNTRY_HIDDEN") or []
    if isinstance(hidden, str) or not all(is_code(code) for code in hidden):
        raise ValueError("COUNTRY_HIDDEN must be a list of two-letter codes, e.g. FLASK_COUNTRY_HIDDEN='[\"TW\"]'")
    show_flags = config.get("SHOW_FLAGS", True)
    if not isinstance(show_flags, bool):
        raise ValueError("SHOW_FLAGS must be true or false (FLASK_SHOW_FLAGS=false, without quotes)")
    return Protocol(
        labels=tuple(sorted(labels)),
        part_of=tuple(sorted(part_of)),
        hidden=frozenset(code.upper() for code in hidden),
        show_flags=show_flags,
    )


def init_app(app: Flask) -> None:
    """Read the protocol once; ValueError when a setting is malformed."""
    app.extensions["country_protocol"] = read_protocol(app.config)


def current_protocol() -> Protocol:
    """The running app's protocol (the defaults outside an app, e.g. in a script)."""
    if not has_app_context():
        return Protocol()
    return current_app.extensions.get("country_protocol") or Protocol()
