"""The translation catalogs: extract every string from the code and templates, bring each catalog up to date, and
list what a catalog lacks.

    python scripts/messages.py update    # what `make messages` runs: extract, then update every catalog
    python scripts/messages.py check     # print each catalog's problems; exit 1 if there are any

The extraction rules live here (babel.cfg names the files, KEYWORDS the functions), so `make messages` and the
catalog test (tests/test_catalogs.py) read the code the same way. English is the language of the msgids: its
catalog is filled with the msgids themselves where it has no wording of its own.
"""

import copy
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "eventreg" / "translations"
TEMPLATE = CATALOGS / "messages.pot"
SOURCE_LANGUAGE = "en"
# gettext's own names plus the lazy ones of Flask-Babel (form labels and messages built at import time).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
WIDTH = 120

# %(name)s, %(count)d, %s; and {name}, {0} of str.format. "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%\((\w+)\)[a-z]|%[a-z]|\{\w*\}")


def extract() -> Catalog:
    """Every translatable string of the code and templates, as a catalog template."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    template = Catalog(project="eventreg", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def catalog_path(language: str) -> Path:
    return CATALOGS / language / "LC_MESSAGES" / "messages.po"


def shipped_languages() -> list[str]:
    """The languages that have a catalog, English first."""
    found = sorted(path.parent.parent.name for path in CATALOGS.glob("*/LC_MESSAGES/messages.po"))
    return sorted(found, key=lambda language: language != SOURCE_LANGUAGE)


def read_catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as file:
        return read_po(file, locale=language)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def _forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def problems(template: Catalog, catalog: Catalog) -> list[str]:
    """What keeps `catalog` from being complete for `template`: missing, untranslated and fuzzy entries, a wrong
    number of plural forms, and translations whose placeholders differ from their msgid's."""
    found = []
    for wanted in template:
        if not wanted.id:
            continue
        label = repr(wanted.id if isinstance(wanted.id, str) else wanted.id[0])
        message = catalog.get(wanted.id, wanted.context)
        if message is None:
            found.append(f"missing: {label}")
            continue
        forms = _forms(message)
        if message.fuzzy:
            found.append(f"fuzzy: {label}")
        elif not all(forms):
            found.append(f"untranslated: {label}")
        elif wanted.pluralizable and len(forms) != catalog.num_plurals:
            found.append(f"{len(forms)} plural forms instead of {catalog.num_plurals}: {label}")
        else:
            ids = [wanted.id] if isinstance(wanted.id, str) else list(wanted.id)
            allowed = [placeholders(text) for text in ids]
            # A plural form may follow the singular's placeholders or the plural's: "one delegate" / "%(n)d …".
            wrong = [form for form in forms if placeholders(form) not in allowed]
            if wrong:
                found.append(f"placeholders differ from the msgid's {allowed[-1]}: {label} → {wrong[0]!r}")
    return found


def update() -> None:
    """Write the template, bring every catalog up to date with it, and fill the English one."""
    template = extract()
    with TEMPLATE.open("wb") as file:
        write_po(file, template, width=WIDTH)
    for language in shipped_languages():
        catalog = read_catalog(language)
        # A copy each: Catalog.update() adds the template's own Message objects, so filling the English catalog
        # would otherwise write English into every catalog updated after it.
        catalog.update(copy.deepcopy(template))
        if language == SOURCE_LANGUAGE:
            _fill_with_msgids(catalog)
        with catalog_path(language).open("wb") as file:
            write_po(file, catalog, width=WIDTH, ignore_obsolete=True)
        left = problems(template, catalog)
        print(f"{language}: {len(catalog)} entries, {len(left)} to translate or check")


def _fill_with_msgids(catalog: Catalog) -> None:
    """English says what the msgid says, unless the catalog has its own wording (kept as it is)."""
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy or not all(_forms(message)):
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            message.string = ids[0] if isinstance(message.id, str) else tuple(ids)
            message.flags.discard("fuzzy")
            message.previous_id = []


def compile_stale_catalogs() -> list[str]:
    """Compile each catalog whose .mo is missing or older than its .po (what make does); the languages compiled."""
    compiled = []
    for language in shipped_languages():
        source = catalog_path(language)
        target = source.with_suffix(".mo")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        catalog = read_catalog(language)
        with target.open("wb") as file:
            write_mo(file, catalog)
        compiled.append(language)
    return compiled


def report(languages: Iterable[str]) -> int:
    template = extract()
    failed = 0
    for language in languages:
        found = problems(template, read_catalog(language))
        failed += bool(found)
        print(f"{language}: {len(found)} problems")
        for problem in found[:50]:
            print(f"  {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "update"
    if command == "update":
        update()
    elif command == "check":
        sys.exit(report(sys.argv[2:] or shipped_languages()))
    else:
        sys.exit(__doc__)
