"""The ticket in mails: QR code as an inline PNG related to the HTML, calendar entry (.ics) attached, updated and
cancelled with the same UID. The QR code is decoded by zxing-cpp (an independent reader), the .ics by icalendar."""

import email
import email.policy
import io
import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import with_expression

from eventreg.attendees.services import StatusAction, apply_action
from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.mail.worker import deliver_due
from eventreg.models import OutboxMessage, Registration
from eventreg.registration.self_service import cancel_own_registration, edit_own_registration
from eventreg.tickets.codes import calendar_sequence, mails_so_far
from tests.conftest import create_test_event, delegate, register_test_delegate


def mails(app, registration_id: int) -> list[email.message.EmailMessage]:
    """Every mail queued for the registration, composed as the worker would and parsed back by the email package."""
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.registration_id == registration_id)
        messages = db.session.scalars(query.order_by(OutboxMessage.id)).all()
        return [parse(compose(message).as_bytes()) for message in messages]


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def registration(app, registration_id: int) -> Registration:
    with app.app_context():
        row = db.session.get(Registration, registration_id)
        db.session.expunge(row)
        return row


def parts_of(mail, content_type: str) -> list:
    return [part for part in mail.walk() if part.get_content_type() == content_type]


def decode_qr(png: bytes) -> str:
    """What a scanner reads from the picture: zxing-cpp, not the library that drew it."""
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    return result.text


def calendar_of(mail) -> icalendar.Calendar:
    [part] = parts_of(mail, "text/calendar")
    assert part.get_content_disposition() == "attachment"
    assert part.get_filename() == "event.ics"
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert part.get_param("method") == str(calendar["METHOD"])
    return calendar


def qr_of(mail) -> str:
    """The code in the QR image the HTML shows by its Content-ID, checking the MIME tree mail programs expect."""
    assert mail.get_content_type() == "multipart/mixed"
    related = mail.get_payload()[0]
    assert related.get_content_type() == "multipart/related"
    alternative, image = related.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert image.get_content_type() == "image/png"
    html = alternative.get_payload()[1].get_content()
    [cid] = re.findall(r'src="cid:([^"]+)"', html)
    assert image["Content-ID"] == f"<{cid}>"
    assert image.get_content_disposition() == "inline"
    return decode_qr(image.get_payload(decode=True))


def text_of(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.parametrize(
    ("zone", "local_start"),
    [
        ("Asia/Shanghai", datetime(2027, 3, 15, 9, 30)),
        # Chile is on summer time (UTC−3) in January and on UTC−4 in July: both sides of the change.
        ("America/Santiago", datetime(2027, 1, 20, 19, 0)),
        ("America/Santiago", datetime(2027, 7, 20, 19, 0)),
    ],
)
def test_confirmation_carries_qr_code_and_calendar_entry(app, zone, local_start):
    from zoneinfo import ZoneInfo

    starts = local_start.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    event = create_test_event(
        app,
        timezone=zone,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2, minutes=45),
        registration_closes_at=starts - timedelta(days=1),
        venue="Great Hall of the People",
        city="Beijing",
    )
    registration_id, token = register_test_delegate(app, event)
    row = registration(app, registration_id)
    [mail] = mails(app, registration_id)

    code = qr_of(mail)
    assert code == row.checkin_code
    assert token not in code
    text = text_of(mail)
    assert f"{row.checkin_code[:5]} {row.checkin_code[5:]}" in text

    calendar = calendar_of(mail)
    assert str(calendar["METHOD"]) == "PUBLISH"
    [entry] = calendar.events
    assert entry.DTSTART.astimezone(UTC) == starts
    assert entry.DTEND.astimezone(UTC) == starts + timedelta(hours=2, minutes=45)
    assert entry["DTSTART"].params["TZID"] == zone
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [zone]
    assert str(entry["LOCATION"]) == "Great Hall of the People, Beijing"
    assert str(entry["SUMMARY"]) == "Inaugural Ceremony"
    assert str(entry["URL"]) == f"http://localhost/e/{event.slug}"  # the public page: calendars get shared
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert str(entry["UID"]) == f"registration-{registration_id}@localhost"


def test_the_sequence_loaded_with_the_claim_is_the_one_counted_alone(app):
    """tickets.mails_so_far() (a correlated count loaded with the worker's claim) and calendar_sequence() (a query
    of its own) give each message the number of its registration's mails up to it, with other delegates' mails
    in between."""
    event = create_test_event(app)
    first_id, _token = register_test_delegate(app, event)
    other_id, _token = register_test_delegate(app, event, email="other@example.org")
    with app.app_context():
        edit_own_registration(first_id, delegate(institution="Peking University"))
        edit_own_registration(other_id, delegate(email="other@example.org", institution="Tsinghua University"))
        cancel_own_registration(first_id)
        query = select(OutboxMessage).options(with_expression(OutboxMessage.mails_so_far, mails_so_far()))
        messages = db.session.scalars(query.order_by(OutboxMessage.id)).all()
        loaded = [(message.registration_id, message.mails_so_far) for message in messages]
        counted = [calendar_sequence(message.registration, message.id) for message in messages]
    assert loaded == [(first_id, 1), (other_id, 1), (first_id, 2), (other_id, 2), (first_id, 3)]
    assert counted == [sequence for _registration, sequence in loaded]


def test_a_change_replaces_the_entry_and_a_cancellation_removes_it(app):
    event = create_test_event(app)
    registration_id, _token = register_test_delegate(app, event)
    # Each mail is composed before the next change, as the worker sends them.
    [confirmation] = mails(app, registration_id)
    with app.app_context():
        edit_own_registration(registration_id, delegate(institution="Peking University"))
    changed = mails(app, registration_id)[-1]
    with app.app_context():
        cancel_own_registration(registration_id)
    cancelled = mails(app, registration_id)[-1]
    code = registration(app, registration_id).checkin_code

    first, second, last = (calendar_of(mail) for mail in (confirmation, changed, cancelled))
    uids = {str(calendar.events[0]["UID"]) for calendar in (first, second, last)}
    assert uids == {f"registration-{registration_id}@localhost"}
    sequences = [int(calendar.events[0]["SEQUENCE"]) for calendar in (first, second, last)]
    assert sequences == sorted(set(sequences))  # strictly increasing
    assert qr_of(changed) == code
    assert str(second["METHOD"]) == "PUBLISH"

    assert str(last["METHOD"]) == "CANCEL"
    assert str(last.events[0]["STATUS"]) == "CANCELLED"
    assert parts_of(cancelled, "image/png") == []
    assert "removes the event from your calendar" in text_of(cancelled)


def test_waitlisted_and_pending_registrations_get_no_ticket_until_confirmed(app):
    event = create_test_event(app, capacity=1)
    first_id, _ = register_test_delegate(app, event)
    waiting_id, _ = register_test_delegate(app, event, email="second@example.org", given_name="Wei")
    [waiting] = mails(app, waiting_id)
    assert "waiting list" in waiting["Subject"]
    assert parts_of(waiting, "image/png") == []
    assert parts_of(waiting, "text/calendar") == []
    assert "You will receive your ticket" in text_of(waiting)

    with app.app_context():
        cancel_own_registration(first_id)  # the seat goes to the waiting delegate
    _, promoted = mails(app, waiting_id)
    assert "confirmed" in promoted["Subject"]
    assert qr_of(promoted) == registration(app, waiting_id).checkin_code
    assert str(calendar_of(promoted)["METHOD"]) == "PUBLISH"


def test_approval_brings_the_ticket_and_a_rejection_without_one_cancels_nothing(app):
    event = create_test_event(app, requires_approval=True)
    approved_id, _ = register_test_delegate(app, event)
    rejected_id, _ = register_test_delegate(app, event, email="other@example.org")
    with app.app_context():
        apply_action(event.id, approved_id, StatusAction.APPROVE)
        apply_action(event.id, rejected_id, StatusAction.REJECT)

    pending, approved = mails(app, approved_id)
    assert parts_of(pending, "text/calendar") == []
    assert "You will receive your ticket" in text_of(pending)
    assert qr_of(approved) == registration(app, approved_id).checkin_code

    _, rejected = mails(app, rejected_id)
    # It never had a calendar entry, so there is none to cancel.
    assert parts_of(rejected, "text/calendar") == []
    assert parts_of(rejected, "image/png") == []


def test_the_old_address_gets_no_ticket_when_the_email_changes(app):
    from eventreg.attendees.services import edit_registration

    event = create_test_event(app)
    registration_id, _ = register_test_delegate(app, event)
    with app.app_context():
        edit_registration(event.id, registration_id, delegate(email="new.address@example.org"))
    _, to_new, to_old = mails(app, registration_id)
    assert to_new["To"].addresses[0].addr_spec == "new.address@example.org"
    assert qr_of(to_new) == registration(app, registration_id).checkin_code
    assert to_old["To"].addresses[0].addr_spec == "chunli.bai@example.org"
    assert parts_of(to_old, "image/png") == []
    assert parts_of(to_old, "text/calendar") == []


def test_ticket_arrives_through_a_real_smtp_server(smtp_app, smtp_server):
    starts = datetime(2027, 4, 3, 23, 30, tzinfo=UTC)  # 20:30 in Santiago, the night before summer time ends
    event = create_test_event(
        smtp_app, timezone="America/Santiago", starts_at=starts, ends_at=starts + timedelta(hours=3)
    )
    registration_id, _token = register_test_delegate(smtp_app, event)
    with smtp_app.app_context():
        assert deliver_due().sent == 1
    [envelope] = smtp_server.envelopes
    mail = parse(envelope.content)
    row = registration(smtp_app, registration_id)
    assert qr_of(mail) == row.checkin_code
    [entry] = calendar_of(mail).events
    assert entry.DTSTART.astimezone(UTC) == starts
    assert str(entry["UID"]) == f"registration-{registration_id}@register.example.org"
    assert str(entry["URL"]) == f"https://register.example.org/e/{event.slug}"
