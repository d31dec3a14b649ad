"""Countries and regions in the reader's language (CLDR), in the reader's order (ICU), named as the host's protocol
says (COUNTRY_NAMES, COUNTRY_HIDDEN, SHOW_FLAGS)."""

import re

import pycountry
import pytest

from eventreg.geo.countries import countries, country_name, country_names
from eventreg.registration.forms import RegistrationForm
from tests.conftest import create_test_event, drop_tables, make_app
from tests.test_registration import form, registrations

SIX = ["en", "zh_Hans", "fr", "es", "ru", "ar"]
BEIJING = {
    "HK": {"en": "Hong Kong, China", "zh": "中国香港", "fr": "Hong Kong (Chine)", "part_of": "CN"},
    "MO": {"en": "Macao, China", "zh-Hans": "中国澳门", "fr": "Macao (Chine)", "part_of": "CN"},
    "TW": {"en": "Taiwan, China", "zh_Hans": "中国台湾", "fr": "Taïwan (Chine)", "part_of": "CN"},
    "XK": "Kosovo",
}


@pytest.fixture
def host_app(tmp_path, request):
    """An app speaking the six languages, with the settings the test gives through `host` (indirect parameter)."""
    app = make_app(tmp_path, LANGUAGES=SIX, **getattr(request, "param", {}))
    yield app
    drop_tables(app)


def host(**settings):
    """Run the test on a host_app with these settings."""
    return pytest.mark.parametrize("host_app", [settings], indirect=True, ids=["host"])


def options(page: str) -> list[tuple[str, str]]:
    """(value, label) of the country select's options, in order."""
    select = re.search(r'<select[^>]*name="country".*?</select>', page, re.S).group(0)
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)


def register_page(app, language: str) -> str:
    event = create_test_event(app)
    return app.test_client().get(f"/e/{event.slug}/register", headers={"Accept-Language": language}).text


@pytest.mark.parametrize(
    ("language", "china"), [("en", "China"), ("zh_Hans", "中国"), ("fr", "Chine"), ("ru", "Китай"), ("ar", "الصين")]
)
def test_names_are_cldrs_in_the_readers_language(app, language, china):
    with app.test_request_context():
        assert country_name("CN", language) == china
        assert country_names(language)["CN"] == china


def test_every_iso_code_is_offered_and_codes_nobody_names_show_as_themselves(app):
    with app.test_request_context():
        assert set(country_names()) == {c.alpha_2 for c in pycountry.countries}
        assert country_name("XK") == "Kosovo"  # CLDR names codes ISO 3166-1 lacks, shown when stored
        assert country_name("QQ") == "QQ"
        choices = [choice.value for choice in RegistrationForm().country.choices]
        assert choices[0] == "" and choices[1:] == list(country_names())


def test_the_chinese_select_follows_pinyin(host_app):
    labels = [label for _code, label in options(register_page(host_app, "zh-Hans"))]
    assert "中国" in labels
    # Pinyin: ai, ao, ba, zhong. Code points would put 巴 (U+5DF4) before 澳 (U+6FB3).
    assert labels.index("埃及") < labels.index("澳大利亚") < labels.index("巴西") < labels.index("中国")


def test_other_languages_sort_by_their_own_rules(app):
    with app.test_request_context():
        french = list(country_names("fr").values())
        russian = list(country_names("ru").values())
        arabic = list(country_names("ar").values())
        english = list(country_names("en").values())
    assert french.index("Égypte") < french.index("Espagne") < french.index("États-Unis") < french.index("Éthiopie")
    assert russian.index("Австралия") < russian.index("Бразилия") < russian.index("Египет") < russian.index("Япония")
    # Alef with hamza above or below sorts as alef (code points would put أذربيجان before إثيوبيا).
    assert arabic.index("إثيوبيا") < arabic.index("أذربيجان") < arabic.index("البرازيل") < arabic.index("مصر")
    assert english.index("Åland Islands") < english.index("Albania")
    assert english.index("Côte d’Ivoire") < english.index("Croatia")


def test_the_registration_form_speaks_the_readers_language_with_english_names_for_the_search(host_app):
    choices = dict(options(register_page(host_app, "fr")))
    assert choices["CN"] == "Chine"
    page = register_page(host_app, "fr")
    assert '<option data-en="China" value="CN">Chine</option>' in page
    assert '<option value="CN">China</option>' in register_page(host_app, "en")  # no data-en where it is the same


@host(COUNTRY_NAMES=BEIJING)
def test_the_host_names_regions_per_language_and_a_flat_label_everywhere(host_app):
    with host_app.test_request_context():
        assert country_name("TW", "zh_Hans") == "中国台湾"  # "zh_Hans" key
        assert country_name("HK", "zh_Hans") == "中国香港"  # "zh" key
        assert country_name("MO", "zh_Hans") == "中国澳门"  # "zh-Hans" key
        assert country_name("TW", "fr") == "Taïwan (Chine)"
        assert country_name("TW", "en") == "Taiwan, China"
        assert country_name("TW", "es") == "Taiwan, China"  # a language the host left out takes its English label
        assert country_name("XK", "ru") == "Kosovo"  # a flat label applies to every language
        assert country_name("CN", "ru") == "Китай"
        chinese = list(country_names("zh_Hans").values())
    # The host's labels take their place in the reader's order: 中国台湾 (zhong guo tai wan) after 中国.
    assert chinese.index("中国") < chinese.index("中国台湾")
    assert ("TW", "中国台湾") in options(register_page(host_app, "zh-Hans"))


@host(COUNTRY_NAMES={"XK": "Kosovo", "TW": "Chinese Taipei"})
def test_a_flat_label_registers_and_shows_on_the_dashboard(host_app):
    from eventreg.auth.services import create_organizer

    event = create_test_event(host_app)
    with host_app.app_context():
        create_organizer("admin@example.org", "correct horse battery")
    client = host_app.test_client()
    assert ("XK", "Kosovo") in options(client.get(f"/e/{event.slug}/register").text)
    assert client.post(f"/e/{event.slug}/register", data=form(country="XK")).status_code == 303
    client.post("/auth/login", data={"email": "admin@example.org", "password": "correct horse battery"})
    page = client.get(f"/organizer/events/{event.slug}", headers={"Accept-Language": "zh-Hans"}).text
    assert re.search(r'<tr data-country="XK">\s*<td><img class="flag" src="/flags/[0-9.]+/xk.svg"[^>]*> Kosovo', page)


@host(COUNTRY_HIDDEN=["TW", "xk"], COUNTRY_NAMES={"XK": "Kosovo"})
def test_hidden_codes_are_not_offered_and_refused_but_existing_ones_still_show(host_app):
    from tests.conftest import private_token, register_test_delegate

    event = create_test_event(host_app)
    client = host_app.test_client()
    offered = dict(options(client.get(f"/e/{event.slug}/register").text))
    assert "TW" not in offered and "XK" not in offered and "CN" in offered
    for code in ("TW", "XK"):
        response = client.post(f"/e/{event.slug}/register", data=form(country=code, email=f"{code}@example.org"))
        assert response.status_code == 200 and "Not a valid choice" in response.text
    assert registrations(host_app) == []
    # A registration made before the host hid the code keeps it: shown, and its own edit form still takes it.
    registration_id, _token = register_test_delegate(host_app, event, country="TW")
    token = private_token(host_app, registration_id)
    assert "Taiwan" in client.get(f"/r/{token}").text
    edit_page = client.get(f"/r/{token}/edit").text
    assert ("TW", "Taiwan") in options(edit_page)
    edited = form(country="TW", given_name="Chun")
    del edited["email"], edited["consent"]
    assert client.post(f"/r/{token}/edit", data=edited).status_code in (302, 303)
    assert registrations(host_app)[0].given_name == "Chun"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"COUNTRY_NAMES": {"Kosovo": "XK"}}, "two-letter codes"),
        ({"COUNTRY_NAMES": ["XK"]}, "two-letter codes"),
        ({"COUNTRY_NAMES": {"XK": ""}}, "must not be empty"),
        ({"COUNTRY_NAMES": {"XK": 5}}, "a label or a mapping"),
        ({"COUNTRY_NAMES": {"TW": {"cn": "中国台湾"}}}, 'label for "cn", which is not a language tag'),
        (
            {"COUNTRY_NAMES": {"TW": {"zh_Hans": "中国台湾", "zh-Hans": "台湾"}}},
            'two labels for the language "zh_Hans"',
        ),
        ({"COUNTRY_NAMES": {"TW": {"en": "Taiwan", "part_of": "China"}}}, "part_of"),
        ({"COUNTRY_NAMES": {"TW": {"en": "Taiwan", "part_of": "TW"}}}, "part_of"),
        ({"COUNTRY_NAMES": {"tw": "Taiwan", "TW": "Taiwan"}}, "names a code twice"),
        ({"COUNTRY_HIDDEN": "TW"}, "COUNTRY_HIDDEN must be a list of two-letter codes"),
        ({"COUNTRY_HIDDEN": ["Taiwan"]}, "COUNTRY_HIDDEN must be a list of two-letter codes"),
        ({"SHOW_FLAGS": "false"}, "SHOW_FLAGS must be true or false"),
    ],
)
def test_malformed_settings_are_refused_at_start_up(tmp_path, setting, message):
    from eventreg import create_app

    with pytest.raises(ValueError, match=re.escape(message)):
        create_app(setting, instance_path=str(tmp_path))


def test_tables_are_built_once_per_language(app):
    with app.test_request_context():
        assert countries("fr") is countries("fr")
        assert countries("fr") is not countries("ru")
