"""The public registration form: the happy path, every validation rule, duplicates, windows, capacity."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg import stats
from eventreg.attendees.services import StatusAction, apply_action
from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.models import AuditEntry, OutboxMessage, Registration, utcnow
from tests.conftest import private_token

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
    "visa_letter": "",  # asking for one needs the passport's details: tests/test_visa_data.py
    "consent": "y",
}


def form(**changes):
    data = {**VALID, **changes}
    return {key: value for key, value in data.items() if value is not None}


def registrations(app):
    with app.app_context():
        return db.session.scalars(select(Registration).order_by(Registration.id)).all()


def composed_mails(app, kind: str) -> list:
    """The queued mails of `kind`, rendered as the worker would send them now, oldest first."""
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        return [compose(message) for message in db.session.scalars(query)]


def outbox_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_a_valid_submission_answers_see_other_to_the_submitted_page_and_mails_the_link(app, client, make_event):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form())
    assert response.status_code == 303
    assert response.headers["Location"] == f"/e/{event.slug}/submitted"
    [registration] = registrations(app)
    token = private_token(app, registration.id)
    assert len(token) >= 43  # 32 random bytes: 256 bits
    page = client.get(response.headers["Location"]).text
    assert "Thank you" in page
    # The address, partly masked, reads left to right on any page.
    assert 'the private link to your registration to <span dir="ltr">C…@example.org</span>.' in page
    # The browser that submitted gets no capability: neither the private link nor the outcome.
    assert token not in page and "/r/" not in page and "Chunli.Bai" not in page
    assert "confirmed" not in page.lower() and "waiting list" not in page.lower()
    [mail] = composed_mails(app, "confirmation")
    assert "Your registration for Inaugural Ceremony is confirmed." in mail.body
    assert f"http://localhost/r/{token}" in mail.body
    assert registration.email == "Chunli.Bai@example.org"  # normalised: the domain lower-cased
    assert registration.email_key == "chunli.bai@example.org"
    assert registration.status == "confirmed"
    assert registration.accompanying == 1 and registration.seats == 2
    assert registration.visa_letter is False  # the form above asks for none (tests/test_visa_data.py does)
    assert registration.consent_at is not None
    assert outbox_count(app) == 1


def test_a_new_registration_is_in_the_audit_log_as_the_delegates(app, client, make_event):
    event = make_event()
    client.post(f"/e/{event.slug}/register", data=form())
    [registration] = registrations(app)
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.registration_id == registration.id)).all()
        assert (entry.action, entry.actor, entry.organizer_id) == ("registration.created", "delegate", None)
        assert (entry.event_id, entry.after) == (event.id, {"status": "confirmed"})


def test_the_submitted_page_names_no_address_to_a_browser_that_submitted_nothing(client, make_event):
    event = make_event()
    page = client.get(f"/e/{event.slug}/submitted").text
    assert "to the email address you gave" in page and "@" not in page.split("<main", 1)[1]


def test_a_registered_address_gets_the_same_answer_and_the_lost_link_mail(app, client, make_event):
    event = make_event()
    first = client.post(f"/e/{event.slug}/register", data=form())
    again = client.post(f"/e/{event.slug}/register", data=form(email="CHUNLI.BAI@EXAMPLE.ORG", given_name="Eve"))
    # The form does not tell whether an address is registered: the same answer, the same page.
    assert again.status_code == first.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert client.get(again.headers["Location"]).text.count("C…@example.org") == 1
    [registration] = registrations(app)
    assert registration.given_name == "Chunli"  # nothing of the second form is kept
    with app.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["confirmation", "lost_link"]
    [lost_link] = composed_mails(app, "lost_link")  # the delegate who registered twice still finds their link
    assert f"http://localhost/r/{private_token(app, registration.id)}" in lost_link.body


def test_same_email_may_register_for_another_event(app, client, make_event):
    first, second = make_event(), make_event(title="Symposium")
    assert client.post(f"/e/{first.slug}/register", data=form()).status_code == 303
    assert client.post(f"/e/{second.slug}/register", data=form()).status_code == 303
    assert len(registrations(app)) == 2


def test_cancelled_registration_frees_the_email(app, client, make_event):
    event = make_event()
    client.post(f"/e/{event.slug}/register", data=form())
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        registration.status = "cancelled"
        db.session.commit()
    assert client.post(f"/e/{event.slug}/register", data=form()).status_code == 303
    assert len(registrations(app)) == 2


def test_database_refuses_a_second_active_registration(app, make_event):
    """The partial unique index backs the check even when the service is bypassed."""
    from sqlalchemy.exc import IntegrityError

    from tests.conftest import delegate

    event = make_event()
    with app.app_context():
        for _ in range(2):
            details = {name: value for name, value in delegate().__dict__.items() if name != "visa"}
            db.session.add(
                Registration(
                    event_id=event.id,
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


def test_beyond_capacity_delegates_join_the_waiting_list_and_are_told_so(app, client, make_event, make_registration):
    event = make_event(capacity=3)
    make_registration(event, email="first@example.org", accompanying=1)
    response = client.post(f"/e/{event.slug}/register", data=form(accompanying="1"))  # 2 + 2 > 3
    assert response.status_code == 303
    assert "waiting list" not in client.get(response.headers["Location"]).text  # the outcome is in the mail only
    client.post(f"/e/{event.slug}/register", data=form(email="small@example.org", accompanying="0"))
    assert sorted(r.status for r in registrations(app)) == ["confirmed", "confirmed", "waitlisted"]
    _, waiting, small = composed_mails(app, "confirmation")
    assert "There are not enough free seats at the moment, so you are on the waiting list: number 1." in waiting.body
    assert waiting.subject == "You are on the waiting list: Inaugural Ceremony"
    assert "Your registration for Inaugural Ceremony is confirmed." in small.body  # the last seat fits one
    assert "You can still register to join the waiting list" in client.get(f"/e/{event.slug}").text


def test_approval_events_register_as_pending(app, client, make_event):
    event = make_event(requires_approval=True)
    client.post(f"/e/{event.slug}/register", data=form())
    [registration] = registrations(app)
    assert registration.status == "pending"
    [mail] = composed_mails(app, "confirmation")
    assert mail.subject == "Registration received, awaiting approval: Inaugural Ceremony"


@pytest.mark.parametrize(
    ("accept", "expected"), [("fr-CH,fr;q=0.9,en;q=0.5", "fr"), ("en-GB,en;q=0.8", "en"), ("ja", "en")]
)
def test_registration_stores_the_page_language(app, client, make_event, accept, expected):
    app.config["LANGUAGES"] = ["en", "fr"]  # French offered (no translation needed to choose it)
    event = make_event()
    page = client.get(f"/e/{event.slug}/register", headers={"Accept-Language": accept}).text
    assert f'<html lang="{expected}" dir="ltr">' in page
    client.post(f"/e/{event.slug}/register", data=form(), headers={"Accept-Language": accept})
    [registration] = registrations(app)
    assert registration.language == expected


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


def test_internationalised_domains_are_accepted(app, client, make_event):
    event = make_event()
    assert client.post(f"/e/{event.slug}/register", data=form(email="li@北京大学.中国")).status_code == 303
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
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(registrations(app)) == 1
    assert outbox_count(app) == 1  # a double tap is one registration and one mail, not a lost-link mail
    other_form = client.post(f"/e/{event.slug}/register", data=form(submission="another-form-entirely"))
    assert other_form.status_code == 303 and outbox_count(app) == 2  # another form: the lost-link mail


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


def test_home_says_whether_registration_is_open(client, make_event):
    make_event(title="Open Ceremony")
    make_event(title="Closed Ceremony", registration_closes_at=utcnow() - timedelta(hours=1))
    page = client.get("/").text
    open_card = page[page.index("Open Ceremony") :]
    assert "Registration open" in open_card[: open_card.index("</li>")]
    closed_card = page[page.index("Closed Ceremony") :]
    assert "Registration closed" in closed_card[: closed_card.index("</li>")]


def test_a_full_event_still_offers_the_form_and_says_it_leads_to_the_waiting_list(
    client, make_event, make_registration
):
    event = make_event(capacity=1)
    make_registration(event)
    page = client.get(f"/e/{event.slug}/register").text
    assert "This event is full at the moment: if you register now, you join the waiting list." in page
    assert 'id="given_name"' in page


def test_the_native_name_is_not_repeated(client, make_event, make_registration):
    event = make_event()
    _, token = make_registration(event, given_name="春礼", family_name="白", native_name="白春礼", honorific="")
    page = client.get(f"/r/{token}").text
    assert "白春礼" in page
    assert "(<bdi>白春礼</bdi>)" not in page


def test_the_place_told_on_joining_counts_only_those_still_waiting(app, client, make_event, make_registration):
    """The confirmation mail's place must agree with a count after people ahead have left the list (cancelled) or
    moved up (a seat freed)."""
    event = make_event(capacity=1)
    make_registration(event, email="seated@example.org")
    ahead = [make_registration(event, email=f"w{n}@example.org")[0] for n in range(3)]  # places 1, 2, 3
    with app.app_context():
        apply_action(event.id, ahead[1], StatusAction.CANCEL)
    client.post(f"/e/{event.slug}/register", data=form(email="late@example.org", accompanying="0"))
    assert "you are on the waiting list: number 3." in composed_mails(app, "confirmation")[-1].body
    with app.app_context():
        apply_action(event.id, ahead[0], StatusAction.CANCEL)  # w0 cancels a waiting place: still 1 seat taken
        late = db.session.scalar(select(Registration).where(Registration.email == "late@example.org"))
        assert stats.waitlist_position(late) == 2
    client.post(f"/e/{event.slug}/register", data=form(email="later@example.org", accompanying="0"))
    assert "you are on the waiting list: number 3." in composed_mails(app, "confirmation")[-1].body


def test_a_submission_without_the_optional_title_field_registers(app, client, make_event):
    # A client that leaves the select out entirely (not even the empty "(none)") sends no honorific (found by
    # the fuzz test: it was a 500, the column is NOT NULL).
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(honorific=None))
    assert response.status_code == 303
    assert [r.honorific for r in registrations(app)] == [""]
