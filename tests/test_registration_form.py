"""The registration form's rules: every field, its limits, and the input it refuses or keeps."""

import re

import pytest

from eventreg.models import Registration, search_key
from eventreg.registration.forms import MAX_ACCOMPANYING
from scripts.messages import read_catalog
from tests.conftest import private_token
from tests.test_registration import form, outbox_count, registrations

TEXT_FIELDS = (
    "given_name",
    "family_name",
    "native_name",
    "email",
    "institution",
    "position",
    "dietary",
    "accessibility",
)
ALL_FIELDS = ("honorific", *TEXT_FIELDS, "country", "category", "accompanying", "visa_letter", "consent")


def test_form_shows_every_field_with_a_label(client, make_event):
    event = make_event()
    page = client.get(f"/e/{event.slug}/register").text
    for field in ALL_FIELDS:
        assert f'<label for="{field}">' in page
        assert f'id="{field}"' in page
    assert 'maxlength="100"' in page  # given name, as long as its column


@pytest.mark.parametrize(
    "name",
    ["白春礼", "محمد الحسن", "Ирина Петрова", "François Dvořák-Øster", "Nguyễn Thị Minh Khai", "👩‍🔬 Zoë"],
)
def test_names_in_any_script_round_trip_exactly(app, client, make_event, name):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(given_name=name, native_name=name))
    assert response.status_code == 303
    [registration] = registrations(app)
    assert registration.given_name == name
    assert registration.native_name == name
    assert name in client.get(f"/r/{private_token(app, registration.id)}").text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": ""}, "given_name", "Please fill in this field."),
        ({"given_name": "   "}, "given_name", "Please fill in this field."),
        ({"email": ""}, "email", "Please fill in this field."),
        ({"institution": None}, "institution", "Please fill in this field."),
        ({"country": ""}, "country", "Please choose your country or region."),
        ({"email": "not-an-address"}, "email", "An email address needs an @ sign"),
        ({"email": "a@b"}, "email", "The part after the @ sign needs a domain name with a dot"),
        ({"email": "two@@example.org"}, "email", "The part after the @ sign is not a valid domain name."),
        ({"country": "ZZ"}, "country", "Not a valid choice"),
        ({"country": "cn"}, "country", "Not a valid choice"),
        ({"category": "vip"}, "category", "Please choose one of the categories offered."),
        ({"category": "speaker"}, "category", "This category is assigned by the organizers"),
        ({"honorific": "Sir"}, "honorific", "Not a valid choice"),
        ({"given_name": "x" * 101}, "given_name", "At most 100 characters"),
        ({"family_name": "x" * 101}, "family_name", "At most 100 characters"),
        ({"native_name": "白" * 201}, "native_name", "At most 200 characters"),
        ({"institution": "x" * 201}, "institution", "At most 200 characters"),
        ({"position": "x" * 201}, "position", "At most 200 characters"),
        ({"dietary": "x" * 501}, "dietary", "At most 500 characters"),
        ({"accessibility": "x" * 501}, "accessibility", "At most 500 characters"),
        ({"email": "a" * 250 + "@example.org"}, "email", "At most 254 characters"),
        ({"accompanying": "6"}, "accompanying", "Please give a number from 0 to 5."),
        ({"accompanying": "-1"}, "accompanying", "Please give a number from 0 to 5."),
        ({"accompanying": "two"}, "accompanying", "Not a valid integer value."),
        ({"accompanying": ""}, "accompanying", "Please give a number from 0 to 5."),
        ({"consent": None}, "consent", "Please agree to the privacy notice to register."),
        ({"given_name": "Evil\r\nBcc: victim@example.org"}, "given_name", "single line"),
        ({"institution": "Academy\x00"}, "institution", "single line"),
        ({"dietary": "none\x07"}, "dietary", "control characters"),
        ({"given_name": "\u200b\u200b"}, "given_name", "Please fill in this field."),  # invisible only: stripped
        ({"family_name": "\u200d"}, "family_name", "Please write at least one letter."),
        ({"given_name": "123"}, "given_name", "Please write at least one letter."),
        ({"institution": "..."}, "institution", "Please write at least one letter."),
        ({"given_name": "\u202eevil Nam"}, "given_name", "invisible text-direction characters"),
        ({"institution": "\u202egnp.exe"}, "institution", "invisible text-direction characters"),
        ({"dietary": "no \u2066pork\u2069"}, "dietary", "invisible text-direction characters"),
        ({"email": "ирина@пример.рф"}, "email", "Please use only Latin letters, digits and . _ - + before the @ sign."),
        ({"family_name": "-"}, "family_name", "Please write at least one letter."),
        ({"given_name": "Ann\u2028Lee"}, "given_name", "single line"),
        ({"given_name": "Ann\U000e0041"}, "given_name", "single line"),
        ({"given_name": "Z" + "\u0301" * 9}, "given_name", "stacked accent marks"),
        ({"consent": "no"}, "consent", "Please agree to the privacy notice"),
        ({"consent": "off"}, "consent", "Please agree to the privacy notice"),
    ],
)
def test_invalid_input_is_refused_next_to_the_field(app, client, make_event, changes, field, message):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(**changes))
    assert response.status_code == 200
    page = response.text
    assert f'id="{field}-error"' in page
    error_start = page.index(f'id="{field}-error"')
    assert message in page[error_start : error_start + 400]
    assert "Please correct 1 field marked below:" in page
    assert f'<a href="#{field}">' in page
    assert registrations(app) == []
    assert outbox_count(app) == 0


def test_the_form_keeps_what_was_typed(client, make_event):
    event = make_event()
    page = client.post(f"/e/{event.slug}/register", data=form(email="wrong", given_name="Ирина")).text
    assert 'value="Ирина"' in page
    assert 'value="wrong"' in page
    assert '<option selected value="CN">' in page


def test_every_text_field_is_limited_to_its_column(app, client, make_event):
    from eventreg.forms import column_length

    event = make_event()
    page = client.get(f"/e/{event.slug}/register").text
    for field in TEXT_FIELDS:
        limit = column_length(getattr(Registration, field))
        tag = re.search(rf'<(?:input|textarea)[^>]*\bid="{field}"[^>]*>', page).group(0)
        assert f'maxlength="{limit}"' in tag, field


@pytest.mark.parametrize("setting", [False, True])
def test_dns_checks_of_email_follow_the_setting(app, client, make_event, monkeypatch, setting):
    """Syntax only by default (this machine has no DNS for real domains); a setting turns DNS checks on."""
    import eventreg.forms

    seen = []
    real_validate = eventreg.forms.validate_email

    def spy(address, **options):
        seen.append(options["check_deliverability"])
        return real_validate(address, **{**options, "check_deliverability": False})

    monkeypatch.setattr(eventreg.forms, "validate_email", spy)
    app.config["EMAIL_CHECK_DELIVERABILITY"] = setting
    event = make_event()
    assert client.post(f"/e/{event.slug}/register", data=form(email="someone@cas.cn")).status_code == 303
    assert seen == [setting]


def test_joiners_inside_names_are_kept(app, client, make_event):
    """Zero-width joiners are part of Persian and Indic spelling; only the direction overrides are refused."""
    event = make_event()
    name = "می\u200cخواهم"
    assert client.post(f"/e/{event.slug}/register", data=form(given_name=name)).status_code == 303
    assert registrations(app)[0].given_name == name


def test_the_form_helps_phones_fill_it_in(client, make_event):
    event = make_event()
    page = client.get(f"/e/{event.slug}/register").text
    for field, token in [
        ("given_name", "given-name"),
        ("family_name", "family-name"),
        ("email", "email"),
        ("institution", "organization"),
        ("position", "organization-title"),
        ("country", "country"),
        ("honorific", "honorific-prefix"),
    ]:
        tag = re.search(rf'<(?:input|select)[^>]*\bid="{field}"[^>]*>', page).group(0)
        assert f'autocomplete="{token}"' in tag, field
    assert 'dir="auto"' in re.search(r'<input[^>]*\bid="native_name"[^>]*>', page).group(0)


@pytest.mark.parametrize("institution", ["ß" * 200, "ﬃ" * 200, "İ" * 200])
def test_keys_have_room_for_text_that_grows_when_casefolded(app, client, make_event, institution):
    """str.casefold() can triple a text's length ('ﬃ' → 'ffi'): a valid value must never overflow its key."""
    event = make_event()
    assert client.post(f"/e/{event.slug}/register", data=form(institution=institution)).status_code == 303
    [registration] = registrations(app)
    assert registration.institution == institution
    assert registration.institution_key == search_key(institution)  # accents and dots dropped, nothing cut


def test_files_posted_in_place_of_text_are_ignored_not_a_crash(app, client, make_event):
    import io

    event = make_event()
    data = {**form(), "given_name": (io.BytesIO(b"x"), "name.txt"), "email": (io.BytesIO(b"y"), "mail.txt")}
    response = client.post(f"/e/{event.slug}/register", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert 'id="given_name-error"' in response.text
    assert registrations(app) == []
    login = client.post(
        "/auth/login", data={"email": (io.BytesIO(b"x"), "a"), "password": "x"}, content_type="multipart/form-data"
    )
    assert login.status_code == 200


@pytest.mark.parametrize("body", [[1, 2], "text", {"given_name": "Chunli"}, 42])
def test_json_bodies_are_refused_politely(app, client, make_event, body):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", json=body)
    assert response.status_code == 200
    assert "Please correct" in response.text
    assert registrations(app) == []


def test_a_typed_line_break_counts_as_one_character(app, client, make_event):
    event = make_event()
    text = ("x" * 23 + "\r\n") * 20 + "y" * 2  # 482 characters as typed, 502 as sent
    assert client.post(f"/e/{event.slug}/register", data=form(dietary=text)).status_code == 303
    assert registrations(app)[0].dietary == text.replace("\r\n", "\n")


def test_full_width_addresses_from_cjk_keyboards_are_converted(app, client, make_event):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(email="ｂａｉ＠ｅｘａｍｐｌｅ．ｏｒｇ"))
    assert response.status_code == 303
    assert registrations(app)[0].email == "bai@example.org"


def test_people_with_a_single_name_can_register(app, client, make_event):
    event = make_event()
    assert client.post(f"/e/{event.slug}/register", data=form(given_name="Sukarno", family_name="")).status_code == 303
    assert registrations(app)[0].display_name == "Prof. Sukarno"


def test_wtforms_messages_follow_each_requests_language(app, client, make_event):
    """WTForms' own messages come from our catalogs (WTForms' ar, zh and ru ones are incomplete), in each request's
    language."""
    event = make_event()
    english = "Not a valid integer value."
    expected = {language: read_catalog(language)[english].string for language in ["fr", "zh_Hans", "ru", "ar"]}
    expected["en"] = english
    assert len(set(expected.values())) == 5
    for language, header in [("ar", "ar"), ("zh_Hans", "zh-CN"), ("en", "en"), ("ru", "ru-RU"), ("fr", "fr")]:
        response = client.post(
            f"/e/{event.slug}/register", data=form(accompanying="two"), headers={"Accept-Language": header}
        )
        assert response.status_code == 200
        assert expected[language] in response.text
        assert all(text not in response.text for other, text in expected.items() if other != language)
    assert registrations(app) == []


@pytest.mark.parametrize("who", ["public", "delegate", "organizer"])
def test_the_accompanying_persons_input_shows_its_range(client, make_event, make_registration, make_organizer, who):
    event = make_event()
    registration_id, token = make_registration(event)
    if who == "organizer":
        email, password = make_organizer()
        client.post("/auth/login", data={"email": email, "password": password})
    path = {
        "public": f"/e/{event.slug}/register",
        "delegate": f"/r/{token}/edit",
        "organizer": f"/organizer/events/{event.slug}/registrations/{registration_id}/edit",
    }[who]
    page = client.get(path).text
    tag = re.search(r'<input[^>]*\bid="accompanying"[^>]*>', page).group(0)
    assert 'type="number"' in tag and 'min="0"' in tag and f'max="{MAX_ACCOMPANYING}"' in tag
    assert 'aria-describedby="accompanying-hint"' in tag
    hint = re.search(r'<p class="hint" id="accompanying-hint">([^<]*)</p>', page).group(1)
    assert hint == f"People coming with you, from 0 to {MAX_ACCOMPANYING}; each takes a seat."
