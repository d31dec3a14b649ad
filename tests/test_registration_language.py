"""A registration keeps the language it was made in: every mail to the delegate is written in it, organizers see it
and can change it (audited), and later mails follow the change.

The mails are checked against tiny catalogs compiled here (a few strings each), not the shipped ones, which the
translators are still filling: what is tested is that the registration's language reaches the catalog."""

import email
import email.policy

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from sqlalchemy import select

from eventreg import extensions
from eventreg.attendees.services import edit_registration
from eventreg.extensions import db
from eventreg.languages import LANGUAGE_COOKIE
from eventreg.mail.worker import deliver_due
from eventreg.models import AuditEntry, Registration
from tests.conftest import delegate, drop_tables, make_app, sending_to
from tests.site_pages import parse
from tests.test_api import make_account
from tests.test_registration import form

TINY_CATALOGS = {
    "fr": {
        "Your registration for %(title)s": "Votre inscription : %(title)s",
        "Your registration for %(title)s is confirmed.": "Votre inscription à %(title)s est confirmée.",
        "Dear %(name)s,": "Madame, Monsieur (%(name)s),",
        "Your registration was updated: %(title)s": "Votre inscription a été modifiée : %(title)s",
        "Your registration is approved: %(title)s": "Votre inscription est approuvée : %(title)s",
        "Language": "Langue",
    },
    "ar": {
        "Your registration for %(title)s": "تسجيلك في %(title)s",
        "Dear %(name)s,": "حضرة %(name)s،",
    },
    "zh_Hans": {"Your registration for %(title)s": "您的注册：%(title)s"},
}


@pytest.fixture
def tiny_catalogs(tmp_path):
    """Settings for an app that offers en, fr, ar and zh_Hans from the tiny catalogs above, compiled."""
    for code, messages in TINY_CATALOGS.items():
        folder = tmp_path / "tiny" / code / "LC_MESSAGES"
        folder.mkdir(parents=True)
        catalog = Catalog(locale=code)
        for msgid, msgstr in messages.items():
            catalog.add(msgid, msgstr)
        with open(folder / "messages.mo", "wb") as mo:
            write_mo(mo, catalog)
    # Flask-Babel caches translations per language in the one Babel object that every app of the test run shares:
    # start and end with an empty cache, so no other test's catalogs show here and these show nowhere else.
    extensions.babel.domain_instance.cache.clear()
    yield {"BABEL_TRANSLATION_DIRECTORIES": str(tmp_path / "tiny"), "LANGUAGES": ["en", "fr", "ar", "zh_Hans"]}
    extensions.babel.domain_instance.cache.clear()


@pytest.fixture
def mail_app(tmp_path, smtp_server, tiny_catalogs):
    """An app with the tiny catalogs that sends through the in-process SMTP server."""
    app = make_app(
        tmp_path,
        **sending_to(smtp_server.port),
        **tiny_catalogs,
    )
    yield app
    drop_tables(app)


def stored_languages(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Registration.language).order_by(Registration.id)))


def delivered(app, smtp_server) -> list[email.message.EmailMessage]:
    """Send what the outbox holds; every message the SMTP server received so far, parsed."""
    with app.app_context():
        deliver_due()
    return [email.message_from_bytes(e.content, policy=email.policy.default) for e in smtp_server.envelopes]


def parts(message) -> tuple[str, str, str]:
    """Subject, text and HTML of a mail."""
    text = message.get_body(("plain",)).get_content()
    return str(message["Subject"]), text, message.get_body(("html",)).get_content()


@pytest.mark.parametrize(
    ("headers", "cookie", "stored"),
    [
        ({"Accept-Language": "fr-FR, fr;q=0.9, en;q=0.5"}, None, "fr"),
        ({"Accept-Language": "zh-TW"}, None, "zh_Hans"),
        ({"Accept-Language": "zh-Hans-CN"}, None, "zh_Hans"),
        ({"Accept-Language": "de-DE"}, None, "en"),
        ({"Accept-Language": "fr-FR"}, "ar", "ar"),  # the visitor's choice wins over the browser
    ],
)
def test_a_registration_stores_the_language_its_form_was_shown_in(app, client, make_event, headers, cookie, stored):
    event = make_event()
    if cookie:
        client.set_cookie(LANGUAGE_COOKIE, cookie)
    response = client.post(f"/e/{event.slug}/register", data=form(), headers=headers)
    assert response.status_code == 303
    assert stored_languages(app) == [stored]


def test_a_delegate_whose_browser_asks_for_french_gets_the_confirmation_in_french(mail_app, smtp_server):
    from tests.conftest import create_test_event

    event = create_test_event(mail_app)
    client = mail_app.test_client()
    response = client.post(f"/e/{event.slug}/register", data=form(), headers={"Accept-Language": "fr-FR"})
    assert response.status_code == 303
    assert stored_languages(mail_app) == ["fr"]
    [message] = delivered(mail_app, smtp_server)
    subject, text, html = parts(message)
    assert subject == "Votre inscription : Inaugural Ceremony"
    for part in (text, html):
        assert "Madame, Monsieur (Prof. Chunli Bai)," in part
        assert "Votre inscription à Inaugural Ceremony est confirmée." in part
    root = parse(html)
    assert (root.get("lang"), root.get("dir")) == ("fr", "ltr")


def test_an_arabic_registration_gets_a_right_to_left_mail(mail_app, smtp_server):
    from tests.conftest import create_test_event

    event = create_test_event(mail_app)
    client = mail_app.test_client()
    client.set_cookie(LANGUAGE_COOKIE, "ar")
    assert client.post(f"/e/{event.slug}/register", data=form()).status_code == 303
    [message] = delivered(mail_app, smtp_server)
    subject, text, html = parts(message)
    assert subject == "تسجيلك في Inaugural Ceremony"
    assert "حضرة Prof. Chunli Bai،" in text
    root = parse(html)
    assert (root.get("lang"), root.get("dir")) == ("ar", "rtl")


def test_a_language_no_longer_offered_mails_in_the_default(mail_app, smtp_server, make_registration):
    from tests.conftest import create_test_event, register_test_delegate

    event = create_test_event(mail_app)
    register_test_delegate(mail_app, event, language="ru")  # offered when the delegate registered, not now
    [message] = delivered(mail_app, smtp_server)
    subject, _text, html = parts(message)
    assert subject == "Your registration for Inaugural Ceremony"
    assert parse(html).get("lang") == "en"


@pytest.fixture
def mail_world(mail_app):
    """An event with approval, a pending registration made in English, and a logged-in administrator."""
    from tests.conftest import create_test_event, register_test_delegate

    event = create_test_event(mail_app, requires_approval=True)
    registration_id, _token = register_test_delegate(mail_app, event, language="en")
    make_account(mail_app, "admin@example.org", "admin")
    client = mail_app.test_client()
    login = client.post("/auth/login", data={"email": "admin@example.org", "password": "correct horse battery"})
    assert login.status_code == 302
    return event, registration_id, client


def edit_page(client, event, registration_id):
    return client.get(f"/organizer/events/{event.slug}/registrations/{registration_id}/edit")


def test_the_edit_page_offers_the_languages_in_their_own_names(mail_world):
    event, registration_id, client = mail_world
    page = parse(edit_page(client, event, registration_id).text)
    [select_element] = page.xpath("//select[@name='language']")
    options = [(o.get("value"), o.text_content(), o.get("lang"), o.get("selected")) for o in select_element]
    assert options == [
        ("en", "English", "en", "selected"),
        ("fr", "Français", "fr", None),
        ("ar", "العربية", "ar", None),
        ("zh_Hans", "简体中文", "zh-Hans", None),
    ]
    detail = parse(client.get(f"/organizer/events/{event.slug}/registrations/{registration_id}").text)
    [shown] = detail.xpath("//dd[@id='language']")
    assert (shown.text_content(), shown.get("lang")) == ("English", "en")


def edit_data(client, event, registration_id, **changes) -> dict:
    """The edit form as the page fills it in, with `changes`."""
    page = parse(edit_page(client, event, registration_id).text)
    [form_element] = page.xpath("//form[contains(@class, 'registration-form')]")
    data = dict(form_element.form_values())
    data.update(changes)
    return data


def test_an_organizer_changes_the_language_and_the_next_mails_follow(mail_app, smtp_server, mail_world):
    event, registration_id, client = mail_world
    assert [parts(m)[0] for m in delivered(mail_app, smtp_server)] == [
        "Registration received, awaiting approval: Inaugural Ceremony"
    ]
    url = f"/organizer/events/{event.slug}/registrations/{registration_id}"
    response = client.post(f"{url}/edit", data=edit_data(client, event, registration_id, language="fr"))
    assert response.status_code == 302 and response.headers["Location"] == url
    assert stored_languages(mail_app) == ["fr"]
    with mail_app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.edited")).all()
        assert (entry.before, entry.after, entry.actor) == ({"language": "en"}, {"language": "fr"}, "admin@example.org")

    # The "changed" mail that lists the change is the first in French.
    changed = delivered(mail_app, smtp_server)[-1]
    subject, text, html = parts(changed)
    assert subject == "Votre inscription a été modifiée : Inaugural Ceremony"
    assert "Langue" in text and "English" in text and "Français" in text
    assert parse(html).get("lang") == "fr"

    # So is every later one.
    assert client.post(f"{url}/approve").status_code == 302
    subject, _text, _html = parts(delivered(mail_app, smtp_server)[-1])
    assert subject == "Votre inscription est approuvée : Inaugural Ceremony"

    # The organizer sees the language, its change in the history, and the language the delegate registered in.
    detail = parse(client.get(url).text)
    assert detail.xpath("//dd[@id='language']")[0].text_content() == "Français"
    [change] = detail.xpath("//li[@data-field='language']")
    assert "English → Français" in change.text_content()
    assert "in language English" in detail.xpath("//li[contains(@class, 'history-created')]")[0].text_content()


def test_a_language_not_offered_is_refused_on_the_edit_page(mail_world, mail_app):
    event, registration_id, client = mail_world
    url = f"/organizer/events/{event.slug}/registrations/{registration_id}/edit"
    response = client.post(url, data=edit_data(client, event, registration_id, language="ru"))
    assert response.status_code == 200
    assert parse(response.text).xpath("//select[@name='language']/@aria-invalid") == ["true"]
    assert stored_languages(mail_app) == ["en"]


def test_a_stored_language_no_longer_offered_stays_choosable(mail_app, mail_world):
    event, registration_id, client = mail_world
    with mail_app.app_context():
        db.session.get(Registration, registration_id).language = "ru"
        db.session.commit()
    page = parse(edit_page(client, event, registration_id).text)
    assert page.xpath("//select[@name='language']/option[@selected]/@value") == ["ru"]
    # Saving other corrections keeps it as it is.
    data = edit_data(client, event, registration_id, institution="Academy of Sciences")
    response = client.post(f"/organizer/events/{event.slug}/registrations/{registration_id}/edit", data=data)
    assert response.status_code == 302
    assert stored_languages(mail_app) == ["ru"]


def test_an_edit_without_a_language_leaves_it_and_records_nothing_about_it(app, make_event, make_registration):
    event = make_event()
    registration_id, _token = make_registration(event, language="fr")
    with app.app_context():
        assert edit_registration(event.id, registration_id, delegate(institution="CAS"))
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.edited")).all()
        assert "language" not in entry.before
        assert db.session.get(Registration, registration_id).language == "fr"


def test_the_api_carries_the_registration_language(app, client, make_event):
    event = make_event()
    client.post(f"/e/{event.slug}/register", data=form(), headers={"Accept-Language": "zh-TW"})
    headers = make_account(app, "reader@example.org", "admin")
    response = client.get(f"/api/v1/events/{event.slug}/registrations", headers=headers)
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert [row["language"] for row in body["items"]] == ["zh_Hans"]
