"""`flask badges`: a run written to a file, confirmed delegates by default, a category or several, and clear
errors for an unknown event, category or layout."""

import pytest

from eventreg.attendees.services import apply_action
from eventreg.registration.status import StatusAction
from tests.test_badges import page_sizes_mm, pdf_text


@pytest.fixture
def event(app, make_event, make_registration):
    event = make_event(title="Inaugural Ceremony", capacity=100)
    make_registration(event, email="bai@example.org")
    make_registration(event, email="kim@example.org", given_name="Minji", family_name="Kim", category="observer")
    gone, _token = make_registration(event, email="gone@example.org", given_name="Gone", family_name="Away")
    with app.app_context():
        apply_action(event.id, gone, StatusAction.CANCEL)
    return event


def test_writes_the_confirmed_delegates_badges(runner, event, tmp_path):
    output = tmp_path / "badges.pdf"
    result = runner.invoke(args=["badges", event.slug, "-o", str(output), "--layout", "card", "--crop-marks"])
    assert result.exit_code == 0, result.output
    assert f"2 badges written to {output}." in result.output
    assert page_sizes_mm(output.read_bytes()) == [(210.0, 297.0)]
    text = pdf_text(output.read_bytes())
    assert "Chunli Bai" in text and "Minji Kim" in text and "Gone Away" not in text


def test_category_status_and_language(runner, event, tmp_path):
    output = tmp_path / "observers.pdf"
    args = ["badges", event.slug, "-o", str(output), "--category", "observer", "--category", "delegate"]
    assert "2 badges" in runner.invoke(args=[*args, "--language", "fr"]).output
    assert "Chine" in pdf_text(output.read_bytes())
    result = runner.invoke(args=["badges", event.slug, "-o", str(output), "--category", "observer"])
    assert f"1 badge written to {output}." in result.output
    assert "Minji Kim" in pdf_text(output.read_bytes()) and "Chunli Bai" not in pdf_text(output.read_bytes())
    result = runner.invoke(args=["badges", event.slug, "-o", str(output), "--status", "cancelled"])
    assert result.exit_code == 0 and "Gone Away" in pdf_text(output.read_bytes())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-event"], "No event has the address 'no-such-event'."),
        (["{slug}", "--layout", "a5"], "Unknown layout 'a5'"),
        (["{slug}", "--category", "minister"], "The event has no category minister"),
        (["{slug}", "--language", "xx"], "Language 'xx' is not offered"),
        (["{slug}", "--status", "waitlisted"], "No registration matches: no file was written."),
    ],
)
def test_errors_are_clear(runner, event, tmp_path, args, message):
    output = tmp_path / "badges.pdf"
    args = [arg.format(slug=event.slug) for arg in args]
    result = runner.invoke(args=["badges", *args, "-o", str(output)])
    assert result.exit_code != 0
    assert message in result.output
    assert not output.exists()
