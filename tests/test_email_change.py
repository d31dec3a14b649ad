"""A delegate moves their registration to a new email address: a link goes to the new address, and nothing changes
until it is opened and confirmed; links expire, die once used, and cannot be forged."""

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import update

from eventreg.extensions import db
from eventreg.models import Registration
from tests.conftest import create_test_event, drop_tables, make_app, private_token, register_test_delegate
from tests.test_csrf import token_from
from tests.test_registration_actions import audit_entries, edit_form, flashes, load, mails
from tests.test_self_service import composed, set_status

NEW = "irina.petrova@example.org"


def ask(client, token, email=NEW):
    return client.post(f"/r/{token}/email", data={"email": email}, follow_redirects=True)


def confirmation_link(app, registration_id) -> str:
    """The path of the link in the newest "email_change" mail, read from the rendered text and HTML."""
    mail = composed(app, registration_id, "email_change")[-1]
    link = re.search(r"http://localhost(/email-change\?key=[\w.-]+)", mail.body).group(1)
    assert f'href="http://localhost{link}"' in mail.html
    return link


def test_a_new_address_is_confirmed_from_that_address(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event, dietary="Halal")
    response = ask(client, token)
    sent = f"We have sent a link to {NEW}. Open it within 48 hours to confirm the new address; "
    assert flashes(response) == [sent + "until then, nothing changes."]
    assert load(app, registration_id).email == "chunli.bai@example.org"  # nothing changes yet
    assert mails(app, registration_id)[-1] == ("email_change", NEW)
    [mail] = composed(app, registration_id, "email_change")
    assert mail.subject == "Confirm your new email address for Inaugural Ceremony"
    assert mail.recipients[0][1] == NEW
    assert "within 48 hours" in mail.body and NEW in mail.body
    assert token not in mail.body and token not in mail.html  # the private link only after confirming

    link = confirmation_link(app, registration_id)
    page = client.get(link)  # what a mail scanner's prefetch does: it must change nothing
    assert page.status_code == 200
    assert "Confirm your new email address" in page.text and NEW in page.text
    assert page.headers["Cache-Control"] == "no-store" and "noindex" in page.headers["X-Robots-Tag"]
    assert "chunli.bai@example.org" not in page.text  # the new address's reader does not learn the old one
    assert load(app, registration_id).email == "chunli.bai@example.org"

    old_code = load(app, registration_id).checkin_code
    response = client.post(link, follow_redirects=True)
    assert flashes(response) == [f"The email address of your registration is now {NEW}."]
    new_token = private_token(app, registration_id)
    assert new_token != token and response.request.path == f"/r/{new_token}"
    assert load(app, registration_id).email == NEW
    assert load(app, registration_id).checkin_code != old_code  # a new ticket, too
    assert audit_entries(app, registration_id) == [
        ("registration.edited", "delegate", {"email": "chunli.bai@example.org"}, {"email": NEW})
    ]
    assert mails(app, registration_id)[-2:] == [("changed", NEW), ("address_changed", "chunli.bai@example.org")]
    [to_new] = composed(app, registration_id, "changed")
    assert "Your registration for Inaugural Ceremony has been changed:" in to_new.body
    assert "chunli.bai@example.org" in to_new.body and NEW in to_new.body and f"/r/{new_token}" in to_new.body
    [to_old] = composed(app, registration_id, "address_changed")
    assert "has been changed from this address to another one" in to_old.body
    for text in (to_old.body, to_old.html):  # the old mailbox keeps nothing that opens or describes it
        assert NEW not in text and "/r/" not in text and "Halal" not in text and "Chunli" not in text

    # Whoever owns the old mailbox: the old link says only that it was replaced, and opens nothing.
    for suffix in ("", "/edit", "/cancel", "/email", "/erase"):
        replaced = client.get(f"/r/{token}{suffix}")
        assert replaced.status_code == 410, suffix
        assert "This link was replaced" in replaced.text and "Chunli" not in replaced.text and NEW not in replaced.text
    assert client.post(f"/r/{token}/cancel").status_code == 410
    assert client.post(f"/r/{token}/erase").status_code == 410
    assert load(app, registration_id).status == "confirmed" and load(app, registration_id).erased_at is None

    again = client.post(link)  # a link works once
    assert again.status_code == 410 and "already been used" in again.text
    assert client.get(link).status_code == 410


def test_an_expired_link_says_so_and_changes_nothing(app, client, make_event, make_registration, monkeypatch):
    event = make_event()
    registration_id, token = make_registration(event)
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 49 * 3600)
        ask(client, token)
    link = confirmation_link(app, registration_id)
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 410
        assert "This link has expired: it was valid for 48 hours." in response.text
    assert load(app, registration_id).email == "chunli.bai@example.org"


def test_a_link_of_almost_48_hours_still_works(app, client, make_event, make_registration, monkeypatch):
    event = make_event()
    registration_id, token = make_registration(event)
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 47 * 3600)
        ask(client, token)
    assert client.post(confirmation_link(app, registration_id)).status_code == 302
    assert load(app, registration_id).email == NEW


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key: key[:-2] + ("AA" if not key.endswith("AA") else "BB"),  # the signature
        lambda key: "eyJyIjoxLCJlIjoibWFsbG9yeUBleGFtcGxlLm9yZyJ9" + key[key.index(".") :],  # the payload
        lambda key: "",
        lambda key: "x" * 5000,
        lambda key: "not a key at all",
    ],
)
def test_a_forged_or_broken_link_is_refused(app, client, make_event, make_registration, tamper):
    event = make_event()
    registration_id, token = make_registration(event)
    ask(client, token)
    key = confirmation_link(app, registration_id).split("key=", 1)[1]
    for method in ("GET", "POST"):
        response = client.open("/email-change", method=method, query_string={"key": tamper(key)})
        assert response.status_code == 404, method
        assert "This link is not valid." in response.text
    assert load(app, registration_id).email == "chunli.bai@example.org"


@pytest.mark.parametrize(
    "payload",
    [
        {"r": 1, "f": "x"},  # no new address
        {"r": 1, "e": "new@example.org"},  # no fingerprint
        {"e": "new@example.org", "f": "x"},  # no registration
        {"r": "abc", "e": "new@example.org", "f": "x"},
        {"r": "1", "e": "new@example.org", "f": "x"},
        {"r": 10**20, "e": "new@example.org", "f": "x"},  # beyond the id column
        {"r": 2**31, "e": "new@example.org", "f": "x"},
        {"r": 0, "e": "new@example.org", "f": "x"},
        {"r": -1, "e": "new@example.org", "f": "x"},
        {"r": True, "e": "new@example.org", "f": "x"},
        {"r": 1.0, "e": "new@example.org", "f": "x"},
        {"r": 1, "e": 5, "f": "x"},
        {"r": 1, "e": "new@example.org", "f": None},
        {"r": 1, "e": ["new@example.org"], "f": "x"},
        [1, "new@example.org", "x"],
        "new@example.org",
        None,
    ],
)
def test_a_signed_link_of_the_wrong_shape_is_not_valid(app, client, make_event, make_registration, payload):
    """Only the app's secret key can make these, but even then: a 404 page, never a 500."""
    event = make_event()
    registration_id, _ = make_registration(event)
    if isinstance(payload, dict) and payload.get("f") == "x":
        payload = {**payload, "f": fingerprint_of(app, registration_id)}  # the fingerprint is all that is right
    with app.app_context():
        key = URLSafeTimedSerializer(app.secret_key, salt="eventreg.email-change").dumps(payload)
    for method in ("GET", "POST"):
        response = client.open("/email-change", method=method, query_string={"key": key})
        assert response.status_code == 404, method
        assert "This link is not valid." in response.text
    assert load(app, registration_id).email == "chunli.bai@example.org"


def fingerprint_of(app, registration_id) -> str:
    from eventreg.registration.self_service import _fingerprint

    with app.app_context():
        return _fingerprint(db.session.get(Registration, registration_id))


def test_an_expired_token_keeps_the_typed_address_and_the_confirm_button(tmp_path):
    """A tab left open for hours: the form comes back with what was typed and a fresh token, and nothing is sent."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    try:
        event = create_test_event(app)
        registration_id, token = register_test_delegate(app, event)
        client = app.test_client()
        client.get(f"/r/{token}")
        response = client.post(f"/r/{token}/email", data={"email": NEW, "csrf_token": "expired"})
        assert response.status_code == 400
        assert "This form had expired, so nothing was sent." in response.text
        assert f'value="{NEW}"' in response.text
        assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation"]
        again = client.post(f"/r/{token}/email", data={"email": NEW, "csrf_token": token_from(response.text)})
        assert again.status_code == 302

        link = confirmation_link(app, registration_id)
        client.get(link)
        response = client.post(link, data={"csrf_token": "expired"})
        assert response.status_code == 400
        assert "This page had expired, so nothing was changed." in response.text
        assert "Confirm the new address" in response.text and NEW in response.text
        assert load(app, registration_id).email == "chunli.bai@example.org"
        again = client.post(link, data={"csrf_token": token_from(response.text)})
        assert again.status_code == 302 and load(app, registration_id).email == NEW
    finally:
        drop_tables(app)


def test_a_link_dies_when_the_address_changed_another_way(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    ask(client, token)
    first = confirmation_link(app, registration_id)
    ask(client, token, "third@example.org")
    second = confirmation_link(app, registration_id)
    assert client.post(second).status_code == 302
    assert client.post(first).status_code == 410  # the older request was for an address that is no longer there
    assert load(app, registration_id).email == "third@example.org"


def test_an_address_another_active_registration_uses_is_refused_on_confirming(
    app, client, make_event, make_registration
):
    event = make_event()
    registration_id, token = make_registration(event)
    response = ask(client, token, "other@example.org")  # nobody uses it yet; the request tells nothing either way
    assert response.status_code == 200 and "We have sent a link" in response.text
    make_registration(event, email="OTHER@example.org")
    response = client.post(confirmation_link(app, registration_id))
    assert response.status_code == 409
    assert "Another active registration for this event already uses this email address." in response.text
    # the page no longer promises the change, nor offers a button that would fail again; it says what to do
    assert "will use this address from now on" not in response.text
    assert "Confirm the new address" not in response.text
    assert response.text.count("<form") == response.text.count('<form method="post" action="/language/')
    assert "Your registration keeps its current email address." in response.text
    assert load(app, registration_id).email == "chunli.bai@example.org"
    assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation", "email_change"]


def test_the_database_refuses_a_duplicate_that_slipped_past_the_check(
    app, client, make_event, make_registration, monkeypatch
):
    event = make_event()
    registration_id, token = make_registration(event)
    ask(client, token, "other@example.org")
    make_registration(event, email="other@example.org")
    monkeypatch.setattr("eventreg.registration.self_service.check_email", lambda *args: None)  # the race's window
    response = client.post(confirmation_link(app, registration_id))
    assert response.status_code == 409
    assert "Another active registration for this event already uses this email address." in response.text
    assert load(app, registration_id).email == "chunli.bai@example.org"


def test_the_address_of_a_cancelled_registration_may_be_taken(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    other_id, _ = make_registration(event, email="other@example.org")
    set_status(app, other_id, "cancelled")
    ask(client, token, "other@example.org")
    assert client.post(confirmation_link(app, registration_id)).status_code == 302
    assert load(app, registration_id).email == "other@example.org"


def test_a_link_to_a_registration_cancelled_meanwhile_changes_nothing(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    ask(client, token)
    link = confirmation_link(app, registration_id)
    client.post(f"/r/{token}/cancel")
    response = client.post(link)
    assert response.status_code == 409 and "This registration is already cancelled." in response.text
    assert load(app, registration_id).email == "chunli.bai@example.org"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Please fill in this field."),
        ("not-an-address", "An email address needs an @ sign, as in name@example.org."),
        ("bai@", "Something is missing after the @ sign."),
        (
            "白@example.org",
            "Please use only Latin letters, digits and . _ - + before the @ sign.",
        ),  # no SMTPUTF8 mailbox names
        ("a\n@example.org", "The part before the @ sign contains characters an email address cannot have."),
        ("chunli.bai@example.org", "This is already the email address of your registration."),
        ("CHUNLI.BAI@EXAMPLE.ORG", "This is already the email address of your registration."),
        ("ｃｈｕｎｌｉ．ｂａｉ＠ｅｘａｍｐｌｅ．ｏｒｇ", "This is already the email address of your registration."),
    ],
)
def test_the_new_address_is_checked_like_the_registration_forms(
    app, client, make_event, make_registration, typed, message
):
    event = make_event()
    registration_id, token = make_registration(event)
    response = client.post(f"/r/{token}/email", data={"email": typed})
    assert response.status_code == 200 and message in response.text
    assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation"]


@pytest.mark.parametrize(
    ("typed", "stored", "sent_to"),
    [
        # a phone's full-width letters
        ("ｉｒｉｎａ＠ｅｘａｍｐｌｅ．ｏｒｇ", "irina@example.org", "irina@example.org"),
        ("li@北京大学.中国", "li@北京大学.中国", "li@xn--1lq90ic7fzpc.xn--fiqs8s"),  # an IDNA domain
    ],
)
def test_the_new_address_is_normalised_like_the_registration_forms(
    app, client, make_event, make_registration, typed, stored, sent_to
):
    event = make_event()
    registration_id, token = make_registration(event)
    ask(client, token, typed)
    assert mails(app, registration_id)[-1] == ("email_change", sent_to)
    client.post(confirmation_link(app, registration_id))
    assert load(app, registration_id).email == stored


def test_a_confirmation_link_of_another_secret_key_is_refused(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    ask(client, token)
    link = confirmation_link(app, registration_id)
    app.config["SECRET_KEY"] = "another-key"
    assert client.get(link).status_code == 404


def test_the_request_leaves_the_registration_alone_when_it_cannot_change(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    with app.app_context():
        db.session.execute(update(Registration).values(status="rejected"))
        db.session.commit()
    response = ask(client, token)
    assert "can no longer be changed" in response.text
    assert [kind for kind, _ in mails(app, registration_id)] == ["confirmation"]


def test_after_a_change_of_address_the_old_ticket_is_refused_at_the_desk(app, logged_in, make_event, make_registration):
    event = make_event()
    registration_id, _ = make_registration(event)
    old_code = load(app, registration_id).checkin_code
    form = edit_form(load(app, registration_id), email=NEW)
    logged_in.post(f"/organizer/events/{event.slug}/registrations/{registration_id}/edit", data=form)
    new_code = load(app, registration_id).checkin_code
    assert new_code != old_code

    replaced = "This ticket was replaced: not admitted."
    desk = logged_in.get(f"/checkin/{event.slug}", query_string={"code": old_code})
    assert replaced in desk.text and "Chunli" not in desk.text
    lookup = logged_in.get(f"/checkin/{event.slug}/lookup.json", query_string={"code": old_code})
    assert lookup.status_code == 404 and lookup.json["error"].startswith(replaced)
    refused = logged_in.post(f"/checkin/{event.slug}/check-in.json", json={"code": old_code})
    assert refused.status_code == 404 and refused.json["error"].startswith(replaced)
    assert load(app, registration_id).checked_in_at is None

    admitted = logged_in.post(f"/checkin/{event.slug}/check-in.json", json={"code": new_code})
    assert admitted.status_code == 200 and admitted.json["checked_in_now"] is True
