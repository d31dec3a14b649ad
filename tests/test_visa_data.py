"""The visa fields of the registration form and of the delegate's own edit: asked only with "I need a visa
invitation letter", each rule with its message, the application saved in the registration's transaction, a change
of passport data withdrawing letters and said without values (audit, mail), and who may see it."""

import email
import email.policy
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.mail.worker import deliver_due
from eventreg.models import (
    AuditEntry,
    LetterState,
    OutboxMessage,
    Registration,
    VisaApplication,
    VisaLetter,
    VisaState,
    token_digest,
)
from eventreg.registration.privacy import erase_registration, purge_event
from eventreg.visas.application import visa_application
from tests.conftest import create_test_event, private_token

NUMBER = "X9Q47112"
# Stands for the day the test runs on (read then, not at collection: a run may cross midnight).
TODAY = "today"
BIRTH = date(1971, 5, 4)

BASE = {
    "honorific": "Prof.",
    "given_name": "Chunli",
    "family_name": "Bai",
    "native_name": "白春礼",
    "email": "chunli.bai@example.org",
    "institution": "Chinese Academy of Sciences",
    "position": "President",
    "country": "CN",
    "category": "delegate",
    "accompanying": "0",
    "consent": "y",
}


def visa_form(event, **changes) -> dict:
    """A registration form asking for a visa letter, with valid visa fields for `event`, `changes` applied."""
    first, last = event.local(event.starts_at).date(), event.local(event.ends_at).date()
    values = {
        **BASE,
        "visa_letter": "y",
        "visa-passport_name": "BAI CHUNLI",
        "visa-nationality": "CN",
        "visa-passport_number": "x9q 47112",
        "visa-passport_expiry": (last + timedelta(days=400)).isoformat(),
        "visa-birth_date": BIRTH.isoformat(),
        "visa-consulate_city": "Beijing",
        "visa-arrival": (first - timedelta(days=1)).isoformat(),
        "visa-departure": (last + timedelta(days=1)).isoformat(),
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def applications(app) -> list[VisaApplication]:
    with app.app_context():
        rows = list(db.session.scalars(select(VisaApplication)))
        for row in rows:
            db.session.expunge(row)
        return rows


def registered(app, client, event, **changes) -> Registration:
    response = client.post(f"/e/{event.slug}/register", data=visa_form(event, **changes))
    assert response.status_code == 303, response.text
    with app.app_context():
        return db.session.scalar(select(Registration))


def test_a_visa_request_is_saved_with_the_registration_its_number_normalized_and_sealed(app, client, make_event):
    event = make_event()
    registration = registered(app, client, event)
    (application,) = applications(app)
    with app.app_context():
        application = db.session.get(VisaApplication, application.id)
        assert application.registration_id == registration.id
        assert (application.passport_name, application.nationality) == ("BAI CHUNLI", "CN")
        assert application.passport_number == NUMBER
        assert application.birth_date == BIRTH
        assert NUMBER not in application.passport_number_sealed
        assert application.consulate_city == "Beijing"


def test_without_the_box_the_visa_fields_are_neither_checked_nor_kept(app, client, make_event):
    event = make_event()
    data = visa_form(event, **{"visa_letter": None, "visa-birth_date": "not a date", "visa-passport_number": "?"})
    assert client.post(f"/e/{event.slug}/register", data=data).status_code == 303
    assert applications(app) == []


def test_the_form_shows_the_visa_fields_with_their_hint(client, make_event):
    page = client.get(f"/e/{make_event().slug}/register").text
    assert 'name="visa-passport_number"' in page
    assert "Only if you need a visa letter." in page
    assert "js/visa-fields.js" in page
    assert 'Passport number <span class="optional">' not in page  # required when the box is ticked


def _days(event, which: str, delta: int) -> str:
    day = event.local(event.starts_at if which == "start" else event.ends_at).date()
    return (day + timedelta(days=delta)).isoformat()


BAD = [
    ("passport_name", "", "Please fill in this field."),
    ("passport_name", "123 456", None),
    ("passport_name", "A" * 201, None),
    ("nationality", "", "Please fill in this field."),
    ("nationality", "XX", "Not a valid choice."),
    ("passport_number", "", "Please fill in this field."),
    ("passport_number", "AB12", "A passport number has 5 to 20 letters and digits."),
    ("passport_number", "AB-12345", "A passport number has 5 to 20 letters and digits."),
    ("passport_number", "A" * 21, "A passport number has 5 to 20 letters and digits."),
    ("passport_expiry", "", "Please fill in this field."),
    ("passport_expiry", "31/12/2040", "Not a valid date value."),
    ("birth_date", "", "Please fill in this field."),
    ("birth_date", TODAY, "Your date of birth must be in the past."),
    ("birth_date", "1890-01-01", "Please check your date of birth: it is more than 120 years ago."),
    ("consulate_city", "", "Please fill in this field."),
    ("arrival", "", "Please fill in this field."),
    ("departure", "", "Please fill in this field."),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_each_visa_field_is_checked_with_a_clear_message(app, client, make_event, name, value, message):
    event = make_event()
    value = date.today().isoformat() if value == TODAY else value
    response = client.post(f"/e/{event.slug}/register", data=visa_form(event, **{f"visa-{name}": value}))
    assert response.status_code == 200
    assert f'id="visa-{name}-error"' in response.text
    if message:
        assert message in response.text
    assert applications(app) == []


@pytest.mark.parametrize(
    ("changes", "name", "message"),
    [
        ({"visa-arrival": ("start", 1)}, "arrival", "Please arrive by the first day of the event."),
        (
            {"visa-arrival": ("start", -3), "visa-departure": ("end", -1)},
            "departure",
            "Please leave no earlier than the last day of the event.",
        ),
        (
            {"visa-arrival": ("start", -1), "visa-departure": ("start", -1)},
            "departure",
            "Your departure must be after your arrival.",
        ),
        ({"visa-passport_expiry": ("end", 1)}, "passport_expiry", "Your passport must be valid after your departure."),
    ],
)
def test_the_travel_dates_are_checked_against_the_event_and_the_passport(
    app, client, make_event, changes, name, message
):
    event = make_event()
    values = {key: _days(event, *moment) for key, moment in changes.items()}
    response = client.post(f"/e/{event.slug}/register", data=visa_form(event, **values))
    assert response.status_code == 200
    assert f'id="visa-{name}-error"' in response.text and message in response.text
    assert applications(app) == []


def test_an_arrival_in_the_past_is_refused(app, client, make_event):
    event = make_event()
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    response = client.post(f"/e/{event.slug}/register", data=visa_form(event, **{"visa-arrival": yesterday}))
    assert "Your arrival date is in the past." in response.text
    assert applications(app) == []


def _edit(app, client, event, registration_id, **changes):
    token = private_token(app, registration_id)
    data = visa_form(event, **changes)
    data.pop("email"), data.pop("consent")
    return client.post(f"/r/{token}/edit", data=data)


def _issue_letter(app, registration_id, event_id) -> int:
    """A valid letter, as the visa queue issues one (visas/letters.py is another module's)."""
    with app.app_context():
        letter = VisaLetter(
            event_id=event_id,
            registration_id=registration_id,
            sequence=1,
            number="TEST-0001",
            verify_digest=token_digest("code"),
            holder_name="BAI CHUNLI",
            passport_tail=NUMBER[-3:],
            content_sealed="sealed",
        )
        db.session.add(letter)
        db.session.commit()
        return letter.id


def _letter(app, letter_id) -> VisaLetter:
    with app.app_context():
        letter = db.session.get(VisaLetter, letter_id)
        db.session.expunge(letter)
        return letter


def test_a_new_passport_number_withdraws_the_letter_and_is_said_without_values(app, client, make_event):
    event = make_event()
    registration = registered(app, client, event)
    letter_id = _issue_letter(app, registration.id, event.id)
    response = _edit(app, client, event, registration.id, **{"visa-passport_number": "K1234567"})
    assert response.status_code == 302, response.text
    assert _letter(app, letter_id).state == LetterState.WITHDRAWN
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.edited")).one()
        assert entry.after == {"passport_data": "changed"}
        assert "K1234567" not in str(entry.before) + str(entry.after)
        message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "changed")).one()
        mail = compose(message)
    text = mail.body + (mail.html or "")
    assert "Your passport data was changed." in mail.body
    assert "K1234567" not in text and NUMBER not in text and BIRTH.isoformat() not in text


def test_a_new_consulate_or_new_travel_dates_withdraw_the_letter(app, client, make_event):
    """The letter prints the consulate's city and the travel dates: once they change, it says what is not so."""
    event = make_event()
    registration = registered(app, client, event)
    letter_id = _edit_travel(app, client, event, registration)
    assert _letter(app, letter_id).state == LetterState.WITHDRAWN
    (application,) = applications(app)
    assert (application.consulate_city, application.state) == ("Shanghai", VisaState.PENDING)


def _edit_travel(app, client, event, registration) -> int:
    letter_id = _issue_letter(app, registration.id, event.id)
    response = _edit(app, client, event, registration.id, **{"visa-consulate_city": "Shanghai"})
    assert response.status_code == 302, response.text
    return letter_id


def test_the_own_edit_shows_the_data_on_file(app, client, make_event):
    event = make_event()
    registration = registered(app, client, event)
    page = client.get(f"/r/{private_token(app, registration.id)}/edit").text
    assert f'value="{NUMBER}"' in page and f'value="{BIRTH.isoformat()}"' in page


def test_unticking_the_box_removes_the_application_and_withdraws_letters(app, client, make_event):
    event = make_event()
    registration = registered(app, client, event)
    letter_id = _issue_letter(app, registration.id, event.id)
    assert _edit(app, client, event, registration.id, visa_letter=None).status_code == 302
    assert applications(app) == []
    assert _letter(app, letter_id).state == LetterState.WITHDRAWN


def test_erasure_blanks_the_application_and_the_letters(app, client, make_event):
    event = make_event()
    registration = registered(app, client, event)
    letter_id = _issue_letter(app, registration.id, event.id)
    with app.app_context():
        erase_registration(registration.id, actor=None)
    (application,) = applications(app)
    assert (application.passport_name, application.passport_number_sealed, application.birth_date_sealed) == (
        "",
        "",
        "",
    )
    assert application.arrival is None and application.passport_expiry is None
    letter = _letter(app, letter_id)
    assert (letter.state, letter.holder_name, letter.content_sealed) == (LetterState.WITHDRAWN, "", "")


def test_the_private_page_shows_the_request_with_the_number_masked(app, client, make_event):
    event = make_event()
    registration = registered(app, client, event)
    page = client.get(f"/r/{private_token(app, registration.id)}").text
    assert "BAI CHUNLI" in page and "•••••112" in page
    assert NUMBER not in page


def test_the_purge_erases_the_passport_data(app, client, make_event):
    event = make_event()
    registered(app, client, event)
    with app.app_context():
        assert purge_event(event.id) == 1
    (application,) = applications(app)
    assert (application.passport_number_sealed, application.birth_date_sealed, application.passport_name) == (
        "",
        "",
        "",
    )


def test_the_organizers_edit_keeps_the_request_and_an_unticked_box_removes_it(app, client, logged_in, make_event):
    event = make_event()
    registration = registered(app, client, event)
    url = f"/organizer/events/{event.slug}/registrations/{registration.id}/edit"
    page = logged_in.get(url).text
    assert "visa-passport_number" not in page  # delegates give their passport data, organizers do not type it
    data = {**BASE, "visa_letter": "y", "institution": "CAS", "language": "en"}
    data.pop("consent")
    assert logged_in.post(url, data=data).status_code == 302
    assert len(applications(app)) == 1
    data.pop("visa_letter")
    assert logged_in.post(url, data=data).status_code == 302
    assert applications(app) == []


def test_the_changed_mail_that_arrives_says_the_passport_data_changed_and_not_the_number(smtp_app, smtp_server):
    client = smtp_app.test_client()
    event = create_test_event(smtp_app)
    registration = registered(smtp_app, client, event)
    assert _edit(smtp_app, client, event, registration.id, **{"visa-passport_number": "K1234567"}).status_code == 302
    with smtp_app.app_context():
        deliver_due()
    texts = [_decoded(envelope.content) for envelope in smtp_server.envelopes]
    assert len([text for text in texts if "Your passport data was changed." in text]) == 1
    for text in texts:
        for secret in ("K1234567", NUMBER, BIRTH.isoformat()):
            assert secret not in text


def _decoded(raw: bytes) -> str:
    """A mail's headers and every text part, decoded (quoted-printable or base64 would hide a number)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]
    return str(message) + "".join(parts)


def test_saving_the_same_passport_data_rewrites_nothing(app, client, make_event):
    event = make_event()
    registration = registered(app, client, event)
    (before,) = applications(app)
    assert _edit(app, client, event, registration.id).status_code == 302
    (after,) = applications(app)
    assert (after.passport_number_sealed, after.birth_date_sealed) == (
        before.passport_number_sealed,
        before.birth_date_sealed,
    )
    with app.app_context():
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.edited")).all() == []


def test_a_focal_point_neither_sees_nor_changes_a_members_passport_data(app, client):
    """The member's visa request is theirs: their focal point's edit page does not show the passport data, and an
    edit there keeps the request as it is."""
    from tests.test_focal_point import member_form, setup

    event, _delegation_id, _focal_id, token = setup(app)
    visa = {key: value for key, value in visa_form(event).items() if key.startswith("visa")}
    client.post(f"/r/{token}/delegation", data=member_form("olga@example.org", **visa))
    with app.app_context():
        member = db.session.scalar(select(Registration).where(Registration.email == "olga@example.org"))
        member_id = member.id
        assert visa_application(member_id).passport_number == "X9Q47112"
    page = client.get(f"/r/{token}/delegation/members/{member_id}/edit")
    assert page.status_code == 200
    assert "X9Q47112" not in page.text and "Passport number" not in page.text
    edit = {key: value for key, value in member_form("olga@example.org", dietary="Vegan").items() if key != "email"}
    response = client.post(f"/r/{token}/delegation/members/{member_id}/edit", data={**edit, "visa_letter": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Registration, member_id).dietary == "Vegan"
        kept = visa_application(member_id)
        assert (kept.passport_number, kept.passport_name) == ("X9Q47112", "BAI CHUNLI")


@pytest.mark.parametrize("form", ["focal point's member form", "invitation's form"])
def test_a_late_arrival_is_refused_on_every_registration_form(app, client, form):
    """The travel dates are checked against the event's days wherever a delegate is registered."""
    from tests.test_focal_point import member_form, setup
    from tests.test_invitation_link import complete, make_invitation

    event, _delegation_id, _focal_id, token = setup(app)
    visa = {key: value for key, value in visa_form(event).items() if key.startswith("visa")}
    visa["visa-arrival"] = _days(event, "start", 1)
    if form == "focal point's member form":
        response = client.post(f"/r/{token}/delegation", data=member_form("olga@example.org", **visa))
    else:
        _invitation_id, invitation_token = make_invitation(app, event)
        response = client.post(f"/i/{invitation_token}", data=complete(**visa))
    assert response.status_code in (200, 400)
    assert (
        'id="visa-arrival-error"' in response.text and "Please arrive by the first day of the event." in response.text
    )
    assert applications(app) == []


def test_a_focal_points_edit_never_drops_a_members_visa_request(app, client):
    """The box is not the focal point's to untick: the request and the issued letter stay as they are."""
    from tests.test_focal_point import member_form, setup

    event, _delegation_id, _focal_id, token = setup(app)
    visa = {key: value for key, value in visa_form(event).items() if key.startswith("visa")}
    client.post(f"/r/{token}/delegation", data=member_form("olga@example.org", **visa))
    with app.app_context():
        member_id = db.session.scalar(select(Registration.id).where(Registration.email == "olga@example.org"))
    letter_id = _issue_letter(app, member_id, event.id)
    page = client.get(f"/r/{token}/delegation/members/{member_id}/edit").text
    assert re.search(r'<input[^>]*disabled[^>]*name="visa_letter"|<input[^>]*name="visa_letter"[^>]*disabled', page)
    assert "Only the member can change this, on their own page." in page
    edit = {key: value for key, value in member_form("olga@example.org", dietary="Vegan").items() if key != "email"}
    response = client.post(f"/r/{token}/delegation/members/{member_id}/edit", data=edit)  # the box unticked
    assert response.status_code == 302
    with app.app_context():
        member = db.session.get(Registration, member_id)
        assert (member.dietary, member.visa_letter) == ("Vegan", True)
        assert visa_application(member_id).passport_number == "X9Q47112"
    assert _letter(app, letter_id).state == LetterState.VALID
