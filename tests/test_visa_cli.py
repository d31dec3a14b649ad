"""`flask visa-letters SLUG [--issue-pending] [-o DIR]`: the queue's counts and rows, issuing every complete
pending request (and queuing its mail), and writing each valid letter as DIR/<number>.pdf."""

from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import OutboxMessage
from tests.conftest import create_test_event
from tests.test_visa_letters import pdf_text, visa_request


def test_the_queue_is_printed(app, runner):
    event = create_test_event(app, title="ANSO")
    visa_request(app, event, 1)
    visa_request(app, event, 2, complete=False)
    result = runner.invoke(args=["visa-letters", event.slug])
    assert result.exit_code == 0, result.output
    assert "pending: 1  issued: 0  refused: 0  incomplete: 1" in result.output
    assert "-\tBAI CHUNLI 1\tpending" in result.output


def test_issue_pending_and_write_the_letters(app, runner, tmp_path):
    event = create_test_event(app, title="ANSO")
    for n in (1, 2):
        visa_request(app, event, n)
    visa_request(app, event, 3, complete=False)
    folder = tmp_path / "letters"
    result = runner.invoke(args=["visa-letters", event.slug, "--issue-pending", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    year = event.starts_at.year
    assert "Issued 2 letters" in result.output
    assert f"ANSO-{year}-0001\tBAI CHUNLI 1\tissued" in result.output
    assert sorted(path.name for path in folder.iterdir()) == [f"ANSO-{year}-0001.pdf", f"ANSO-{year}-0002.pdf"]
    text = pdf_text((folder / f"ANSO-{year}-0002.pdf").read_bytes())
    assert f"ANSO-{year}-0002" in text and "BAI CHUNLI 2" in text
    with app.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.kind == "visa_letter")).all()
    assert len(kinds) == 2


def test_an_unknown_event_is_a_clear_error(app, runner):
    result = runner.invoke(args=["visa-letters", "no-such-event"])
    assert result.exit_code != 0
    assert "There is no event at 'no-such-event'." in result.output
