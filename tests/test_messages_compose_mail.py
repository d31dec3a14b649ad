"""A message written on the compose pages reaches, through the real SMTP server, exactly the delegates of its filter,
each in their language with the placeholders filled; its preview shows every version without a real private link."""

import re
from email import message_from_bytes
from email.policy import default

import pytest

from eventreg.attendees.services import StatusAction, apply_action
from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.mail.schedule import run_due
from eventreg.mail.worker import deliver_due
from eventreg.models import Registration
from tests.conftest import create_test_event, register_test_delegate
from tests.test_messages_compose import compose_url, posted

PASSWORD = "correct horse battery"
TEXTS = {
    "subject": "Shuttle for {given_name}",
    "body": "Dear {honorific} {family_name},\n\n**The shuttle** to {event_title} leaves at 8.",
    "subject_fr": "Navette pour {given_name}",
    "body_fr": "Bonjour {given_name} {family_name},\n\n**La navette** pour {event_title} part à 8 h.",
}


BODY = "Hello {given_name}: {private_link}"


@pytest.fixture
def delegates(smtp_app):
    """Five registrations: three confirmed from China (one reads French), one cancelled from China, one from
    France; and a logged-in administrator."""
    event = create_test_event(smtp_app, title="Inaugural <Ceremony>")
    ids = {
        "wang": register_test_delegate(
            smtp_app, event, email="wang@example.org", given_name="Wang", family_name="Fang"
        ),
        "li": register_test_delegate(smtp_app, event, email="li@example.org", given_name="Li", family_name="Wei"),
        "zhou": register_test_delegate(
            smtp_app, event, language="fr", email="zhou@example.org", given_name="Zhou", family_name="Min"
        ),
        "gone": register_test_delegate(smtp_app, event, email="gone@example.org", given_name="Gone"),
        "marie": register_test_delegate(
            smtp_app, event, language="fr", email="marie@example.org", country="FR", given_name="Marie"
        ),
    }
    ids = {name: registration_id for name, (registration_id, _token) in ids.items()}
    with smtp_app.app_context():
        apply_action(event.id, ids["gone"], StatusAction.CANCEL)
        create_organizer("admin@example.org", PASSWORD, "admin")
    client = smtp_app.test_client()
    client.post("/auth/login", data={"email": "admin@example.org", "password": PASSWORD})
    return event, ids, client


def deliver(app) -> None:
    with app.app_context():
        run_due()
        deliver_due()


def received(smtp_server, subject_start: str) -> dict:
    """{recipient: mail} of the mails that arrived whose subject starts with `subject_start`."""
    mails = [message_from_bytes(envelope.content, policy=default) for envelope in smtp_server.envelopes]
    chosen = {}
    for envelope, mail in zip(smtp_server.envelopes, mails, strict=True):
        if str(mail["Subject"]).startswith(subject_start):
            assert len(envelope.rcpt_tos) == 1  # every mail goes to one recipient
            chosen[envelope.rcpt_tos[0]] = mail
    return chosen


def test_a_filtered_send_reaches_exactly_the_matching_delegates_each_in_their_language(
    smtp_app, smtp_server, delegates
):
    event, _ids, client = delegates
    page = client.get(compose_url(event, "country=CN&status=confirmed"))
    assert "This message will reach 3 delegates." in page.text
    draft = client.post(compose_url(event), data=posted(page, "continue", **TEXTS))
    assert draft.status_code == 302
    sent = client.post(draft.headers["Location"], follow_redirects=True)
    assert "The message is being sent to 3 delegates." in sent.text
    deliver(smtp_app)
    english, french = received(smtp_server, "Shuttle for"), received(smtp_server, "Navette pour")
    assert sorted(english) == ["li@example.org", "wang@example.org"]
    assert sorted(french) == ["zhou@example.org"]
    wang = english["wang@example.org"]
    assert wang["Subject"] == "Shuttle for Wang"
    assert wang["To"].addresses[0].addr_spec == "wang@example.org" and "li@example.org" not in str(wang)
    assert wang["Reply-To"].addresses[0].addr_spec == "office@example.org"
    text = wang.get_body(("plain",)).get_content()
    assert "Dear Prof. Fang," in text and "The shuttle" in text and "Inaugural <Ceremony>" in text
    html = wang.get_body(("html",)).get_content()
    assert "<strong>The shuttle</strong>" in html and "Inaugural &lt;Ceremony&gt;" in html
    zhou = french["zhou@example.org"]
    assert zhou["Subject"] == "Navette pour Zhou"
    assert "Bonjour Zhou Min," in zhou.get_body(("plain",)).get_content()
    deliver(smtp_app)  # the worker again: nothing more
    assert len(received(smtp_server, "Shuttle for")) + len(received(smtp_server, "Navette pour")) == 3


def test_the_preview_shows_each_version_as_the_chosen_delegate_reads_it(smtp_app, smtp_server, delegates):
    event, ids, client = delegates
    page = client.get(compose_url(event, "country=CN&status=confirmed"))
    preview = client.post(
        compose_url(event),
        data=posted(page, "preview", delegate=str(ids["wang"]), **{**TEXTS, "body": BODY}),
        follow_redirects=True,
    )
    assert preview.status_code == 200
    shown = re.sub(r"\s+", " ", preview.text)
    assert "Hello Wang: (this delegate&#39;s private link)" in shown
    assert "Navette pour Wang" in shown and "Bonjour Wang Fang," in shown  # the French version, as Wang
    with smtp_app.app_context():
        token = db.session.get(Registration, ids["wang"]).token
    assert token not in preview.text
    tested = client.post(compose_url(event), data=posted(page, "test", delegate=str(ids["zhou"]), **TEXTS))
    assert tested.status_code == 302
    deliver(smtp_app)
    assert list(received(smtp_server, "[Test] Navette pour Zhou")) == ["admin@example.org"]
