"""Every string of the code and templates is translated in every shipped catalog, with the msgid's placeholders.

The strings are extracted afresh from the tree (scripts/messages.py, as `make messages` does), so a new or changed
string that is not yet in a catalog, or is there untranslated or fuzzy, fails here.
"""

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from eventreg.config import DefaultConfig
from scripts import messages


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return messages.extract()


def test_the_six_languages_ship_a_catalog():
    assert set(messages.shipped_languages()) == {"en", "zh_Hans", "fr", "es", "ru", "ar"}
    assert set(DefaultConfig.LANGUAGES) == set(messages.shipped_languages())


def test_extraction_finds_the_strings_of_code_templates_and_plurals(extracted):
    ids = {message.id for message in extracted}
    assert "Register" in ids  # a template's {% trans %} / _()
    assert "Not a valid choice." in ids  # a lazy _l() of WTForms' messages
    assert any(isinstance(message_id, tuple) for message_id in ids)  # ngettext's singular and plural


@pytest.mark.parametrize("language", ["en", "zh_Hans", "fr", "es", "ru", "ar"])
def test_catalog_is_complete(extracted, language):
    found = messages.problems(extracted, messages.read_catalog(language))
    assert found == [], f"{len(found)} problems in the {language} catalog (run `make messages`):\n" + "\n".join(
        found[:40]
    )


@pytest.mark.parametrize(("language", "forms"), [("ru", 3), ("ar", 6), ("zh_Hans", 1), ("fr", 3)])
def test_plural_forms_follow_each_language(language, forms):
    assert messages.read_catalog(language).num_plurals == forms


# The checker itself, on made-up catalogs: each kind of problem is reported.


def _template() -> Catalog:
    template = Catalog()
    template.add("Register")
    template.add("Hello %(name)s")
    template.add(("%(num)d delegate", "%(num)d delegates"))
    template.add("Gone")
    return template


def test_a_complete_catalog_has_no_problems():
    catalog = Catalog(locale="ru")
    catalog.add("Register", "Зарегистрироваться")
    catalog.add("Hello %(name)s", "Здравствуйте, %(name)s")
    catalog.add(("%(num)d delegate", "%(num)d delegates"), ("%(num)d делегат", "%(num)d делегата", "%(num)d делегатов"))
    catalog.add("Gone", "Нет")
    assert messages.problems(_template(), catalog) == []


def test_missing_untranslated_fuzzy_and_wrong_placeholders_are_reported():
    catalog = Catalog(locale="ru")
    catalog.add("Register", "")  # untranslated
    catalog.add("Hello %(name)s", "Здравствуйте, %(nom)s")  # a placeholder renamed
    catalog.add(("%(num)d delegate", "%(num)d delegates"), ("%(num)d делегат", "%(num)d делегата"))  # 2 of 3 forms
    fuzzy = catalog.add("Gone", "Нет")
    fuzzy.flags.add("fuzzy")
    found = messages.problems(_template(), catalog)
    assert found == [
        "untranslated: 'Register'",
        "placeholders differ from the msgid's ['name']: 'Hello %(name)s' → 'Здравствуйте, %(nom)s'",
        "2 plural forms instead of 3: '%(num)d delegate'",
        "fuzzy: 'Gone'",
    ]
    del catalog["Gone"]
    assert messages.problems(_template(), catalog)[-1] == "missing: 'Gone'"


def test_a_plural_form_may_keep_the_singulars_placeholders():
    template = Catalog()
    template.add(("one seat left", "%(num)d seats left"))
    catalog = Catalog(locale="fr")
    catalog.add(("one seat left", "%(num)d seats left"), ("une place", "%(num)d de places", "%(num)d places"))
    assert messages.problems(template, catalog) == []


def test_updating_fills_english_only(tmp_path, monkeypatch):
    """`make messages` fills the English catalog with the msgids; a new entry of another catalog stays empty, to
    be translated (Babel's update shares the template's messages between catalogs unless each gets a copy)."""
    for language in ("en", "fr"):
        (tmp_path / language / "LC_MESSAGES").mkdir(parents=True)
        with (tmp_path / language / "LC_MESSAGES" / "messages.po").open("wb") as file:
            write_po(file, Catalog(locale=language))
    template = Catalog()
    template.add("Register")
    monkeypatch.setattr(messages, "CATALOGS", tmp_path)
    monkeypatch.setattr(messages, "TEMPLATE", tmp_path / "messages.pot")
    monkeypatch.setattr(messages, "extract", lambda: template)
    messages.update()
    assert messages.read_catalog("en")["Register"].string == "Register"
    assert messages.read_catalog("fr")["Register"].string == ""
