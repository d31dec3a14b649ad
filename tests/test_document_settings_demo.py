"""The demo's documents: the ceremony's letterhead, visa requests waiting in the queue, and issued letters in each
state the verification page shows (valid, replaced, withdrawn), with nothing mailed."""

import re
import subprocess

import pytest
from sqlalchemy import select

from eventreg.demo.load import load_demo
from eventreg.documents.settings import document_settings
from eventreg.extensions import db
from eventreg.models import (
    Event,
    LetterState,
    OutboxMessage,
    OutboxState,
    StoredImage,
    VisaApplication,
    VisaLetter,
    VisaState,
)
from eventreg.visas.letters import render_letter, unseal_content

DELEGATES = 120


@pytest.fixture
def ceremony(app) -> int:
    with app.app_context():
        return load_demo(delegates=DELEGATES).event.id


def test_the_ceremony_has_a_letterhead_with_images(app, ceremony):
    with app.app_context():
        settings = document_settings(db.session.get(Event, ceremony))
        assert settings.host_organisation and settings.signatory_name and settings.address
        assert settings.second_language == "zh_Hans"
        for image_id in (settings.logo_id, settings.signature_id):
            assert db.session.get(StoredImage, image_id).content_type == "image/png"


def test_letters_in_every_state_and_requests_still_pending(app, ceremony):
    with app.app_context():
        letters = db.session.scalars(select(VisaLetter).where(VisaLetter.event_id == ceremony)).all()
        states = [letter.state for letter in letters]
        assert states.count(LetterState.REPLACED) == 1 and states.count(LetterState.WITHDRAWN) == 1
        assert states.count(LetterState.VALID) >= 5
        assert all(re.fullmatch(r"ANSO-\d{4}-\d{4}", letter.number) for letter in letters)
        pending = db.session.scalars(
            select(VisaApplication).where(
                VisaApplication.event_id == ceremony, VisaApplication.state == VisaState.PENDING
            )
        ).all()
        assert len(pending) >= 2  # the withdrawn one and those never issued
        mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "visa_letter")).all()
        assert mails and {mail.state for mail in mails} == {OutboxState.SENT}


def test_a_demo_letter_renders_on_the_letterhead(app, ceremony):
    with app.app_context():
        letter = db.session.scalars(
            select(VisaLetter).where(VisaLetter.event_id == ceremony, VisaLetter.state == LetterState.VALID)
        ).first()
        content = render_letter(letter)
        code = unseal_content(letter)["code"]
    text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
    assert "Alliance of International Science Organizations" in text
    assert letter.number in text
    assert "邀请函" in text.replace(" ", "")
    assert code in text  # the verification code, typed by a consulate


def test_a_second_demo_ceremony_numbers_its_letters_apart(app, ceremony):
    """Running the demo again adds another ceremony, whose letters cannot take the first one's numbers."""
    with app.app_context():
        second = load_demo(delegates=DELEGATES).event
        numbers = db.session.scalars(select(VisaLetter.number).where(VisaLetter.event_id == second.id)).all()
        first = db.session.scalars(select(VisaLetter.number).where(VisaLetter.event_id == ceremony)).all()
        assert numbers and not set(numbers) & set(first)
        assert (
            document_settings(second).letter_prefix != document_settings(db.session.get(Event, ceremony)).letter_prefix
        )
