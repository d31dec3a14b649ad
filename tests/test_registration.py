"""The public registration form: the happy path, every validation rule, duplicates, windows, capacity."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import OutboxMessage, Registration, utcnow

VALID = {
    "honorific": "Prof.",
    "given_name": "Chunli",
    "family_name": "Bai",
    "native_name": "白春礼",
    "email": "Chunli.Bai@Example.org",
    "institution": "Chinese Academy of Sciences",
    "position": "President",
    "country": "CN",
    "category": "delegate",
    "accompanying": "1",
    "dietary": "Vegetarian",
    "accessibility": "",
    "visa_letter": "y",
    "consent": "y",
}


def form(**changes):
    data = {**VALID, **changes}
    return {key: value for key, value in data.items() if value is not None}


def registrations(app):
    with app.app_context():
        return db.session.scalars(select(Registration).order_by(Registration.id)).all()


def outbox_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_form_shows_every_field_with_a_label(client, make_event):
    event = make_event()
    page = client.get(f"/e/{event.slug}/register").text
    for field in (
        "honorific",
        "given_name",
        "family_name",
        "native_name",
        "email",
        "institution",
        "position",
        "country",
        "category",
        "accompanying",
        "dietary",
        "accessibility",
        "visa_letter",
        "consent",
    ):
        assert f'<label for="{field}">' in page
        assert f'id="{field}"' in page
    assert 'maxlength="100"' in page  # given name, as long as its column


def test_register_redirects_to_the_private_page(app, client, make_event):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form())
    assert response.status_code == 302
    [registration] = registrations(app)
    assert response.headers["Location"] == f"/r/{registration.token}"
    assert len(registration.token) >= 43  # 32 random bytes: 256 bits
    page = client.get(response.headers["Location"]).text
    assert "Thank you, your registration has been received." in page
    assert "Your place is confirmed." in page
    assert "白春礼" in page
    assert f"http://localhost/r/{registration.token}" in page
    assert registration.email == "Chunli.Bai@example.org"  # normalised: the domain lower-cased
    assert registration.email_key == "chunli.bai@example.org"
    assert registration.status == "confirmed"
    assert registration.accompanying == 1 and registration.seats == 2
    assert registration.visa_letter is True
    assert registration.consent_at is not None
    assert outbox_count(app) == 1


@pytest.mark.parametrize(
    "name",
    ["白春礼", "محمد الحسن", "Ирина Петрова", "François Dvořák-Øster", "Nguyễn Thị Minh Khai", "👩‍🔬 Zoë"],
)
def test_names_in_any_script_round_trip_exactly(app, client, make_event, name):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(given_name=name, native_name=name))
    assert response.status_code == 302
    [registration] = registrations(app)
    assert registration.given_name == name
    assert registration.native_name == name
    assert name in client.get(response.headers["Location"]).text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": ""}, "given_name", "Please fill in this field."),
        ({"family_name": "   "}, "family_name", "Please fill in this field."),
        ({"email": ""}, "email", "Please fill in this field."),
        ({"institution": None}, "institution", "Please fill in this field."),
        ({"country": ""}, "country", "Please choose your country or region."),
        ({"email": "not-an-address"}, "email", "This email address is not valid"),
        ({"email": "a@b"}, "email", "This email address is not valid"),
        ({"email": "two@@example.org"}, "email", "This email address is not valid"),
        ({"country": "ZZ"}, "country", "Not a valid choice"),
        ({"country": "cn"}, "country", "Not a valid choice"),
        ({"category": "vip"}, "category", "Not a valid choice"),
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


def test_duplicate_email_is_refused_case_insensitively(app, client, make_event):
    event = make_event()
    assert client.post(f"/e/{event.slug}/register", data=form()).status_code == 302
    response = client.post(f"/e/{event.slug}/register", data=form(email="CHUNLI.BAI@EXAMPLE.ORG"))
    assert response.status_code == 200
    assert "This email address is already registered for this event." in response.text
    assert len(registrations(app)) == 1
    assert outbox_count(app) == 1


def test_same_email_may_register_for_another_event(app, client, make_event):
    first, second = make_event(), make_event(title="Symposium")
    assert client.post(f"/e/{first.slug}/register", data=form()).status_code == 302
    assert client.post(f"/e/{second.slug}/register", data=form()).status_code == 302
    assert len(registrations(app)) == 2


def test_cancelled_registration_frees_the_email(app, client, make_event):
    event = make_event()
    client.post(f"/e/{event.slug}/register", data=form())
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        registration.status = "cancelled"
        db.session.commit()
    assert client.post(f"/e/{event.slug}/register", data=form()).status_code == 302
    assert len(registrations(app)) == 2


def test_database_refuses_a_second_active_registration(app, make_event):
    """The partial unique index backs the check even when the service is bypassed."""
    from sqlalchemy.exc import IntegrityError

    from tests.conftest import delegate

    event = make_event()
    with app.app_context():
        for _ in range(2):
            details = delegate().__dict__
            db.session.add(
                Registration(
                    event_id=event.id,
                    email_key="x@example.org",
                    institution_key="x",
                    consent_at=utcnow(),
                    status="confirmed",
                    language="en",
                    **details,
                )
            )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"registration_closes_at": utcnow() - timedelta(minutes=1)}, "Registration for this event is closed."),
        ({"registration_opens_at": utcnow() + timedelta(days=1)}, "Registration is not open yet."),
    ],
)
def test_registration_outside_the_window_gives_a_clear_page(app, client, make_event, window, message):
    event = make_event(**window)
    page = client.get(f"/e/{event.slug}/register")
    assert page.status_code == 200
    assert message in page.text
    response = client.post(f"/e/{event.slug}/register", data=form())
    assert message in response.text
    assert registrations(app) == []


def test_registration_closes_when_the_event_starts(app, client, make_event):
    starts = utcnow() - timedelta(minutes=5)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=3))
    assert "Registration for this event is closed." in client.post(f"/e/{event.slug}/register", data=form()).text
    assert registrations(app) == []


@pytest.mark.parametrize(
    "path",
    [
        "/e/no-such-event",
        "/e/no-such-event/register",
        "/r/not-a-real-token-at-all",
        "/r/short",
        "/r/abc%00defghijklmnopqrstuvwxyz",  # PostgreSQL refuses NUL in text: it must never reach a query
        "/e/Ceremony%00",
        "/e/%E7%99%BD",
    ],
)
def test_unknown_event_or_link_gives_a_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "There is nothing at this address." in response.text


def test_full_event_refuses_with_a_clear_message(app, client, make_event, make_registration):
    event = make_event(capacity=3)
    make_registration(event, email="first@example.org", accompanying=1)
    response = client.post(f"/e/{event.slug}/register", data=form(accompanying="1"))
    assert "Sorry, only 1 seat is left" in response.text
    assert client.post(f"/e/{event.slug}/register", data=form(accompanying="0")).status_code == 302
    response = client.post(f"/e/{event.slug}/register", data=form(email="late@example.org", accompanying="0"))
    assert "Sorry, this event is full: there are no seats left." in response.text
    assert len(registrations(app)) == 2
    assert "This event is full." in client.get(f"/e/{event.slug}").text


def test_approval_events_register_as_pending(app, client, make_event):
    event = make_event(requires_approval=True)
    response = client.post(f"/e/{event.slug}/register", data=form())
    [registration] = registrations(app)
    assert registration.status == "pending"
    assert "awaiting approval" in client.get(response.headers["Location"]).text


def test_registration_stores_the_page_language(app, client, make_event):
    event = make_event()
    client.post(f"/e/{event.slug}/register", data=form(), headers={"Accept-Language": "en-GB,en;q=0.8"})
    [registration] = registrations(app)
    assert registration.language == "en"


def test_event_page_shows_what_when_where_and_seats_left(client, make_event, make_registration):
    event = make_event(capacity=100, description="Opening of the alliance.")
    make_registration(event, accompanying=2)
    page = client.get(f"/e/{event.slug}").text
    assert "Inaugural Ceremony" in page
    assert "Great Hall, Beijing" in page
    assert "Opening of the alliance." in page
    assert "Asia/Shanghai" in page
    assert "UTC+08:00" in page
    assert "97 / 100" in page
    assert f"/e/{event.slug}/register" in page


def test_home_lists_upcoming_events_only(client, make_event):
    make_event(title="Future Ceremony")
    past = utcnow() - timedelta(days=10)
    make_event(title="Past Ceremony", starts_at=past, ends_at=past + timedelta(hours=2))
    page = client.get("/").text
    assert "Future Ceremony" in page
    assert "Past Ceremony" not in page
    assert 'href="/auth/login"' in page


def test_every_text_field_is_limited_to_its_column(app, client, make_event):
    from eventreg.forms import column_length

    event = make_event()
    page = client.get(f"/e/{event.slug}/register").text
    for field in (
        "given_name",
        "family_name",
        "native_name",
        "email",
        "institution",
        "position",
        "dietary",
        "accessibility",
    ):
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
    assert client.post(f"/e/{event.slug}/register", data=form(email="someone@cas.cn")).status_code == 302
    assert seen == [setting]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": "\u200b\u200b"}, "given_name", "Please fill in this field."),  # invisible only: stripped
        ({"family_name": "\u200d"}, "family_name", "Please write at least one letter."),
        ({"given_name": "123"}, "given_name", "Please write at least one letter."),
        ({"institution": "..."}, "institution", "Please write at least one letter."),
        ({"given_name": "\u202eevil Nam"}, "given_name", "invisible text-direction characters"),
        ({"institution": "\u202egnp.exe"}, "institution", "invisible text-direction characters"),
        ({"dietary": "no \u2066pork\u2069"}, "dietary", "invisible text-direction characters"),
        ({"email": "ирина@пример.рф"}, "email", "Internationalized characters before the @-sign"),
    ],
)
def test_invisible_and_spoofing_input_is_refused(app, client, make_event, changes, field, message):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(**changes))
    error_start = response.text.index(f'id="{field}-error"')
    assert message in response.text[error_start : error_start + 400]
    assert registrations(app) == []


def test_joiners_inside_names_are_kept(app, client, make_event):
    """Zero-width joiners are part of Persian and Indic spelling; only the direction overrides are refused."""
    event = make_event()
    name = "می\u200cخواهم"
    assert client.post(f"/e/{event.slug}/register", data=form(given_name=name)).status_code == 302
    assert registrations(app)[0].given_name == name


def test_internationalised_domains_are_accepted(app, client, make_event):
    event = make_event()
    assert client.post(f"/e/{event.slug}/register", data=form(email="li@北京大学.中国")).status_code == 302
    [registration] = registrations(app)
    assert registration.email == "li@北京大学.中国"
    with app.app_context():
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.recipient == "li@xn--1lq90ic7fzpc.xn--fiqs8s"  # what SMTP servers can deliver to


def test_a_double_submit_of_one_form_registers_once_and_lands_on_the_same_page(app, client, make_event):
    event = make_event()
    page = client.get(f"/e/{event.slug}/register").text
    submission = re.search(r'id="submission" name="submission" type="hidden" value="([\w-]+)"', page).group(1)
    first = client.post(f"/e/{event.slug}/register", data=form(submission=submission))
    second = client.post(f"/e/{event.slug}/register", data=form(submission=submission))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(registrations(app)) == 1
    assert outbox_count(app) == 1
    other_form = client.post(f"/e/{event.slug}/register", data=form(submission="another-form-entirely"))
    assert "This email address is already registered for this event." in other_form.text


@pytest.mark.parametrize(
    ("given", "family", "honorific", "expected"),
    [
        ("Chunli", "Bai", "Prof.", "Prof. Chunli Bai"),
        ("春礼", "白", "Prof.", "Prof. 白春礼"),
        ("민준", "김", "", "김민준"),
        ("太郎", "田中", "Dr.", "Dr. 田中太郎"),
        ("Ирина", "Петрова", "", "Ирина Петрова"),
    ],
)
def test_names_in_east_asian_scripts_put_the_family_name_first(given, family, honorific, expected):
    registration = Registration(given_name=given, family_name=family, honorific=honorific)
    assert registration.display_name == expected


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


def test_home_says_whether_registration_is_open(client, make_event):
    make_event(title="Open Ceremony")
    make_event(title="Closed Ceremony", registration_closes_at=utcnow() - timedelta(hours=1))
    page = client.get("/").text
    open_card = page[page.index("Open Ceremony") :]
    assert "Registration open" in open_card[: open_card.index("</li>")]
    closed_card = page[page.index("Closed Ceremony") :]
    assert "Registration closed" in closed_card[: closed_card.index("</li>")]
