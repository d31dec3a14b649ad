"""`flask send-message`: the dry run's count is what the real send delivers to a real SMTP server, each delegate in
their language with the placeholders filled; a dry run queues nothing; bad input and the daily cap exit 1 with a
clear message and save nothing."""

import email
import email.policy
import re

import pytest
from sqlalchemy import func, select

from eventreg.attendees.services import apply_action
from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.mail.worker import deliver_due
from eventreg.models import Message, OutboxMessage
from eventreg.registration.privacy import erase_registration
from eventreg.registration.status import StatusAction
from tests.conftest import create_test_event, register_test_delegate

BODY = "Dear {honorific} {family_name},\n\nThe shuttle to {venue} leaves the hotel at 8:00.\n"
FRENCH = "Subject: Horaires des navettes\n\nBonjour {given_name},\n\nLa navette part de l'hôtel à 8 h.\n"


@pytest.fixture
def ceremony(smtp_app, smtp_server):
    """An event with delegates of several countries, languages and statuses, their own mails already delivered
    (so the server holds only what the command sends); the registration ids by name."""
    event = create_test_event(smtp_app)
    people = {
        "bai": ("CN", "zh_Hans", "Bai"),
        "wang": ("CN", "en", "Wang"),
        "dupont": ("FR", "fr", "Dupont"),
        "martin": ("FR", "en", "Martin"),
        "li": ("CN", "zh_Hans", "Li"),  # cancelled below
        "zhou": ("CN", "en", "Zhou"),  # erased below
    }
    ids = {
        name: register_test_delegate(
            smtp_app, event, language=language, email=f"{name}@example.org", country=country, family_name=family
        )[0]
        for name, (country, language, family) in people.items()
    }
    with smtp_app.app_context():
        apply_action(event.id, ids["li"], StatusAction.CANCEL)
        erase_registration(ids["zhou"], actor=None)
        deliver_due()
    smtp_server.envelopes.clear()
    return event, ids


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def send(app, *args):
    return app.test_cli_runner().invoke(args=["send-message", *args])


def deliver(app) -> None:
    """What the worker does: queue the due messages' mails, then send them."""
    with app.app_context():
        run_due()
        deliver_due()


def received(smtp_server) -> dict[str, email.message.EmailMessage]:
    """The mails the SMTP server accepted, by their one recipient."""
    mails = {}
    for envelope in smtp_server.envelopes:
        [recipient] = envelope.rcpt_tos
        mails[recipient] = email.message_from_bytes(envelope.content, policy=email.policy.default)
    return mails


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def stored(app) -> tuple[int, int]:
    """(messages saved, mails of messages in the outbox)."""
    with app.app_context():
        messages = db.session.scalar(select(func.count()).select_from(Message))
        mails = db.session.scalar(select(func.count()).where(OutboxMessage.delegate_message_id.is_not(None)))
        return messages, mails


def test_the_dry_run_counts_exactly_the_delegates_the_send_reaches(smtp_app, smtp_server, ceremony, tmp_path):
    event, _ids = ceremony
    body = write(tmp_path, "body.txt", BODY)
    args = [event.slug, "--subject", "Shuttle times", "--body-file", body, "--country", "CN"]
    dry = send(smtp_app, *args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    # Confirmed and from China: Bai and Wang; Li cancelled, Zhou erased.
    assert "2 delegates will receive this message." in dry.output
    assert "1 matching delegate is erased and gets nothing." in dry.output
    assert "Dry run: nothing was queued." in dry.output
    deliver(smtp_app)
    assert smtp_server.envelopes == []
    assert stored(smtp_app) == (0, 0)

    real = send(smtp_app, *args)
    assert real.exit_code == 0, real.output
    assert "2 delegates will receive this message." in real.output
    assert "2 mails will be queued by the outbox worker." in real.output
    deliver(smtp_app)
    mails = received(smtp_server)
    assert sorted(mails) == ["bai@example.org", "wang@example.org"]
    assert all(mail["Subject"] == "Shuttle times" for mail in mails.values())
    assert "Dear Prof. Wang," in text_of(mails["wang@example.org"])
    assert "The shuttle to Great Hall" in text_of(mails["wang@example.org"])


def test_any_status_reaches_the_cancelled_too(smtp_app, smtp_server, ceremony, tmp_path):
    event, _ids = ceremony
    body = write(tmp_path, "body.txt", BODY)
    result = send(smtp_app, event.slug, "--subject", "S", "--body-file", body, "--status", "any", "--dry-run")
    assert "5 delegates will receive this message." in result.output
    result = send(smtp_app, event.slug, "--subject", "S", "--body-file", body, "--status", "cancelled")
    assert result.exit_code == 0, result.output
    deliver(smtp_app)
    assert sorted(received(smtp_server)) == ["li@example.org"]


def test_a_language_file_gives_its_delegates_their_version(smtp_app, smtp_server, ceremony, tmp_path):
    event, _ids = ceremony
    body = write(tmp_path, "body.txt", BODY)
    french = write(tmp_path, "fr.txt", FRENCH)
    chinese = write(tmp_path, "zh.txt", "{family_name}先生/女士：班车早上8点从酒店出发。\n")
    args = ["--subject", "Shuttle times", "--body-file", body, "--language-file", f"fr={french}"]
    result = send(smtp_app, event.slug, *args, "--language-file", f"zh-Hans={chinese}")
    assert result.exit_code == 0, result.output
    assert "4 delegates will receive this message." in result.output
    deliver(smtp_app)
    mails = received(smtp_server)
    assert sorted(mails) == ["bai@example.org", "dupont@example.org", "martin@example.org", "wang@example.org"]
    assert mails["dupont@example.org"]["Subject"] == "Horaires des navettes"
    assert "Bonjour Chunli," in text_of(mails["dupont@example.org"])
    assert "Subject:" not in text_of(mails["dupont@example.org"])
    # Without a subject line, the Chinese version keeps the default subject.
    assert mails["bai@example.org"]["Subject"] == "Shuttle times"
    assert "Bai先生/女士：班车早上8点从酒店出发。" in text_of(mails["bai@example.org"])
    for english in ("martin@example.org", "wang@example.org"):
        assert mails[english]["Subject"] == "Shuttle times"
        assert "The shuttle to Great Hall" in text_of(mails[english])


SEND = ["{slug}", "--subject", "Shuttle times", "--body-file", "{body}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-event", *SEND[1:]], "There is no event at 'no-such-event'."),
        ([*SEND[:4], "{typo}"], "--body-file is refused: Unknown placeholder: {given_nam}."),
        (["{slug}", "--subject", "Hello {Name}", *SEND[3:]], "--subject is refused: Unknown placeholder: {Name}."),
        ([*SEND, "--language-file", "fr={nom}"], "--language-file fr is refused: Unknown placeholder: {nom}."),
        ([*SEND, "--status", "maybe"], "The filter status=maybe is not understood."),
        ([*SEND, "--country", "XX"], "No country has the code 'XX'."),
        ([*SEND, "--category", "minister"], "The filter category=minister is not understood."),
        ([*SEND, "--language-file", "xx={fr}"], "Language 'xx' is not offered"),
        ([*SEND, "--language-file", "{fr}"], "Please give a language file as LANG=FILE"),
        ([*SEND, "--language-file", "fr={fr}", "--language-file", "fr={fr}"], "Language 'fr' is given twice."),
        ([*SEND[:4], "{missing}"], "cannot be read: No such file or directory"),
        ([*SEND[:4], "{latin1}"], "is not UTF-8 text."),
        ([*SEND, "--status", "waitlisted"], "No delegate matches: nothing was sent."),
    ],
)
def test_bad_input_exits_1_with_the_reason_and_saves_nothing(
    app, make_event, make_registration, tmp_path, args, message
):
    event = make_event()
    make_registration(event)
    (tmp_path / "latin1.txt").write_bytes("Très cher délégué".encode("latin-1"))
    values = {
        "slug": event.slug,
        "body": write(tmp_path, "body.txt", "The shuttle leaves at 8."),
        "typo": write(tmp_path, "typo.txt", "Dear {given_nam},"),
        "fr": write(tmp_path, "fr.txt", FRENCH),
        "nom": write(tmp_path, "fr-nom.txt", "Bonjour {nom}"),
        "missing": str(tmp_path / "missing.txt"),
        "latin1": str(tmp_path / "latin1.txt"),
    }
    # Only the names above are filled in: the placeholders meant for the message ({Name}, {nom}) stay as written.
    known = re.compile(r"\{(" + "|".join(values) + r")\}")
    args = [known.sub(lambda match: values[match.group(1)], arg) for arg in args]
    for dry_run in ([], ["--dry-run"]):
        result = send(app, *args, *dry_run)
        assert result.exit_code == 1, result.output
        assert message in result.output
    assert stored(app) == (0, 0)


def test_the_daily_cap_stops_the_command(app, make_event, make_registration, tmp_path):
    app.config["MESSAGES_PER_EVENT_PER_DAY"] = 1
    event = make_event()
    make_registration(event)
    args = [event.slug, "--subject", "Shuttle times", "--body-file", write(tmp_path, "body.txt", "At 8.")]
    assert send(app, *args).exit_code == 0
    refused = send(app, *args)
    assert refused.exit_code == 1
    assert "This event has sent its 1 message for today." in refused.output
    assert stored(app)[1] == 0  # the worker has not run: the first message's mails are not queued yet
    with app.app_context():
        run_due()
    assert stored(app) == (2, 1)  # the refused one stays a draft, and queues nothing
