"""Certificates of attendance: refused before check-in and before the start, downloaded from the private page in
the delegate's language, mailed to every checked-in delegate through the outbox (once)."""

import email
import subprocess
from datetime import timedelta
from email import policy

import pytest

from eventreg.documents.certificates import certificate_pdf
from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import Event, OutboxMessage, Registration, utcnow
from tests.conftest import create_test_event, register_test_delegate


def pdf_text(content: bytes) -> str:
    """What pdftotext reads in a PDF (poppler-utils), spaces collapsed."""
    assert content.startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
    return " ".join(text.split())


def start_event(app, event, days_ago=1) -> None:
    """Move the event's start into the past (events are created in the future)."""
    with app.app_context():
        row = db.session.get(Event, event.id)
        row.starts_at = utcnow() - timedelta(days=days_ago)
        row.ends_at = row.starts_at + timedelta(hours=3)
        db.session.commit()


def check_in(app, registration_id) -> None:
    with app.app_context():
        db.session.get(Registration, registration_id).checked_in_at = utcnow()
        db.session.commit()


def certificate_url(token) -> str:
    return f"/r/{token}/certificate.pdf"


def test_refused_before_check_in(app, client, make_event, make_registration):
    event = make_event()
    _registration_id, token = make_registration(event)
    start_event(app, event)
    response = client.get(certificate_url(token))
    assert response.status_code == 403
    assert "available once you have been checked in" in response.text
    assert "Download your certificate" not in client.get(f"/r/{token}").text


def test_refused_before_the_event_starts(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    check_in(app, registration_id)
    response = client.get(certificate_url(token))
    assert response.status_code == 403
    assert "once the event has started" in response.text


def test_download_after_check_in_and_start(app, client, make_event, make_registration):
    event = make_event(title="Inaugural Ceremony of ANSO")
    registration_id, token = make_registration(event)
    start_event(app, event)
    check_in(app, registration_id)
    page = client.get(f"/r/{token}")
    assert "Download your certificate (PDF)" in page.text
    response = client.get(certificate_url(token))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "This is to certify that Prof. Chunli Bai" in text
    assert "Chinese Academy of Sciences, attended Inaugural Ceremony of ANSO, held at Great Hall, Beijing" in text
    assert "白春礼" in text


def test_in_the_delegates_language(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event, language="fr", email="marie@example.org")
    english_id = register_english(app, event)
    start_event(app, event)
    check_in(app, registration_id)
    text = pdf_text(client.get(certificate_url(token)).data)
    assert "Inaugural Ceremony" in text and "Chunli Bai" in text
    with app.app_context():
        english = pdf_text(certificate_pdf(db.session.get(Registration, english_id)))
    # The catalogs get the certificate's sentence from the translators later; what French already changes is the
    # honorific and the date, written by the French locale.
    month = {
        "en": "January February March April May June July August September October November December",
        "fr": "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.",
    }
    assert "Pr Chunli Bai" in text and "Prof. Chunli Bai" in english
    assert any(f" {name} " in text for name in month["fr"].split())
    assert not any(f" {name} " in text for name in month["en"].split())


def register_english(app, event) -> int:
    registration_id, _token = register_test_delegate(app, event, email="english@example.org")
    return registration_id


def test_organizers_mail_certificates_once(smtp_app, smtp_server):
    app = smtp_app
    client = app.test_client()
    event = create_test_event(app)
    checked = [register_test_delegate(app, event, email=f"d{n}@example.org")[0] for n in range(2)]
    register_test_delegate(app, event, email="absent@example.org")
    start_event(app, event)
    for registration_id in checked:
        check_in(app, registration_id)
    with app.app_context():
        from eventreg.auth.services import create_organizer

        create_organizer("admin@example.org", "correct horse battery", "admin")
    client.post("/auth/login", data={"email": "admin@example.org", "password": "correct horse battery"})
    url = f"/organizer/events/{event.slug}/certificates"
    page = client.get(url)
    assert "2 delegates were checked in." in page.text
    assert "Mail the certificates to 2 delegates" in page.text

    refused = client.post(url, data={})
    assert refused.status_code == 422 and "Please tick the box to confirm the mailing." in refused.text
    response = client.post(url, data={"confirm": "y"}, follow_redirects=True)
    assert "2 certificates are queued for mailing." in response.text
    again = client.post(url, data={"confirm": "y"}, follow_redirects=True)
    assert "nothing new to mail" in again.text
    with app.app_context():
        kinds = db.session.scalars(db.select(OutboxMessage.registration_id).where(OutboxMessage.kind == "certificate"))
        assert sorted(kinds) == sorted(checked)
        deliver_due()
    mails = [
        email.message_from_bytes(envelope.original_content, policy=policy.default)
        for envelope in smtp_server.envelopes
        if "certificate" in email.message_from_bytes(envelope.original_content, policy=policy.default)["Subject"]
    ]
    assert sorted(mail["To"].addresses[0].addr_spec for mail in mails) == ["d0@example.org", "d1@example.org"]
    attachments = list(mails[0].iter_attachments())
    assert [part.get_content_type() for part in attachments] == ["application/pdf"]
    assert "This is to certify that" in pdf_text(attachments[0].get_content())


def test_mailing_refused_before_the_start(app, logged_in, make_event, make_registration):
    event = make_event()
    registration_id, _token = make_registration(event)
    check_in(app, registration_id)
    url = f"/organizer/events/{event.slug}/certificates"
    assert "Certificates can be mailed once the event has started." in logged_in.get(url).text
    response = logged_in.post(url, data={"confirm": "y"}, follow_redirects=True)
    assert "Certificates can be mailed once the event has started." in response.text
    with app.app_context():
        assert db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == "certificate")).first() is None


@pytest.mark.parametrize("role", [None, "checkin"])
def test_mailing_page_needs_an_organizer(app, client, make_event, make_organizer, role):
    event = make_event()
    if role:
        email_address, password = make_organizer("desk@example.org", role=role)
        client.post("/auth/login", data={"email": email_address, "password": password})
    response = client.get(f"/organizer/events/{event.slug}/certificates")
    assert response.status_code == (403 if role else 302)


def test_printed_on_the_letterhead(app, make_event, make_registration):
    """The host, the signatory and the logo and signature images (served by the engine from the stored images)."""
    import io

    from PIL import Image
    from pypdf import PdfReader
    from werkzeug.datastructures import FileStorage

    from eventreg.documents.images import store_image
    from eventreg.models import DocumentSettings

    event = make_event()
    registration_id, _token = make_registration(event)
    start_event(app, event)
    check_in(app, registration_id)
    with app.app_context():
        images = []
        for purpose in ("logo", "signature"):
            buffer = io.BytesIO()
            Image.new("RGB", (60, 30), (20, 90, 160)).save(buffer, format="PNG")
            images.append(
                store_image(db.session.get(Event, event.id), purpose, FileStorage(io.BytesIO(buffer.getvalue())))
            )
        db.session.flush()
        db.session.add(
            DocumentSettings(
                event_id=event.id,
                host_organisation="Alliance of Science Academies",
                signatory_name="Li Wenhua",
                signatory_title="Secretary General",
                logo_id=images[0].id,
                signature_id=images[1].id,
            )
        )
        db.session.commit()
        content = certificate_pdf(db.session.get(Registration, registration_id))
    text = pdf_text(content)
    assert "Alliance of Science Academies" in text and "Li Wenhua Secretary General" in text
    assert len(PdfReader(io.BytesIO(content)).pages[0].images) == 2


def test_undoing_a_check_in_cancels_the_queued_certificate(app, make_event, make_registration, make_organizer):
    """A certificate mail queued, then the check-in undone: the mail never goes out; checked in again, the
    delegate gets a new one at the next mailing."""
    from eventreg.checkin.services import undo_check_in
    from eventreg.documents.certificates import queue_certificates
    from eventreg.models import Organizer, OutboxState

    event = make_event()
    registration_id, _token = make_registration(event)
    kept_id, _token = make_registration(event, email="kept@example.org")
    make_organizer()
    start_event(app, event)
    check_in(app, registration_id)
    check_in(app, kept_id)

    def certificate_states() -> dict[int, list[str]]:
        with app.app_context():
            query = db.select(OutboxMessage.registration_id, OutboxMessage.state).where(
                OutboxMessage.kind == "certificate"
            )
            states: dict[int, list[str]] = {}
            for owner, state in db.session.execute(query.order_by(OutboxMessage.id)):
                states.setdefault(owner, []).append(state)
            return states

    with app.app_context():
        assert queue_certificates(db.session.get(Event, event.id)) == 2
        organizer = db.session.scalar(db.select(Organizer))
        undo_check_in(db.session.get(Event, event.id), registration_id, organizer)
    assert certificate_states() == {registration_id: [OutboxState.CANCELLED], kept_id: [OutboxState.QUEUED]}
    check_in(app, registration_id)
    with app.app_context():
        assert queue_certificates(db.session.get(Event, event.id)) == 1
    assert certificate_states()[registration_id] == [OutboxState.CANCELLED, OutboxState.QUEUED]
