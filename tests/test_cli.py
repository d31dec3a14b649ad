"""The flask commands that create events and demo data."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from eventreg import stats
from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, Organizer, OutboxMessage, OutboxState, Registration


def create_event_args(title, starts="2027-03-01T10:00", timezone="UTC", *extra):
    """The arguments of a create-event call with a venue and a city."""
    return [
        "create-event",
        "--title",
        title,
        "--starts",
        starts,
        "--timezone",
        timezone,
        "--venue",
        "V",
        "--city",
        "C",
        *extra,
    ]


def event_by_slug(app, slug):
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        db.session.expunge(event)
        return event


def test_create_event_prints_its_public_url_and_applies_defaults(app, runner):
    result = runner.invoke(
        args=[
            "create-event",
            "--title",
            "Inaugural Ceremony",
            "--starts",
            "2027-03-01T10:00",
            "--timezone",
            "Asia/Shanghai",
            "--venue",
            "Great Hall of the People",
            "--city",
            "Beijing",
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "http://localhost/e/inaugural-ceremony"
    event = event_by_slug(app, "inaugural-ceremony")
    assert event.starts_at == datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    assert event.ends_at - event.starts_at == timedelta(hours=3)
    assert event.capacity is None
    assert event.contact_email == "office@example.org"  # from MAIL_DEFAULT_SENDER


def test_create_event_with_every_option(app, runner):
    result = runner.invoke(
        args=[
            "create-event",
            "--title",
            "Founding Assembly",
            "--starts",
            "2027-05-10T09:30",
            "--timezone",
            "Europe/Paris",
            "--venue",
            "Palais",
            "--city",
            "Paris",
            "--ends",
            "2027-05-10T17:00",
            "--capacity",
            "700",
            "--opens",
            "2027-01-01T00:00",
            "--closes",
            "2027-05-01T00:00",
            "--contact",
            "chair@example.org",
        ]
    )
    assert result.exit_code == 0, result.output
    event = event_by_slug(app, "founding-assembly")
    assert event.capacity == 700
    assert event.ends_at == datetime(2027, 5, 10, 15, 0, tzinfo=UTC)
    assert event.registration_opens_at == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert event.registration_closes_at == datetime(2027, 4, 30, 22, 0, tzinfo=UTC)
    assert event.contact_email == "chair@example.org"


def test_the_default_end_is_three_real_hours_later_across_a_clock_change(app, runner):
    args = [
        "create-event",
        "--title",
        "Night Session",
        "--starts",
        "2027-03-14T00:30",
        "--timezone",
        "America/New_York",
        "--venue",
        "V",
        "--city",
        "New York",
    ]
    assert runner.invoke(args=args).exit_code == 0
    event = event_by_slug(app, "night-session")
    assert event.ends_at - event.starts_at == timedelta(hours=3)
    assert event.local(event.ends_at).hour == 4  # 00:30 EST + 3 h = 04:30 EDT, the clocks having jumped at 02:00


def test_slugs_stay_unique(runner):
    args = [
        "create-event",
        "--title",
        "Ceremony",
        "--starts",
        "2027-03-01T10:00",
        "--timezone",
        "UTC",
        "--venue",
        "V",
        "--city",
        "C",
    ]
    assert runner.invoke(args=args).output.strip().endswith("/e/ceremony")
    assert runner.invoke(args=args).output.strip().endswith("/e/ceremony-2")


def test_non_latin_titles_get_readable_slugs(runner):
    args = create_event_args("国际科学联盟成立大会")
    result = runner.invoke(args=args)
    assert result.exit_code == 0
    assert result.output.strip().endswith("/e/guo-ji-ke-xue-lian-meng-cheng-li-da-hui")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--timezone", "Mars/Olympus"], "is not an IANA time zone"),
        (["--timezone", "UTC", "--starts", "tomorrow"], "is not a date and time"),
        (["--timezone", "UTC", "--ends", "2027-03-01T09:00"], "must end after it starts"),
        (["--timezone", "UTC", "--capacity", "0"], "Invalid value for '--capacity'"),
        (["--timezone", "UTC", "--opens", "2027-02-01T00:00", "--closes", "2027-01-01T00:00"], "must close after"),
        (
            ["--timezone", "UTC", "--contact", "not an address"],
            "The contact address not an address is not valid: An email address needs an @ sign",
        ),
        (["--timezone", "UTC", "--venue", "Hall\nBcc: x@example.org"], "single line"),
        (["--timezone", "UTC", "--city", "\u202eeniB"], "invisible text-direction"),
        (["--timezone", "UTC", "--venue", "V" * 201], "longer than 200 characters"),
        (["--timezone", "America/New_York", "--starts", "2027-03-14T02:30"], "does not exist in America/New_York"),
        (["--timezone", "America/New_York", "--starts", "2027-11-07T01:30"], "happens twice in America/New_York"),
        (["--timezone", "UTC", "--opens", "2027-05-01T00:00"], "must open before the event starts"),
        (["--timezone", "UTC", "--closes", "2027-03-02T00:00"], "must close by the end of the event"),
        (["--timezone", "Asia/Tokyo", "--starts", "9999-12-31T23:00"], "not a plausible date"),
        (["--timezone", "UTC", "--capacity", "99999999999999999999"], "Invalid value for '--capacity'"),
        (["--timezone", "UTC", "--title", "\u200b"], "has no letter or digit"),
    ],
)
def test_create_event_refuses_bad_input(runner, extra, message):
    args = ["create-event", "--title", "T", "--starts", "2027-03-01T10:00", "--venue", "V", "--city", "C", *extra]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output


def test_demo_creates_700_delegates_from_40_countries_without_mail(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Organizer login: organizer@example.org / " in result.output
    password = result.output.split("organizer@example.org / ")[1].split()[0]
    with app.app_context():
        event = db.session.scalar(select(Event).order_by(Event.id))
        assert event.title == "Inaugural Ceremony" and event.capacity == 1000
        assert event.registration_state() == "open"
        assert db.session.scalar(select(func.count()).where(Registration.event_id == event.id)) == 700
        assert stats.countries_represented(event.id) >= 40
        # The forum's invitation mails and confirmations are recorded as sent or failed (tests/test_demo_guests.py):
        # nothing is left for the worker to send.
        assert db.session.scalar(select(func.count()).where(OutboxMessage.state == OutboxState.QUEUED)) == 0
        emails = db.session.scalars(select(Registration.email)).all()
        assert all(address.endswith("@example.org") for address in emails)
        names = " ".join(db.session.scalars(select(Registration.native_name)).all())
        for sample in ("王", "محمد", "김"):
            assert sample in names
    saved = Path(app.instance_path) / "demo-organizer.txt"
    assert saved.read_text().split() == ["organizer@example.org", password]
    client = app.test_client()
    assert client.post("/auth/login", data={"email": "organizer@example.org", "password": password}).status_code == 302
    assert "700" in client.get(f"/organizer/events/{event.slug}").text
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "demo data not loaded" in again.output


def test_an_event_in_the_past_is_created_with_a_note(runner):
    args = create_event_args("Archive", "2020-03-01T10:00")
    result = runner.invoke(args=args)
    assert result.exit_code == 0
    assert "already started" in result.output


def test_create_event_with_approval_and_a_confirmation_note(app, runner):
    note = "Bring your passport.\nDress code: formal."
    args = create_event_args("Approved Assembly", "2027-03-01T10:00", "UTC", "--requires-approval")
    result = runner.invoke(args=[*args, "--confirmation-note", note])
    assert result.exit_code == 0, result.output
    event = event_by_slug(app, "approved-assembly")
    assert (event.requires_approval, event.confirmation_note) == (True, note)
    plain = event_by_slug(app, runner.invoke(args=create_event_args("Open Assembly")).output.strip().rsplit("/", 1)[1])
    assert (plain.requires_approval, plain.confirmation_note) == (False, "")


def test_create_event_refuses_a_note_with_control_characters(runner):
    result = runner.invoke(args=[*create_event_args("Noted"), "--confirmation-note", "a\x00b"])
    assert result.exit_code != 0
    assert "control characters" in result.output


@pytest.mark.parametrize(
    ("options", "role", "label"),
    [
        ([], "admin", "Administrator"),
        (["--role", "organizer"], "organizer", "Organizer"),
        (["--role", "checkin"], "checkin", "Check-in staff"),
    ],
)
def test_create_organizer_takes_a_role(app, runner, options, role, label):
    result = runner.invoke(args=["create-organizer", "someone@example.org", "--password", "long enough pw", *options])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Created {label} someone@example.org."
    with app.app_context():
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == "someone@example.org"))
        assert organizer.role == role
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "account.created")).all()
        assert (entry.actor, entry.after) == ("", {"account": "someone@example.org", "role": role})
