"""Visa letters issued from the queue's rules (visas/queue.py): numbers per event and in sequence under the event's
lock, the previous letter replaced, the content sealed at issue, the template's placeholders checked, and the
letter mailed as a PDF attachment to a real SMTP server."""

import email
import email.policy
import subprocess
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import (
    AuditEntry,
    DocumentSettings,
    Event,
    LetterState,
    OutboxMessage,
    Registration,
    Status,
    VisaApplication,
    VisaLetter,
    VisaState,
)
from eventreg.visas.letters import render_letter, unseal_content
from eventreg.visas.queue import VisaRefused, issue_letters, issue_pending, refuse_request, withdraw_letter
from eventreg.visas.queue_queries import queue_counts
from tests.conftest import create_test_event, register_test_delegate

PASSPORT = "E12345678"


def visa_request(app, event, n: int = 1, *, complete: bool = True, **fields) -> int:
    """Register delegate `n` with a visa request written straight into the table (the form is h4's); its id."""
    registration_id, _token = register_test_delegate(
        app, event, email=f"visa{n}@example.org", given_name=f"Delegate{n}", visa_letter=True
    )
    values = {
        "passport_name": f"BAI CHUNLI {n}",
        "nationality": "CN",
        "consulate_city": "Paris",
        "passport_expiry": date.today() + timedelta(days=900),
        "arrival": date.today() + timedelta(days=28),
        "departure": date.today() + timedelta(days=35),
    }
    values.update(fields)
    with app.app_context():
        application = VisaApplication(registration_id=registration_id, event_id=event.id, **values)
        if complete:
            application.passport_number = f"{PASSPORT}{n}"
            application.birth_date = date(1953, 9, 26)
        db.session.add(application)
        db.session.commit()
        return application.id


def issue(app, event, *application_ids) -> list[str]:
    """Issue letters to these requests; their numbers."""
    with app.app_context():
        return [letter.number for letter in issue_letters(db.session.get(Event, event.id), list(application_ids), None)]


def letters_of(app, event) -> list[tuple[str, str]]:
    with app.app_context():
        query = select(VisaLetter.number, VisaLetter.state).where(VisaLetter.event_id == event.id)
        return list(db.session.execute(query.order_by(VisaLetter.sequence)).all())


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_letters_are_numbered_per_event_in_sequence_with_the_slug_and_year(app):
    event = create_test_event(app, title="ANSO")
    other = create_test_event(app, title="Forum")
    year = event.starts_at.year
    first, second = visa_request(app, event, 1), visa_request(app, event, 2)
    assert issue(app, event, first, second) == [f"ANSO-{year}-0001", f"ANSO-{year}-0002"]
    assert issue(app, other, visa_request(app, other, 3)) == [f"FORUM-{year}-0001"]
    assert issue(app, event, visa_request(app, event, 4)) == [f"ANSO-{year}-0003"]


def test_the_settings_prefix_numbers_the_letters(app):
    event = create_test_event(app, title="ANSO")
    with app.app_context():
        db.session.add(DocumentSettings(event_id=event.id, letter_prefix="CAS-VISA-2027"))
        db.session.commit()
    assert issue(app, event, visa_request(app, event)) == ["CAS-VISA-2027-0001"]


def test_a_number_another_event_holds_is_never_issued(app):
    """Two events whose settings came to share a prefix (written around the settings page's check): the second
    one's issue is refused with the reason, and nothing is written."""
    first, second = create_test_event(app, title="ANSO"), create_test_event(app, title="ANSO bis")
    with app.app_context():
        for event in (first, second):
            db.session.add(DocumentSettings(event_id=event.id, letter_prefix="CAS-VISA-2027"))
        db.session.commit()
    assert issue(app, first, visa_request(app, first)) == ["CAS-VISA-2027-0001"]
    application_id = visa_request(app, second, 2)
    with app.app_context(), pytest.raises(VisaRefused, match="Another event numbers its letters with CAS-VISA-2027"):
        issue_letters(db.session.get(Event, second.id), [application_id], None)
    assert letters_of(app, second) == []


def test_issuing_again_replaces_the_valid_letter_with_a_new_number(app):
    event = create_test_event(app, title="ANSO")
    application_id = visa_request(app, event)
    (first,) = issue(app, event, application_id)
    with app.app_context():
        withdraw_letter(db.session.get(Event, event.id), 1, None)
    (second,) = issue(app, event, application_id)
    assert first != second
    assert [state for _n, state in letters_of(app, event)] == [LetterState.WITHDRAWN, LetterState.VALID]
    # Issued while a letter is valid (an organizer re-issues a letter): the old one is replaced.
    with app.app_context():
        db.session.get(VisaApplication, application_id).state = VisaState.PENDING
        db.session.commit()
    issue(app, event, application_id)
    assert [state for _n, state in letters_of(app, event)] == [
        LetterState.WITHDRAWN,
        LetterState.REPLACED,
        LetterState.VALID,
    ]


def test_concurrent_issues_get_distinct_numbers(app):
    """Two organizers issue at the same moment: the event's lock gives each letter its own number (the unique
    constraint would otherwise fail one of them). Meaningful on PostgreSQL (TEST_DATABASE_URL)."""
    event = create_test_event(app, title="ANSO")
    ids = [visa_request(app, event, n) for n in range(1, 7)]
    start = threading.Barrier(len(ids))
    errors = []

    def attempt(application_id):
        with app.app_context():
            start.wait()
            try:
                issue_letters(db.session.get(Event, event.id), [application_id], None)
            except Exception as error:  # noqa: BLE001 - the test reports whatever went wrong
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(application_id,)) for application_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    numbers = [number for number, _state in letters_of(app, event)]
    assert sorted(numbers) == [f"ANSO-{event.starts_at.year}-{n:04d}" for n in range(1, 7)]


def test_the_content_is_sealed_and_the_plain_columns_hold_only_name_and_tail(app):
    event = create_test_event(app, title="ANSO")
    issue(app, event, visa_request(app, event))
    with app.app_context():
        letter = db.session.scalar(select(VisaLetter))
        assert (letter.holder_name, letter.passport_tail) == ("BAI CHUNLI 1", "781")
        assert PASSPORT not in letter.content_sealed
        content = unseal_content(letter)
        assert f"holder of passport number {PASSPORT}1" in content["texts"][0]["text"]
        assert "26 September 1953" in content["texts"][0]["text"]
        assert "national of China" in content["texts"][0]["text"]
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "visa.issued"))
        assert PASSPORT not in str(audit.after)


def test_a_second_language_is_printed_with_its_own_dates_and_country_names(app):
    event = create_test_event(app, title="ANSO")
    with app.app_context():
        settings = DocumentSettings(
            event_id=event.id, second_language="zh_Hans", second_template="{passport_name}，{nationality}，{birth_date}"
        )
        db.session.add(settings)
        db.session.commit()
    issue(app, event, visa_request(app, event))
    with app.app_context():
        content = unseal_content(db.session.scalar(select(VisaLetter)))
        assert content["texts"][1] == {"language": "zh_Hans", "text": "BAI CHUNLI 1，中国，1953年9月26日"}
        text = pdf_text(render_letter(db.session.scalar(select(VisaLetter))))
    assert "1953年9月26日" in text and "26 September 1953" in text


def test_an_unknown_placeholder_refuses_to_issue(app):
    event = create_test_event(app, title="ANSO")
    with app.app_context():
        db.session.add(DocumentSettings(event_id=event.id, letter_template="Dear {consul_name}, {passport_name}"))
        db.session.commit()
    application_id = visa_request(app, event)
    with app.app_context(), pytest.raises(VisaRefused, match=r"unknown placeholders: \{consul_name\}"):
        issue_letters(db.session.get(Event, event.id), [application_id], None)
    assert letters_of(app, event) == []


def test_a_request_with_details_missing_is_not_issued(app):
    event = create_test_event(app, title="ANSO")
    application_id = visa_request(app, event, complete=False)
    with app.app_context(), pytest.raises(VisaRefused, match="misses details"):
        issue_letters(db.session.get(Event, event.id), [application_id], None)


def test_a_refusal_needs_a_reason_and_is_recorded(app):
    event = create_test_event(app, title="ANSO")
    application_id = visa_request(app, event)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        with pytest.raises(VisaRefused, match="Give the reason"):
            refuse_request(stored, application_id, "   ", None)
        refuse_request(stored, application_id, "Not an invited speaker", None)
        application = db.session.get(VisaApplication, application_id)
        assert (application.state, application.refusal_reason) == (VisaState.REFUSED, "Not an invited speaker")
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "visa.refused"))


def test_the_letter_is_mailed_as_a_pdf_attachment(smtp_app, smtp_server):
    event = create_test_event(smtp_app, title="ANSO")
    issue(smtp_app, event, visa_request(smtp_app, event))
    with smtp_app.app_context():
        assert db.session.scalar(select(OutboxMessage.kind).where(OutboxMessage.kind == "visa_letter"))
        deliver_due()
    messages = [email.message_from_bytes(e.content, policy=email.policy.default) for e in smtp_server.envelopes]
    (message,) = [m for m in messages if "visa invitation letter" in m["Subject"]]
    assert message["To"].addresses[0].addr_spec == "visa1@example.org"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    number = f"ANSO-{event.starts_at.year}-0001"
    assert attachment.get_filename() == f"{number}.pdf"
    text = pdf_text(attachment.get_content())
    assert number in text and "BAI CHUNLI 1" in text
    assert "https://register.example.org/verify/" in text
    assert number in message.get_body(("plain",)).get_content()


def _outbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(OutboxMessage))


def test_a_request_issued_or_refused_meanwhile_is_not_issued(app):
    """A double submit, two organizers at once, a stale page: the second issue finds the request out of the queue."""
    event = create_test_event(app, title="ANSO")
    issued_id, refused_id = visa_request(app, event, 1), visa_request(app, event, 2)
    issue(app, event, issued_id)
    mails = _outbox_count(app)
    with app.app_context():
        refuse_request(db.session.get(Event, event.id), refused_id, "Not an invited speaker", None)
    for application_id in (issued_id, refused_id):
        with app.app_context(), pytest.raises(VisaRefused, match="no longer in the queue"):
            issue_letters(db.session.get(Event, event.id), [application_id], None)
    assert [state for _n, state in letters_of(app, event)] == [LetterState.VALID]
    assert _outbox_count(app) == mails


@pytest.mark.parametrize("status", [Status.WAITLISTED, Status.PENDING])
def test_only_a_confirmed_registration_gets_a_letter(app, status):
    event = create_test_event(app, title="ANSO")
    waiting_id, confirmed_id = visa_request(app, event, 1), visa_request(app, event, 2)
    with app.app_context():
        db.session.get(Registration, db.session.get(VisaApplication, waiting_id).registration_id).status = status
        db.session.commit()
        stored = db.session.get(Event, event.id)
        with pytest.raises(VisaRefused, match=r"The registration of .*Delegate1.* is not confirmed"):
            issue_letters(stored, [confirmed_id, waiting_id], None)
        assert [letter.holder_name for letter in issue_pending(stored, None)] == ["BAI CHUNLI 2"]
        assert db.session.get(VisaApplication, waiting_id).state == VisaState.PENDING


def test_a_blank_name_is_a_missing_detail_in_the_queue_too(app):
    event = create_test_event(app, title="ANSO")
    visa_request(app, event, 1, passport_name="   ")
    with app.app_context():
        stored = db.session.get(Event, event.id)
        assert (queue_counts(stored)["pending"], queue_counts(stored)["incomplete"]) == (0, 1)
        assert issue_pending(stored, None) == []
