"""`flask invite SLUG FILE [--send] [--dry-run]`."""

import csv

from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import Invitation, InvitationImport, OutboxMessage


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def write_guests(path, rows):
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "given name", "family name", "country"])
        writer.writerows(rows)
    return path


GUESTS = [
    ["wei.zhang@example.org", "Wei", "Zhang", "CN"],
    ["li.na@example.org", "Na", "Li", "Chine"],
    ["nobody.example.org", "No", "Body", "CN"],
    ["marie.curie@example.org", "Marie", "Curie", "Atlantis"],
]


def test_a_dry_run_prints_the_preview_and_writes_nothing(app, runner, make_event, tmp_path):
    event = make_event()
    result = runner.invoke(args=["invite", event.slug, str(write_guests(tmp_path / "g.csv", GUESTS)), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "To add: 2  To update: 0  Refused: 2" in result.output
    assert "row 4: nobody.example.org: An email address needs an @ sign" in result.output
    assert "row 5: marie.curie@example.org: Unknown country or region: Atlantis." in result.output
    with app.app_context():
        assert (count(Invitation), count(InvitationImport), count(OutboxMessage)) == (0, 0, 0)


def test_the_import_without_send_queues_no_mail_and_with_send_queues_the_unsent(app, runner, make_event, tmp_path):
    event = make_event()
    guests = write_guests(tmp_path / "g.csv", GUESTS[:1])
    result = runner.invoke(args=["invite", event.slug, str(guests)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert (count(Invitation), count(OutboxMessage)) == (1, 0)
    result = runner.invoke(args=["invite", event.slug, str(write_guests(tmp_path / "g.csv", GUESTS)), "--send"])
    assert result.exit_code == 0, result.output
    assert "To add: 1  To update: 1  Refused: 2" in result.output
    with app.app_context():
        assert count(Invitation) == 2
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)).all()
        assert [(m.kind, m.recipient) for m in messages] == [
            ("invitation", "li.na@example.org"),
            ("invitation", "wei.zhang@example.org"),
        ]
    # Sent once: a second --send queues nothing more.
    runner.invoke(args=["invite", event.slug, str(guests), "--send"])
    with app.app_context():
        assert count(OutboxMessage) == 2


def test_an_unknown_event_or_an_unreadable_file_exits_with_an_error(app, runner, make_event, tmp_path):
    event = make_event()
    guests = write_guests(tmp_path / "g.csv", GUESTS)
    result = runner.invoke(args=["invite", "no-such-event", str(guests)])
    assert result.exit_code != 0
    assert "There is no event at 'no-such-event'." in result.output
    result = runner.invoke(args=["invite", event.slug, str(tmp_path / "missing.csv")])
    assert result.exit_code != 0
    assert "cannot be read" in result.output
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    result = runner.invoke(args=["invite", event.slug, str(tmp_path / "broken.xlsx")])
    assert result.exit_code != 0
    assert "cannot be read as an Excel (XLSX) workbook" in result.output
