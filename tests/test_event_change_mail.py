"""A new date, time or place reaches every active delegate: one "event_changed" mail each, queued with the change,
carrying the updated calendar entry (same UID, higher SEQUENCE) and, for the confirmed, the ticket."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from eventreg.attendees.services import StatusAction, apply_action
from eventreg.events.services import update_event
from eventreg.extensions import db
from eventreg.mail.queue import mail_row
from eventreg.models import AuditEntry, Event, OutboxMessage
from eventreg.registration.privacy import erase_registration
from eventreg.registration.self_service import cancel_own_registration
from tests.conftest import create_test_event, register_test_delegate
from tests.test_event_settings import event_form, load_event
from tests.test_ticket_mail import calendar_of, mails, parts_of, qr_of, registration, text_of

# Monday 17 March 2031, 09:30 in Shanghai (UTC+8), moved to Tuesday 18 March, 14:00.
STARTS = datetime(2031, 3, 17, 1, 30, tzinfo=UTC)
MOVED = datetime(2031, 3, 18, 6, 0, tzinfo=UTC)


def kinds(app, registration_id: int) -> list[str]:
    with app.app_context():
        query = select(OutboxMessage.kind).where(OutboxMessage.registration_id == registration_id)
        return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def outbox_size(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def move(app, event, tell_delegates=True, **changes) -> list:
    """Change the event through the service, as the settings page does; the number told, in a list (empty when
    no mail was queued)."""
    with app.app_context():
        told = update_event(event, tell_delegates=tell_delegates, **changes).told
    return [] if told is None else [told]


def lines_of(mail) -> str:
    """The plain text with the line breaks Python writes (mail has CRLF)."""
    return text_of(mail).replace("\r\n", "\n")


def html_of(mail) -> str:
    return mail.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def crowd(app):
    """An event with a delegate in every state: confirmed, pending, waitlisted, cancelled, rejected, erased."""
    event = create_test_event(
        app, requires_approval=True, capacity=3, starts_at=STARTS, ends_at=STARTS + timedelta(hours=3)
    )
    ids = {}
    for name in ("confirmed", "erased", "rejected"):
        ids[name], _token = register_test_delegate(app, event, email=f"{name}@example.org")
    with app.app_context():
        apply_action(event.id, ids["confirmed"], StatusAction.APPROVE)
        apply_action(event.id, ids["erased"], StatusAction.APPROVE)
        apply_action(event.id, ids["rejected"], StatusAction.REJECT)
    for name in ("pending", "waitlisted", "cancelled"):
        ids[name], _token = register_test_delegate(app, event, email=f"{name}@example.org")
    with app.app_context():
        cancel_own_registration(ids["cancelled"])
        assert erase_registration(ids["erased"], actor="")
    for name, status in (("pending", "pending"), ("waitlisted", "waitlisted"), ("erased", "confirmed")):
        assert registration(app, ids[name]).status == status
    return event, ids


def test_moving_the_start_tells_each_active_delegate_once_with_the_new_calendar_entry(app, crowd):
    event, ids = crowd
    # Composed before the change, as the worker sent it then: the entry the delegate's calendar holds.
    *_, approved = mails(app, ids["confirmed"])
    before = {name: kinds(app, registration_id) for name, registration_id in ids.items()}

    assert move(app, event, starts_at=MOVED, ends_at=MOVED + timedelta(hours=3)) == [3]

    for name, registration_id in ids.items():
        added = kinds(app, registration_id)[len(before[name]) :]
        assert added == (["event_changed"] if name in ("confirmed", "pending", "waitlisted") else []), name

    changed = mails(app, ids["confirmed"])[-1]
    assert changed["Subject"] == "New date, time or place: Inaugural Ceremony"
    old_entry, [new_entry] = calendar_of(approved).events[0], calendar_of(changed).events
    assert old_entry.DTSTART.astimezone(UTC) == STARTS
    assert new_entry.DTSTART.astimezone(UTC) == MOVED
    assert new_entry.DTEND.astimezone(UTC) == MOVED + timedelta(hours=3)
    assert str(new_entry["UID"]) == str(old_entry["UID"]) == f"registration-{ids['confirmed']}@localhost"
    assert int(new_entry["SEQUENCE"]) > int(old_entry["SEQUENCE"])
    assert str(calendar_of(changed)["METHOD"]) == "PUBLISH"
    assert qr_of(changed) == registration(app, ids["confirmed"]).checkin_code

    text = lines_of(changed)
    assert "before: Monday, 17 March 2031, 09:30 (UTC+08:00)" in text
    assert "now: Tuesday, 18 March 2031, 14:00 (UTC+08:00)" in text
    assert "before: Monday, 17 March 2031, 12:30 (UTC+08:00)" in text  # the end moved too
    assert "Venue:\n" not in text  # the place did not change: no row for it

    for name in ("pending", "waitlisted"):
        waiting = mails(app, ids[name])[-1]
        assert parts_of(waiting, "image/png") == []
        assert parts_of(waiting, "text/calendar") == []
        assert "You will receive your ticket" in text_of(waiting)
        assert "now: Tuesday, 18 March 2031, 14:00 (UTC+08:00)" in text_of(waiting)


def test_a_new_place_and_timezone_are_told_old_and_new(app, crowd):
    event, ids = crowd
    # The same wall-clock time in Tokyo is an hour earlier in real time: told in each zone, with its offset.
    tokyo = STARTS - timedelta(hours=1)
    told = move(
        app,
        event,
        venue="Tokyo International Forum",
        city="Tokyo",
        timezone="Asia/Tokyo",
        starts_at=tokyo,
        ends_at=tokyo + timedelta(hours=3),
    )
    assert told == [3]
    changed = mails(app, ids["confirmed"])[-1]
    text = lines_of(changed)
    assert "before: Great Hall, Beijing\n" in text
    assert "now: Tokyo International Forum, Tokyo\n" in text
    assert "before: Monday, 17 March 2031, 09:30 (UTC+08:00)" in text
    assert "now: Monday, 17 March 2031, 09:30 (UTC+09:00)" in text
    [entry] = calendar_of(changed).events
    assert str(entry["LOCATION"]) == "Tokyo International Forum, Tokyo"
    assert entry["DTSTART"].params["TZID"] == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("tell_delegates", "changes"),
    [
        (False, {"starts_at": MOVED, "ends_at": MOVED + timedelta(hours=3)}),
        (False, {"venue": "Tokyo International Forum"}),
        (True, {"description": "Speeches, then the signing."}),
        (True, {"capacity": 5, "contact_email": "chair@example.org", "confirmation_note": "Bring your passport."}),
    ],
    ids=["unticked-time", "unticked-place", "description", "other-fields"],
)
def test_no_mail_when_unticked_or_when_nothing_on_the_ticket_changed(app, crowd, tell_delegates, changes):
    event, ids = crowd
    before = outbox_size(app)
    assert move(app, event, tell_delegates=tell_delegates, **changes) == []
    # A capacity of 5 moves the waiting delegate up: that mail ("promoted") is the only one.
    promoted = 1 if "capacity" in changes else 0
    assert outbox_size(app) == before + promoted
    assert all("event_changed" not in kinds(app, registration_id) for registration_id in ids.values())
    [entry] = _updates(app)
    assert "delegates_told" not in entry.after


def test_the_settings_page_says_how_many_delegates_are_told(app, logged_in, make_registration):
    logged_in.post("/organizer/events/new", data=event_form())
    page = logged_in.get("/organizer/events/founding-assembly/settings")
    assert (
        '<input aria-describedby="tell_delegates-hint" checked id="tell_delegates" name="tell_delegates" '
        'type="checkbox" value="y">' in page.text
    )
    assert "Tell the delegates by mail when the date, time or place changes" in page.text
    assert "tell_delegates" not in logged_in.get("/organizer/events/new").text
    event = load_event(app, "founding-assembly")
    for n in range(2):
        make_registration(event, email=f"d{n}@example.org")

    moved = logged_in.post(
        "/organizer/events/founding-assembly/settings",
        data=event_form(starts_at="2027-05-10T10:30", tell_delegates="y"),
        follow_redirects=True,
    )
    assert "2 delegates will be told of the new date, time or place by email." in moved.text
    [entry] = _updates(app)
    assert entry.after == {"starts_at": "2027-05-10T08:30:00+00:00", "delegates_told": 2}
    assert outbox_size(app) == 4

    # A browser sends no value for an unticked box.
    quiet = logged_in.post(
        "/organizer/events/founding-assembly/settings",
        data=event_form(starts_at="2027-05-10T11:30"),
        follow_redirects=True,
    )
    assert "have been saved" in quiet.text
    assert "will be told" not in quiet.text
    assert outbox_size(app) == 4


def test_the_change_and_its_mails_are_one_transaction(app, crowd, monkeypatch):
    """A failure while queueing the mails (after the first batch is written) leaves the event as it was."""
    import eventreg.events.notices

    event, _ids = crowd
    before = outbox_size(app)
    monkeypatch.setattr(eventreg.events.notices, "BATCH", 1)
    written = []

    def mail_row_then_fail(*args, **kwargs):
        if written:
            raise RuntimeError("the disk is full")
        written.append(args)
        return mail_row(*args, **kwargs)

    monkeypatch.setattr(eventreg.events.notices, "mail_row", mail_row_then_fail)
    with pytest.raises(RuntimeError):
        move(app, event, starts_at=MOVED, ends_at=MOVED + timedelta(hours=3))
    assert load_event(app, event.slug).starts_at == STARTS
    assert outbox_size(app) == before
    assert _updates(app) == []


def test_a_venue_with_markup_is_escaped_in_the_html_mail(app, crowd):
    event, ids = crowd
    move(app, event, venue='<script>alert("venue")</script> Hall')
    changed = mails(app, ids["confirmed"])[-1]
    html = html_of(changed)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;venue&#34;)&lt;/script&gt; Hall, Beijing" in html
    assert '<script>alert("venue")</script> Hall, Beijing' in lines_of(changed)  # plain text is not HTML


def test_a_title_with_a_line_break_cannot_add_a_header(app, crowd):
    """Forms refuse line breaks in a title; a row written otherwise still gives a one-line subject."""
    event, ids = crowd
    move(app, event, starts_at=MOVED, ends_at=MOVED + timedelta(hours=3))
    with app.app_context():
        db.session.execute(
            update(Event).where(Event.id == event.id).values(title="Ceremony\r\nBcc: victim@example.org")
        )
        db.session.commit()
    changed = mails(app, ids["confirmed"])[-1]
    assert changed["Bcc"] is None
    assert " ".join(changed["Subject"].split()) == "New date, time or place: Ceremony Bcc: victim@example.org"
    assert [address.addr_spec for address in changed["To"].addresses] == ["confirmed@example.org"]


def _updates(app) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.updated")).all()
        db.session.expunge_all()
        return entries
