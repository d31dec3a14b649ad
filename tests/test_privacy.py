"""Personal data: consent on the registration form, the delegate's erasure, the purge of past events, and the
migration that records erasures."""

import email
import email.policy
import json
import re
from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from playwright.sync_api import expect
from sqlalchemy import inspect, select, text, update

from eventreg import create_app
from eventreg.auth.services import create_organizer
from eventreg.checkin.services import CheckInRefused, find_by_code
from eventreg.events.services import update_event
from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import AuditEntry, Event, OutboxAttempt, OutboxMessage, Registration, token_digest, utcnow
from eventreg.organizer.outbox_queries import resend_failed
from eventreg.registration.privacy import erase_registration
from eventreg.stats import event_report, public_counter, waitlist_position, waitlist_positions
from scripts.messages import read_catalog
from tests.conftest import create_test_event, drop_tables, make_app, register_test_delegate
from tests.test_accessibility import violations
from tests.test_api import check, make_account
from tests.test_csrf import token_from
from tests.test_migrations import empty_postgresql_database  # noqa: F401 - a fixture
from tests.test_registration import form, registrations
from tests.test_registration_actions import edit_form, flashes, load

# What the delegate of these tests tells us about themselves: none of it may survive an erasure anywhere.
PERSON = {
    "honorific": "Dr.",
    "given_name": "Zephyrine",
    "family_name": "Quarrington",
    "native_name": "西風琳",
    "email": "zephyrine.q@example.org",
    "institution": "Vexillology Institute of Ulm",
    "position": "Keeper of Flags",
    "dietary": "No cardamom please",
    "accessibility": "Hearing loop in row Q",
}
NEW_EMAIL = "zq.elsewhere@example.org"
TRACES = [*(value for key, value in PERSON.items() if key != "honorific"), NEW_EMAIL, "zephyrine", "quarrington"]


def register_person(app, event, **fields):
    return register_test_delegate(app, event, **{**PERSON, **fields})


def everything_stored(app) -> str:
    """Every row of the tables that hold a registration, its history and its mails, as one text."""
    with app.app_context():
        tables = ("registration", "audit_entry", "outbox_message", "outbox_attempt")
        rows = [db.session.execute(text(f"SELECT * FROM {table}")).all() for table in tables]
        return repr(rows).casefold()


def leaks(stored: str, trace: str) -> bool:
    """True when `trace` is in the stored text, as typed or as JSON escapes it (SQLite's JSON columns)."""
    return any(form.casefold() in stored for form in (trace, json.dumps(trace)[1:-1]))


def deliver(app):
    with app.app_context():
        return deliver_due()


def erase(app, registration_id, actor="delegate"):
    with app.app_context():
        return erase_registration(registration_id, actor=actor)


def parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


# ---- consent


def test_the_form_says_who_stores_the_data_and_how_to_reach_them(client, make_event):
    event = make_event(contact_email="protocol@ceremony.example.org")
    page = client.get(f"/e/{event.slug}/register").text
    assert "I agree that the organizers store my details and use them to run this event" in page
    assert "protocol@ceremony.example.org" in page
    assert "90 days after the event" in page


@pytest.mark.parametrize("consent", [None, "", "no", "off", "0", "false"])
def test_registration_without_consent_is_refused_and_stores_nothing(app, client, make_event, consent):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(consent=consent))
    assert response.status_code == 200
    assert "Please agree to the privacy notice to register." in response.text
    assert registrations(app) == []


def test_the_moment_of_consent_is_stored_with_the_registration(app, client, make_event):
    event = make_event()
    before = utcnow()
    response = client.post(f"/e/{event.slug}/register", data=form())
    assert response.status_code == 303
    [registration] = registrations(app)
    assert before <= registration.consent_at <= utcnow()
    assert registration.erased_at is None


# ---- the delegate erases their data


@pytest.fixture
def csrf_app(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    drop_tables(app)


def test_erasure_asks_first_and_needs_the_csrf_token(csrf_app):
    event = create_test_event(csrf_app)
    registration_id, token = register_person(csrf_app, event)
    client = csrf_app.test_client()
    private = client.get(f"/r/{token}").text
    assert f'href="/r/{token}/erase"' in private

    page = client.get(f"/r/{token}/erase")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Yes, erase my personal data" in page.text
    assert "Erasing does not cancel your registration" in page.text
    assert "We send one last short email to your address to say that your data was erased" in page.text
    assert load(csrf_app, registration_id).erased_at is None  # looking at the question changes nothing

    assert client.post(f"/r/{token}/erase").status_code == 400  # no token
    assert client.post(f"/r/{token}/erase", data={"csrf_token": "forged"}).status_code == 400
    assert load(csrf_app, registration_id).given_name == "Zephyrine"

    response = client.post(f"/r/{token}/erase", data={"csrf_token": token_from(page.text)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/r/{token}"
    assert load(csrf_app, registration_id).erased_at is not None


def test_after_erasure_the_private_link_only_says_so(app, client, make_event):
    event = make_event()
    registration_id, token = register_person(app, event)
    response = client.post(f"/r/{token}/erase", follow_redirects=True)
    assert response.status_code == 410
    assert "This registration was erased" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    for trace in TRACES:
        assert trace.casefold() not in response.text.casefold()
    assert event.title not in response.text
    for suffix in ("/edit", "/cancel", "/email", "/ticket", "/qr.svg", "/calendar.ics"):
        assert client.get(f"/r/{token}{suffix}").status_code == 404, suffix
    for suffix in ("/edit", "/cancel", "/email"):
        assert client.post(f"/r/{token}{suffix}", data={"email": "x@example.org"}).status_code == 404, suffix
    again = client.post(f"/r/{token}/erase")  # a second tap, or Back and submit
    assert again.status_code == 302 and again.headers["Location"] == f"/r/{token}"
    assert client.get(f"/r/{'x' * 43}").status_code == 404  # a link that never existed stays a 404
    with app.app_context():
        stored = db.session.get(Registration, registration_id)
        assert stored.token == "" and stored.token_digest != token_digest(token)  # nothing left that opens it


def test_no_personal_data_is_left_in_the_row_the_audit_log_or_the_outbox(app, client, make_event, smtp_server):
    event = make_event()
    registration_id, token = register_person(app, event)
    # A history with personal data in it: an edit (audit before/after, a "changed" mail listing the values),
    # a change of address asked for (the new address in the mail), and a mail the server refused, quoting the address.
    client.post(
        f"/r/{token}/edit", data={**edit_form(load(app, registration_id), position="Chief Vexillologist"), "email": ""}
    )
    client.post(f"/r/{token}/email", data={"email": NEW_EMAIL})
    with app.app_context():
        first = db.session.scalar(select(OutboxMessage).where(OutboxMessage.registration_id == registration_id))
        first.state, first.last_error = "failed", f"SMTPRecipientsRefused: {PERSON['email']}: 550 no such user"
        db.session.add(OutboxAttempt(message_id=first.id, outcome="failed", error=first.last_error))
        db.session.commit()
    stored = everything_stored(app)
    assert all(leaks(stored, trace) for trace in (*PERSON.values(), NEW_EMAIL, "Chief Vexillologist"))

    assert erase(app, registration_id) is True
    # Until the worker sends it, the erasure notice holds the address, and nothing else of the person.
    stored = everything_stored(app)
    for trace in (*TRACES, "Chief Vexillologist"):
        assert leaks(stored, trace) == (trace.casefold() in PERSON["email"]), trace
    with app.app_context():
        assert deliver_due().sent == 1
    stored = everything_stored(app)
    for trace in (*TRACES, "Chief Vexillologist"):
        assert not leaks(stored, trace), trace

    after = load(app, registration_id)
    assert (after.given_name, after.family_name, after.native_name, after.institution) == ("", "", "", "")
    assert (after.honorific, after.position, after.dietary, after.accessibility) == ("", "", "", "")
    assert after.email == f"erased-{registration_id}@erased.invalid"
    assert after.display_name == "Erased"
    assert after.name_key == "" and after.institution_key == ""
    assert (after.country, after.category, after.status, after.accompanying) == ("CN", "delegate", "confirmed", 0)
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.registration_id == registration_id).order_by(AuditEntry.id)
        ).all()
        assert [entry.action for entry in entries][-2:] == ["registration.edited", "registration.erased"]
        assert entries[-2].before == {"position": None} and entries[-2].after == {"position": None}
        erased = entries[-1]
        assert (erased.actor, erased.organizer_id, erased.before, erased.after) == ("delegate", None, None, None)
        states = db.session.execute(
            select(OutboxMessage.kind, OutboxMessage.state).where(OutboxMessage.registration_id == registration_id)
        ).all()
        # Queued and failed alike: nothing of it is ever sent, but the notice of the erasure.
        assert {state for kind, state in states if kind != "erased"} == {"cancelled"}
        assert [state for kind, state in states if kind == "erased"] == ["sent"]
        assert resend_failed(event.id) == 0


def test_mails_queued_before_the_erasure_are_never_sent(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    registration_id, _token = register_person(smtp_app, event)
    kept_id, _ = register_test_delegate(smtp_app, event, email="someone.else@example.org")
    erase(smtp_app, registration_id)
    with smtp_app.app_context():
        report = deliver_due()
        # Mail queued after the erasure (here the organizer cancels it) is recorded, unsent, to nobody.
        from eventreg.attendees.services import StatusAction, apply_action

        apply_action(event.id, registration_id, StatusAction.CANCEL)
        later = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.registration_id == registration_id).order_by(OutboxMessage.id)
        ).all()
        assert [(m.kind, m.state, m.recipient) for m in later] == [
            ("confirmation", "cancelled", ""),
            ("erased", "sent", ""),
            ("cancelled", "cancelled", ""),
        ]
        assert deliver_due().sent == 0
    assert report.sent == 2
    received = sorted((envelope.rcpt_tos, parse(envelope)["Subject"]) for envelope in smtp_server.envelopes)
    assert received == [
        (["someone.else@example.org"], "Your registration for Inaugural Ceremony"),
        ([PERSON["email"]], "Your personal data was erased: Inaugural Ceremony"),  # its only mail: the notice
    ]
    assert load(smtp_app, kept_id).erased_at is None


def test_totals_do_not_change_when_a_registration_is_erased(app, make_event):
    event = make_event(capacity=10)
    registration_id, _ = register_person(app, event, accompanying=2, visa_letter=True, country="AR")
    register_test_delegate(app, event, email="b@example.org", country="AR", institution="Vexillology Institute of Ulm")
    register_test_delegate(app, event, email="c@example.org", country="KE", category="press")

    def numbers():
        with app.app_context():
            stored = db.session.get(Event, event.id)
            report = event_report(stored)
            return report, public_counter(stored), stored.seats_taken

    before, counter_before, seats_before = numbers()
    erase(app, registration_id)
    after, counter_after, seats_after = numbers()
    institutions_before = before.pop("top_institutions")
    institutions_after = after.pop("top_institutions")
    assert after == before
    assert counter_after == counter_before
    assert seats_after == seats_before == 3 + 1 + 1  # the erased confirmed registration keeps its seats
    # Only what named the person goes: the institution no longer counts (and no blank row appears).
    assert {"institution": "Vexillology Institute of Ulm", "count": 2} in institutions_before
    assert {"institution": "Vexillology Institute of Ulm", "count": 1} in institutions_after
    assert all(row["institution"] for row in institutions_after)


def test_an_erased_waitlisted_registration_keeps_its_place_but_is_passed_over(app, make_event):
    """Nobody could be told of a seat given to an erased registration, nor check in with it: it keeps its status
    and its place (totals and places stay as they were, agreeing with Event.waitlisted) but is never promoted: the
    next one behind it gets the seat."""
    event = make_event(capacity=1)
    register_test_delegate(app, event, email="seated@example.org")
    erased_id, _ = register_person(app, event)
    next_id, _ = register_test_delegate(app, event, email="next@example.org")
    with app.app_context():
        assert waitlist_positions(event.id, [erased_id, next_id]) == {erased_id: 1, next_id: 2}
    erase(app, erased_id)
    with app.app_context():
        assert waitlist_position(db.session.get(Registration, next_id)) == 2
        assert waitlist_positions(event.id, [erased_id, next_id]) == {erased_id: 1, next_id: 2}
        update_event(db.session.get(Event, event.id), capacity=2)
        statuses = {row.id: row.status for row in db.session.scalars(select(Registration))}
    assert statuses[erased_id] == "waitlisted"
    assert statuses[next_id] == "confirmed"


def test_the_check_in_code_of_an_erased_registration_is_refused(app, logged_in, make_event):
    event = make_event()
    registration_id, _ = register_person(app, event)
    code = load(app, registration_id).checkin_code
    erase(app, registration_id)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        with pytest.raises(CheckInRefused):
            find_by_code(stored, code)
    desk = logged_in.get(f"/checkin/{event.slug}?code={code}")
    assert desk.status_code == 200 and f"/checkin/{event.slug}/r/{registration_id}" not in desk.text
    assert logged_in.get(f"/checkin/{event.slug}/lookup.json?code={code}").status_code == 404
    card = logged_in.post(f"/checkin/{event.slug}/r/{registration_id}/check-in", follow_redirects=True)
    assert "Not admitted: the personal data of this registration was erased." in flashes(card)
    assert load(app, registration_id).checked_in_at is None


def test_organizer_pages_show_erased_instead_of_the_name(app, logged_in, make_event):
    event = make_event()
    registration_id, _ = register_person(app, event)
    register_test_delegate(app, event, email="kept@example.org")
    erase(app, registration_id)
    deliver(app)  # the notice of the erasure goes out within seconds; then its row forgets the address
    pages = [
        logged_in.get(f"/organizer/events/{event.slug}/registrations").text,
        logged_in.get(f"/organizer/events/{event.slug}/registrations/{registration_id}").text,
        logged_in.get(f"/organizer/events/{event.slug}").text,
        logged_in.get(f"/organizer/events/{event.slug}/outbox").text,
        logged_in.get(f"/organizer/events/{event.slug}/registrations.csv").text,
        logged_in.get("/admin/audit").text,
    ]
    api = logged_in.get(
        f"/api/v1/events/{event.slug}/registrations", headers=make_account(app, "api@example.org", "admin")
    )
    check(api, "/events/{slug}/registrations", 200)
    pages.append(api.text)
    for page in pages:
        for trace in TRACES:
            assert trace.casefold() not in page.casefold(), trace
    detail = pages[1]
    assert "<bdi>Erased</bdi>" in detail and "Personal data erased" in detail
    assert "<bdi>Erased</bdi>" in pages[0]
    assert "Not sent: data erased" in pages[3]
    edit = logged_in.get(f"/organizer/events/{event.slug}/registrations/{registration_id}/edit", follow_redirects=True)
    assert "there are no details to edit" in edit.text
    items = api.get_json()["items"]
    erased = next(item for item in items if item["id"] == registration_id)
    assert erased["display_name"] == "Erased" and erased["erased_at"] is not None
    assert all(item["erased_at"] is None for item in items if item["id"] != registration_id)


def test_an_organizer_erases_a_registration_on_request_after_confirming(csrf_app):
    event = create_test_event(csrf_app)
    registration_id, token = register_person(csrf_app, event)
    with csrf_app.app_context():
        create_organizer("admin@example.org", "correct horse battery")
        create_organizer("desk@example.org", "correct horse battery", "checkin")
    detail_url = f"/organizer/events/{event.slug}/registrations/{registration_id}"

    def logged_in_as(email):
        client = csrf_app.test_client()
        login = client.get("/auth/login").text
        credentials = {"email": email, "password": "correct horse battery", "csrf_token": token_from(login)}
        assert client.post("/auth/login", data=credentials).status_code == 302
        return client

    desk = logged_in_as("desk@example.org")
    assert desk.get(f"{detail_url}/erase").status_code == 403
    client = logged_in_as("admin@example.org")
    assert f'href="{detail_url}/erase"' in client.get(detail_url).text
    question = client.get(f"{detail_url}/erase")
    assert "Erase the personal data of Dr. Zephyrine Quarrington?" in question.text
    assert "Their address gets one last short email saying that the data was erased" in question.text
    assert client.post(f"{detail_url}/erase").status_code == 400  # no CSRF token
    assert load(csrf_app, registration_id).erased_at is None
    response = client.post(f"{detail_url}/erase", data={"csrf_token": token_from(question.text)})
    assert response.status_code == 302 and response.headers["Location"] == detail_url
    detail = client.get(detail_url).text
    assert "The personal data of this registration is erased." in detail
    assert f'href="{detail_url}/erase"' not in detail and f'href="{detail_url}/edit"' not in detail
    assert load(csrf_app, registration_id).erased_at is not None
    assert client.get(f"/r/{token}").status_code == 410
    with csrf_app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registration.erased"))
        assert (entry.actor, entry.before, entry.after) == ("admin@example.org", None, None)


# ---- the notice of an erasure


def notice_rows(app, registration_id) -> list[tuple]:
    """The erasure notice's row, with every value it holds, and the errors of its attempts."""
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.registration_id == registration_id)
        [message] = db.session.scalars(query.where(OutboxMessage.kind == "erased"))
        attempts = db.session.scalars(select(OutboxAttempt.error).where(OutboxAttempt.message_id == message.id))
        return [(message.state, message.recipient, message.last_error, message.details), *attempts]


def assert_nothing_of_the_person_in(mail) -> None:
    """The notice names the event and whom to contact, and nothing of the delegate but the address it goes to."""
    assert mail["To"].addresses[0].display_name == ""  # not even "Erased"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    headers = "\n".join(f"{name}: {value}" for name, value in mail.items() if name != "To")
    for part in (text, html, headers):
        for trace in TRACES:
            assert trace.casefold() not in part.casefold(), trace
        assert "/r/" not in part and "Erased" not in part
    assert [part.get_content_type() for part in mail.walk() if not part.is_multipart()] == ["text/plain", "text/html"]


def organizer_client(app):
    """A client logged in as a new administrator of `app`."""
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery")
    client = app.test_client()
    login = {"email": "admin@example.org", "password": "correct horse battery"}
    assert client.post("/auth/login", data=login).status_code == 302
    return client


def test_a_delegate_who_erases_their_data_gets_a_notice_and_then_no_address_is_left(smtp_app, smtp_server):
    event = create_test_event(smtp_app, contact_email="protocol@ceremony.example.org")
    registration_id, token = register_person(smtp_app, event)
    client = smtp_app.test_client()
    assert client.post(f"/r/{token}/erase").status_code == 302
    assert smtp_server.envelopes == []  # nothing is sent on the request path

    report = deliver(smtp_app)
    assert (report.sent, report.deferred, report.failed) == (1, 0, 0)  # the confirmation was cancelled
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == [PERSON["email"]]
    mail = parse(envelope)
    assert mail["Subject"] == "Your personal data was erased: Inaugural Ceremony"
    assert mail["Reply-To"] == "protocol@ceremony.example.org"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for part in (text, html):
        assert "As you asked, your personal data in your registration for Inaugural Ceremony was erased." in part
        assert "this is the last email about this registration" in part
        assert "please write to the organizers at protocol@ceremony.example.org" in part
    assert_nothing_of_the_person_in(mail)

    # Sent: its row keeps no address, and nothing anywhere does.
    assert notice_rows(smtp_app, registration_id) == [("sent", "", "", {"status": "confirmed"}), ""]
    stored = everything_stored(smtp_app)
    for trace in TRACES:
        assert not leaks(stored, trace), trace
    assert deliver(smtp_app).sent == 0


def test_an_organizer_who_erases_a_registration_sends_the_notice_in_the_delegate_s_language(smtp_app, smtp_server):
    # The event's contact is the no-reply sender: the notice points to the event's page instead.
    event = create_test_event(smtp_app, contact_email="office@example.org")
    registration_id, _token = register_person(smtp_app, event, language="fr")
    client = organizer_client(smtp_app)
    url = f"/organizer/events/{event.slug}/registrations/{registration_id}/erase"
    assert client.post(url).status_code == 302
    assert deliver(smtp_app).sent == 1

    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == [PERSON["email"]]
    mail = parse(envelope)
    html = mail.get_body(("html",)).get_content()
    assert '<html lang="fr" dir="ltr">' in html
    text = mail.get_body(("plain",)).get_content()
    french = read_catalog("fr")["The organizers of %(title)s erased your personal data in your registration for it."]
    for part in (text, html):
        assert french.string % {"title": "Inaugural Ceremony"} in part.replace("\r\n", "\n").replace("\n", " ")
        assert "office@example.org" not in part
        assert f"https://register.example.org/e/{event.slug}" in part
    assert_nothing_of_the_person_in(mail)
    assert notice_rows(smtp_app, registration_id)[0][:3] == ("sent", "", "")


def test_a_notice_the_server_refuses_keeps_no_address_and_cannot_be_resent(smtp_app, smtp_server):
    replies = ["450 4.2.1 mailbox busy", "550 5.1.1 no such user"]

    async def refuse(server, session, envelope, address, rcpt_options):
        return replies.pop(0) if replies else "550 5.1.1 no such user"

    smtp_server.handle_RCPT = refuse
    event = create_test_event(smtp_app, contact_email="protocol@ceremony.example.org")
    registration_id, _token = register_person(smtp_app, event)
    erase(smtp_app, registration_id)
    assert deliver(smtp_app).deferred == 1
    # While it is retried, the row still holds the address, and the error that quotes it.
    [(state, recipient, last_error, _details), retry] = notice_rows(smtp_app, registration_id)
    assert (state, recipient) == ("queued", PERSON["email"])
    assert PERSON["email"] in last_error and PERSON["email"] in retry

    with smtp_app.app_context():
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
    assert deliver(smtp_app).failed == 1
    assert notice_rows(smtp_app, registration_id) == [("failed", "", "", {"status": "confirmed"}), "", ""]
    stored = everything_stored(smtp_app)
    for trace in TRACES:
        assert not leaks(stored, trace), trace
    with smtp_app.app_context():
        assert resend_failed(event.id) == 0
        [message_id] = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "erased"))
        assert resend_failed(event.id, message_id) == 0
    assert notice_rows(smtp_app, registration_id)[0][0] == "failed"
    assert smtp_server.envelopes == []
    # The organizer sees it failed, with no address, no error quoting one, and no Resend button.
    client = organizer_client(smtp_app)
    for page in (
        client.get(f"/organizer/events/{event.slug}/outbox?state=failed").text,
        client.get(f"/organizer/events/{event.slug}/registrations/{registration_id}").text,
    ):
        assert "Erasure notice" in page
        assert f"/outbox/{message_id}/resend" not in page
        assert "zephyrine" not in page.casefold()
    # Nor a "Resend all" button that would count it: the page offers what a resend can send.
    outbox = client.get(f"/organizer/events/{event.slug}/outbox").text
    assert 'id="resend-all"' not in outbox and "failed mail" not in outbox


# ---- flask purge


def past_event(app, ended_days_ago: float, title: str):
    starts = utcnow() - timedelta(days=ended_days_ago, hours=3)
    event = create_test_event(app, title=title)
    ids = [register_test_delegate(app, event, email=f"{n}@{event.slug}.example.org")[0] for n in range(3)]
    with app.app_context():  # the event took place after its registrations: move it into the past
        db.session.execute(
            update(Event).where(Event.id == event.id).values(starts_at=starts, ends_at=starts + timedelta(hours=3))
        )
        db.session.commit()
    return event, ids


def test_purge_dry_run_lists_and_changes_nothing(app, runner):
    old, _ = past_event(app, 120, "Old Ceremony")
    recent, _ = past_event(app, 10, "Recent Ceremony")
    stored = everything_stored(app)
    result = runner.invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"Would erase 3 registrations of {old.slug}" in result.output
    assert recent.slug not in result.output
    assert "Dry run: nothing was changed." in result.output
    assert everything_stored(app) == stored
    result = runner.invoke(args=["purge", "--dry-run", "--days", "5"])
    assert f"Would erase 3 registrations of {recent.slug}" in result.output
    assert everything_stored(app) == stored


def test_purge_erases_only_events_that_ended_long_enough_ago_and_is_idempotent(app, runner, make_event):
    old, old_ids = past_event(app, 120, "Old Ceremony")
    recent, recent_ids = past_event(app, 10, "Recent Ceremony")
    upcoming = make_event(title="Coming Ceremony")
    upcoming_id, _ = register_test_delegate(app, upcoming, email="soon@example.org")
    erase(app, old_ids[0])  # erased by the delegate already: skipped, not erased twice

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert f"Erased 2 registrations of {old.slug}" in result.output
    assert recent.slug not in result.output
    assert all(load(app, rid).erased_at is not None for rid in old_ids)
    assert all(load(app, rid).erased_at is None for rid in (*recent_ids, upcoming_id))
    with app.app_context():
        actors = db.session.execute(
            select(AuditEntry.registration_id, AuditEntry.actor).where(AuditEntry.action == "registration.erased")
        ).all()
    assert sorted(actors) == sorted([(old_ids[0], "delegate"), (old_ids[1], ""), (old_ids[2], "")])

    stored = everything_stored(app)
    again = runner.invoke(args=["purge"])
    assert again.exit_code == 0
    assert "Nothing to erase" in again.output
    assert everything_stored(app) == stored

    app.config["PURGE_AFTER_DAYS"] = 5
    assert f"Erased 3 registrations of {recent.slug}" in runner.invoke(args=["purge"]).output
    assert load(app, upcoming_id).erased_at is None


def test_purge_sends_no_notice(smtp_app, smtp_server):
    event, ids = past_event(smtp_app, 120, "Old Ceremony")
    assert deliver(smtp_app).sent == 3  # the confirmations, long ago
    result = smtp_app.test_cli_runner().invoke(args=["purge"])
    assert f"Erased 3 registrations of {event.slug}" in result.output
    with smtp_app.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.registration_id.in_(ids))).all()
    assert kinds == ["confirmation"] * 3
    assert deliver(smtp_app).sent == 0
    assert len(smtp_server.envelopes) == 3


def test_purge_works_in_batches(app):
    event, ids = past_event(app, 200, "Old Ceremony")
    from eventreg.registration.privacy import purge_event

    with app.app_context():
        assert purge_event(event.id, batch=2) == 3
        assert purge_event(event.id, batch=2) == 0
    assert all(load(app, rid).erased_at is not None for rid in ids)


# ---- migration 0006


def upgrade_downgrade_upgrade(database_url: str, instance_path) -> None:
    config = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url}
    app = create_app(config, instance_path=str(instance_path))
    with app.app_context():
        upgrade(revision="0005")
        assert "erased_at" not in {c["name"] for c in inspect(db.engine).get_columns("registration")}
        upgrade()
        columns = {c["name"]: c for c in inspect(db.engine).get_columns("registration")}
        assert columns["erased_at"]["nullable"] is True
        assert columns["consent_at"]["nullable"] is False  # required since 0001
        downgrade(revision="0005")
        assert "erased_at" not in {c["name"] for c in inspect(db.engine).get_columns("registration")}
        upgrade()
        assert "erased_at" in {c["name"] for c in inspect(db.engine).get_columns("registration")}
        version = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.remove()
        db.engine.dispose()
    assert re.fullmatch(r"00\d\d", version) and version >= "0006"


def test_migration_0006_upgrades_and_downgrades_on_sqlite(tmp_path):
    upgrade_downgrade_upgrade(f"sqlite:///{tmp_path / 'privacy.sqlite'}", tmp_path)


@pytest.mark.postgresql
def test_migration_0006_upgrades_and_downgrades_on_postgresql(empty_postgresql_database, tmp_path):  # noqa: F811
    upgrade_downgrade_upgrade(empty_postgresql_database, tmp_path)


@pytest.mark.browser
def test_a_delegate_erases_their_data_in_a_real_browser(live_server, browser_page):
    """The whole flow with CSRF on, as a delegate clicks through it; the pages on the way pass axe-core."""
    app, base_url = live_server
    page = browser_page
    event = create_test_event(app)
    registration_id, token = register_person(app, event)
    page.goto(f"{base_url}/r/{token}")
    page.get_by_role("link", name="Erase my personal data…").click()
    assert page.url == f"{base_url}/r/{token}/erase"
    assert violations(page) == []
    page.get_by_role("link", name="No, keep it").click()
    assert load(app, registration_id).erased_at is None
    page.goto(f"{base_url}/r/{token}/erase")
    page.get_by_role("button", name="Yes, erase my personal data").click()
    expect(page.get_by_role("heading", name="This registration was erased")).to_be_visible()
    assert violations(page) == []
    assert "Zephyrine" not in page.content()
    assert load(app, registration_id).erased_at is not None


def test_erasing_deletes_the_events_stored_documents(app, make_event):
    """A stored badge PDF prints the person: erasing (one registration, or the purge) deletes the event's jobs."""
    from eventreg.models import DocumentJob, DocumentJobState
    from eventreg.registration.privacy import purge_event

    event, other = make_event(), make_event(title="Other event")
    first, _ = register_test_delegate(app, event, email="one@example.org")
    register_test_delegate(app, event, email="two@example.org")

    def store_job(event_id):
        with app.app_context():
            db.session.add(
                DocumentJob(
                    event_id=event_id,
                    kind="badges",
                    params={},
                    state=DocumentJobState.DONE,
                    content=b"%PDF badge of One",
                    expires_at=utcnow() + timedelta(days=1),
                )
            )
            db.session.commit()

    def jobs_of(event_id) -> int:
        with app.app_context():
            return len(db.session.scalars(select(DocumentJob.id).where(DocumentJob.event_id == event_id)).all())

    store_job(event.id)
    store_job(other.id)
    with app.app_context():
        assert erase_registration(first, actor=None)
    assert (jobs_of(event.id), jobs_of(other.id)) == (0, 1)
    store_job(event.id)
    with app.app_context():
        assert purge_event(event.id) == 1
    assert (jobs_of(event.id), jobs_of(other.id)) == (0, 1)
