"""The verification page consulates open (/verify/<number>/<code>): only the number, the holder, the passport's
last three characters, the event and the state; a wrong code and an unknown number answer the same 404; rate
limited. And the delegate's own letter from their private page."""

import pytest
from sqlalchemy import select

from eventreg.attendees.services import apply_action, apply_bulk_action
from eventreg.extensions import db
from eventreg.models import Event, LetterState, VisaApplication, VisaLetter, token_digest
from eventreg.registration.self_service import cancel_own_registration
from eventreg.registration.status import StatusAction
from eventreg.visas.letters import unseal_content
from eventreg.visas.queue import refuse_request, withdraw_letter
from tests.conftest import create_test_event, drop_tables, make_app, private_token
from tests.test_visa_letters import PASSPORT, issue, pdf_text, visa_request


def issued_letter(app, n: int = 1, event=None) -> tuple[str, str, int]:
    """Issue a letter to a new request; its number, its verification code and its registration's id."""
    event = event or create_test_event(app, title="ANSO")
    (number,) = issue(app, event, visa_request(app, event, n))
    with app.app_context():
        letter = db.session.scalar(select(VisaLetter).where(VisaLetter.number == number))
        return number, unseal_content(letter)["code"], letter.registration_id


def test_a_valid_letter_shows_only_what_a_consulate_needs(app, client):
    number, code, _registration_id = issued_letter(app)
    response = client.get(f"/verify/{number}/{code}")
    assert response.status_code == 200
    text = response.text
    assert number in text and "BAI CHUNLI 1" in text and "781" in text and "ANSO" in text
    assert "Valid" in text
    assert PASSPORT not in text and "1953" not in text and "Paris" not in text
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert 'name="robots" content="noindex' in text


@pytest.mark.parametrize(
    "change, shown",
    [("replace", "Replaced by a newer letter"), ("withdraw", "Withdrawn"), ("erase", "Withdrawn")],
)
def test_replaced_withdrawn_and_erased_letters_say_so(app, client, change, shown):
    number, code, _registration_id = issued_letter(app)
    with app.app_context():
        letter = db.session.scalar(select(VisaLetter).where(VisaLetter.number == number))
        if change == "withdraw":
            withdraw_letter(db.session.get(Event, letter.event_id), letter.id, None)
        elif change == "replace":
            letter.state = LetterState.REPLACED
        else:  # what erasure leaves of a letter
            letter.holder_name, letter.passport_tail = "", ""
        db.session.commit()
    response = client.get(f"/verify/{number}/{code}")
    assert response.status_code == 200
    assert shown in response.text and "Valid" not in response.text
    assert ("BAI CHUNLI" in response.text) is (change != "erase")


def test_a_wrong_code_and_an_unknown_number_get_the_same_404(app, client):
    number, code, _registration_id = issued_letter(app)
    wrong_path, unknown_path = f"/verify/{number}/{'X' * len(code)}", f"/verify/ANSO-1999-0042/{code}"
    wrong_code, unknown = client.get(wrong_path), client.get(unknown_path)
    assert wrong_code.status_code == unknown.status_code == 404
    # The same page but for its own address (the language links repeat it).
    assert wrong_code.text.replace(wrong_path, "") == unknown.text.replace(unknown_path, "")
    assert "BAI" not in wrong_code.text and "Valid" not in wrong_code.text


def test_the_verification_page_is_rate_limited(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, VERIFY_LIMIT="3 per minute")
    try:
        client = app.test_client()
        number, code, _registration_id = issued_letter(app)
        answers = [client.get(f"/verify/{number}/WRONGCODE{n}").status_code for n in range(3)]
        assert answers == [404, 404, 404]
        blocked = client.get(f"/verify/{number}/{code}")
        assert blocked.status_code == 429
        assert "BAI CHUNLI" not in blocked.text
    finally:
        drop_tables(app)


def test_the_delegate_downloads_their_own_valid_letter_only(app, client):
    event = create_test_event(app, title="ANSO")
    number, _code, registration_id = issued_letter(app, 1, event)
    _other_number, _other_code, other_id = issued_letter(app, 2, event)
    token = private_token(app, registration_id)
    page = client.get(f"/r/{token}")
    assert "Download your visa letter (PDF)" in page.text and number in page.text
    response = client.get(f"/r/{token}/visa-letter.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert number in text and "BAI CHUNLI 1" in text and "BAI CHUNLI 2" not in text
    with app.app_context():
        letter = db.session.scalar(select(VisaLetter).where(VisaLetter.number == number))
        withdraw_letter(db.session.get(Event, event.id), letter.id, None)
    assert client.get(f"/r/{token}/visa-letter.pdf").status_code == 404
    assert "waiting for the organizers" in client.get(f"/r/{token}").text
    assert client.get(f"/r/{private_token(app, other_id)}/visa-letter.pdf").status_code == 200


def test_the_private_page_says_a_refused_request_was_declined(app, client):
    event = create_test_event(app, title="ANSO")
    application_id = visa_request(app, event)
    with app.app_context():
        refuse_request(db.session.get(Event, event.id), application_id, "Quota reached", None)
        registration_id = db.session.get(VisaApplication, application_id).registration_id
    page = client.get(f"/r/{private_token(app, registration_id)}").text
    assert "declined your request for a visa invitation letter" in page and "contact the organizers" in page
    assert "Quota reached" not in page


def test_the_private_page_asks_for_missing_details(app, client):
    event = create_test_event(app, title="ANSO")
    application_id = visa_request(app, event, complete=False)
    with app.app_context():
        registration_id = db.session.get(VisaApplication, application_id).registration_id
    page = client.get(f"/r/{private_token(app, registration_id)}").text
    assert "do not have the passport details they need yet" in page
    assert "waiting for the organizers" not in page


@pytest.mark.parametrize("who", ["delegate", "organizer", "organizer in bulk"])
def test_a_cancelled_registrations_letter_is_withdrawn(app, client, who):
    event = create_test_event(app, title="ANSO")
    number, code, registration_id = issued_letter(app, 1, event)
    token = private_token(app, registration_id)
    with app.app_context():
        if who == "delegate":
            cancel_own_registration(registration_id)
        elif who == "organizer":
            apply_action(event.id, registration_id, StatusAction.CANCEL)
        else:
            apply_bulk_action(event.id, [registration_id], StatusAction.CANCEL)
    page = client.get(f"/verify/{number}/{code}").text
    assert "Withdrawn" in page and "Valid" not in page
    assert client.get(f"/r/{token}/visa-letter.pdf").status_code == 404


def test_the_own_letter_download_is_rate_limited(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, VERIFY_LIMIT="2 per minute")
    try:
        client = app.test_client()
        _number, _code, registration_id = issued_letter(app)
        url = f"/r/{private_token(app, registration_id)}/visa-letter.pdf"
        assert [client.get(url).status_code for _n in range(2)] == [200, 200]
        blocked = client.get(url)
        assert blocked.status_code == 429 and blocked.mimetype != "application/pdf"
    finally:
        drop_tables(app)


@pytest.mark.parametrize("typed", ["0A1B0C1D0E", "oa1b0clD0e", "OAIBOCLDOE"])
def test_a_code_typed_with_look_alikes_or_in_lower_case_is_read_as_printed(app, client, typed):
    number, _code, _registration_id = issued_letter(app)
    with app.app_context():
        letter = db.session.scalar(select(VisaLetter).where(VisaLetter.number == number))
        letter.verify_digest = token_digest("0A1B0C1D0E")  # a code with both digits that have look-alikes
        db.session.commit()
    response = client.get(f"/verify/{number}/{typed}")
    assert response.status_code == 200 and "Valid" in response.text
