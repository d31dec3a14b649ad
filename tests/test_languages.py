"""Which language a page speaks: the offered languages (checked at start-up), Accept-Language negotiated with
script subtags understood, the visitor's cookie, and the BCP 47 tags and directions written on <html>."""

import pytest
from flask_babel import get_locale

from eventreg import create_app
from eventreg.languages import LANGUAGE_COOKIE, bcp47, language_name, text_direction
from eventreg.languages.negotiation import negotiate
from tests.conftest import base_config, drop_tables, make_app
from tests.site_pages import parse

SIX = ("en", "zh_Hans", "fr", "es", "ru", "ar")


def html_attributes(response) -> tuple[str, str]:
    """The lang and dir of a page's <html>."""
    assert response.status_code == 200, response.status_code
    root = parse(response.text)
    return root.get("lang"), root.get("dir")


def page_language(client, path="/", **headers) -> str:
    return html_attributes(client.get(path, headers=headers))[0]


@pytest.mark.parametrize(
    ("accept_language", "tag"),
    [
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        # No zh_Hant catalog is offered: Chinese in traditional characters is served in simplified ones.
        ("zh-TW", "zh-Hans"),
        ("zh-Hant-TW", "zh-Hans"),
        ("zh-HK", "zh-Hans"),
        ("zh-MO", "zh-Hans"),
        ("fr-CA", "fr"),
        ("es-419", "es"),
        ("ru-RU", "ru"),
        ("ar-EG", "ar"),
        ("en-GB", "en"),
        ("de", "en"),
        (None, "en"),
    ],
)
def test_accept_language_is_negotiated_with_script_and_region_subtags(client, accept_language, tag):
    headers = {"Accept-Language": accept_language} if accept_language is not None else {}
    assert page_language(client, **headers) == tag


@pytest.mark.parametrize(
    ("accept_language", "tag"),
    [
        ("fr;q=0.5, es;q=0.9", "es"),  # the weight decides, not the order
        ("de, ru;q=0.1, ar;q=0.8", "ar"),  # de is not offered: the next most wanted that is
        ("es, fr", "es"),  # equal weights: the header's order
        ("fr;q=0, ru;q=0.2", "ru"),  # q=0 means "not this one"
        ("de-CH, de;q=0.9, *;q=0.5", "en"),  # the wildcard names nothing: the default
        ("zh-TW;q=0.9, en;q=0.8", "zh-Hans"),  # Chinese in another script is still Chinese, before English
        ("de, fr-FR-u-ca-gregory-x-private;q=0.5", "fr"),  # extensions and private use are left out
    ],
)
def test_q_values_order_the_languages_asked_for(client, accept_language, tag):
    assert page_language(client, **{"Accept-Language": accept_language}) == tag


@pytest.mark.parametrize(
    "accept_language",
    [
        "x" * 8000,
        "fr;q=abc, ;;;, =, q=1",
        "\xe9\xff;q=1",
        ",".join(["tlh"] * 2000),
        "zh-" + "a" * 300,
        "i-klingon, x-pig-latin",
    ],
)
def test_odd_or_huge_accept_language_headers_get_the_default(client, accept_language):
    assert page_language(client, **{"Accept-Language": accept_language}) == "en"


def test_only_the_first_ranges_of_a_long_header_are_read():
    offered = ("en", "fr")
    assert negotiate(", ".join(["de"] * 15 + ["fr"]), offered) == "fr"
    assert negotiate(", ".join(["de"] * 200 + ["fr"]), offered) is None


@pytest.fixture
def zh_hant_offered(tmp_path):
    """An app that offers a zh_Hant catalog (an empty one) beside the six."""
    folder = tmp_path / "more-translations" / "zh_Hant" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text('msgid ""\nmsgstr ""\n')
    directories = f"translations;{tmp_path / 'more-translations'}"
    app = make_app(tmp_path, LANGUAGES=[*SIX, "zh_Hant"], BABEL_TRANSLATION_DIRECTORIES=directories)
    yield app
    drop_tables(app)


@pytest.mark.parametrize(
    ("accept_language", "tag"),
    [
        ("zh-TW", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-MO", "zh-Hant"),
        ("zh-Hant", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh", "zh-Hans"),
    ],
)
def test_a_zh_hant_catalog_takes_traditional_chinese_once_offered(zh_hant_offered, accept_language, tag):
    assert page_language(zh_hant_offered.test_client(), **{"Accept-Language": accept_language}) == tag


@pytest.mark.parametrize(
    ("code", "tag", "direction", "name"),
    [
        ("en", "en", "ltr", "English"),
        ("zh_Hans", "zh-Hans", "ltr", "简体中文"),
        ("fr", "fr", "ltr", "Français"),
        ("es", "es", "ltr", "Español"),
        ("ru", "ru", "ltr", "Русский"),
        ("ar", "ar", "rtl", "العربية"),
    ],
)
def test_each_language_has_its_tag_direction_and_own_name(client, code, tag, direction, name):
    assert (bcp47(code), text_direction(code), language_name(code)) == (tag, direction, name)
    client.set_cookie(LANGUAGE_COOKIE, code)
    assert html_attributes(client.get("/")) == (tag, direction)


def test_an_offered_language_with_a_region_is_written_as_bcp_47():
    assert (bcp47("pt_BR"), bcp47("zh_Hant_TW"), bcp47("es_419")) == ("pt-BR", "zh-Hant-TW", "es-419")


# ---- the cookie


def test_the_cookie_wins_over_accept_language(client):
    client.set_cookie(LANGUAGE_COOKIE, "ru")
    assert page_language(client, **{"Accept-Language": "fr-FR, fr;q=0.9"}) == "ru"


@pytest.mark.parametrize("value", ["de", "zh-Hans", "ZH_HANS", "", "x" * 3000, "fr\x00", "../../etc/passwd"])
def test_a_cookie_that_names_no_offered_language_is_ignored(client, value):
    client.set_cookie(LANGUAGE_COOKIE, value)
    assert page_language(client, **{"Accept-Language": "es"}) == "es"


# ---- the offered languages, checked at start-up


def start(tmp_path, **settings):
    return create_app(base_config(tmp_path, **settings), instance_path=str(tmp_path / "instance"))


def test_the_six_languages_are_offered_by_default(tmp_path):
    app = start(tmp_path)
    assert app.config["LANGUAGES"] == list(SIX)
    assert app.config["BABEL_DEFAULT_LOCALE"] == "en"


def test_flask_languages_chooses_the_offered_languages(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_LANGUAGES", '["fr", "en", "ar"]')
    app = create_app({"TESTING": True, "SECRET_KEY": "x"}, instance_path=str(tmp_path / "instance"))
    assert app.config["LANGUAGES"] == ["fr", "en", "ar"]
    client = app.test_client()
    assert [entry for entry in ("fr", "en", "ar") if f'hreflang="{entry}"' in client.get("/auth/login").text] == [
        "fr",
        "en",
        "ar",
    ]
    assert 'hreflang="ru"' not in client.get("/auth/login").text


@pytest.mark.parametrize(
    ("languages", "message"),
    [
        (["en", "de"], "'de' has no catalog"),
        (["en", "zh-Hans"], "'zh-Hans' is not a language code as Babel writes it"),
        (["en", "zh_CN"], "Babel writes it zh_Hans_CN"),
        (["en", "klingon"], "'klingon' is not a language code"),
        ("fr", "must be a JSON list"),
        ([], "must be a JSON list"),
        (["en", "fr", "en"], "names a language twice"),
        (["fr", "es"], "BABEL_DEFAULT_LOCALE 'en' is not among LANGUAGES"),
    ],
)
def test_a_language_that_would_silently_be_english_is_refused_at_start_up(tmp_path, languages, message):
    with pytest.raises(ValueError, match=message):
        start(tmp_path, LANGUAGES=languages)


def test_english_needs_no_catalog(tmp_path):
    (tmp_path / "empty").mkdir()
    app = start(tmp_path, LANGUAGES=["en"], BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "empty"))
    assert app.config["LANGUAGES"] == ["en"]
    with pytest.raises(ValueError, match="'fr' has no catalog"):
        start(tmp_path, LANGUAGES=["en", "fr"], BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "empty"))


def test_another_default_language_works_when_offered(tmp_path):
    app = start(tmp_path, LANGUAGES=["fr", "es"], BABEL_DEFAULT_LOCALE="fr")
    assert page_language(app.test_client(), "/auth/login", **{"Accept-Language": "de"}) == "fr"


def test_outside_a_request_the_default_language_applies(tmp_path):
    """The outbox worker and the commands write in the default (a mail forces its registration's language)."""
    app = start(tmp_path, LANGUAGES=["es", "fr"], BABEL_DEFAULT_LOCALE="fr")
    with app.app_context():
        assert str(get_locale()) == "fr"
