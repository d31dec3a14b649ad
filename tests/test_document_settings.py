"""The event's document settings page: letterhead, images, letter prefix and templates, custom label sheet."""

import io
import threading

import pytest
from PIL import Image

from eventreg.documents.letter_template import DEFAULT_LETTER_TEMPLATE
from eventreg.documents.settings import SettingsChange, document_settings, save_settings
from eventreg.extensions import db
from eventreg.models import AuditEntry, DocumentSettings, Event, StoredImage


def png(size=(30, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (10, 20, 30, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def valid_form(**changes) -> dict:
    form = {
        "host_organisation": "Alliance of International Science Organizations",
        "address": "52 Sanlihe Road\nBeijing 100864",
        "signatory_name": "Bai Chunli",
        "signatory_title": "Chair",
        "letter_prefix": "ANSO-2027",
        "letter_template": "Dear consul, {passport_name} attends {event_title}.",
        "second_language": "",
        "second_template": "",
    }
    form.update(changes)
    return form


def url(event) -> str:
    return f"/organizer/events/{event.slug}/documents/settings"


def test_defaults_before_anything_is_saved(app, make_event):
    event = make_event(title="ANSO Inaugural")
    with app.app_context():
        settings = document_settings(db.session.get(Event, event.id))
        assert settings.letter_prefix == f"{event.slug.upper()}-{event.starts_at.year}"
        assert settings.letter_prefix.startswith("ANSO-INAUGURAL")
        assert settings.letter_template == DEFAULT_LETTER_TEMPLATE
        assert settings.host_organisation == ""
        assert db.session.get(DocumentSettings, event.id) is None


def test_save_letterhead_with_logo_then_remove_it(app, logged_in, make_event):
    event = make_event()
    page = logged_in.get(url(event))
    assert page.status_code == 200
    assert "{passport_number}" in page.text and "the passport number" in page.text
    response = logged_in.post(url(event), data=valid_form(logo=(io.BytesIO(png()), "logo.png")))
    assert response.status_code == 302, response.text
    with app.app_context():
        settings = db.session.get(DocumentSettings, event.id)
        assert settings.host_organisation == "Alliance of International Science Organizations"
        assert settings.letter_prefix == "ANSO-2027"
        logo_id = settings.logo_id
        assert db.session.get(StoredImage, logo_id).content_type == "image/png"
        entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "event.documents_changed")).one()
        assert entry.after["signatory_name"] == "Bai Chunli"
    page = logged_in.get(url(event))
    assert f"/documents/images/{logo_id}" in page.text
    image = logged_in.get(f"/organizer/events/{event.slug}/documents/images/{logo_id}")
    assert image.status_code == 200 and image.mimetype == "image/png"
    Image.open(io.BytesIO(image.data)).verify()

    assert logged_in.post(url(event), data=valid_form(remove_logo="y")).status_code == 302
    with app.app_context():
        assert db.session.get(DocumentSettings, event.id).logo_id is None
        # Kept: a letter issued with it names it by id, and renders again as it was issued.
        assert db.session.get(StoredImage, logo_id) is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"letter_prefix": "ANSO 2027"}, "Letters, digits and single hyphens only, at most 30 characters"),
        ({"letter_prefix": "A" * 31}, "Letters, digits and single hyphens only, at most 30 characters"),
        ({"letter_template": "Dear {consul}, {passport_name} and {fee}."}, "Unknown placeholder(s): {consul}, {fee}."),
        ({"second_language": "zh_Hans", "second_template": "{名字} {x}"}, "Unknown placeholder(s): {x}."),
        ({"second_language": "zh_Hans"}, "Please write the letter in the second language too."),
        ({"second_language": "en"}, "Not a valid choice"),
        ({"letter_template": "  "}, "The letter needs a text."),
        (
            {"logo": (io.BytesIO(b"GIF89a not really"), "logo.png")},
            "This file is not a PNG or JPEG image that can be read.",
        ),
        (
            {
                "custom_sheet": "y",
                "page_width": "210",
                "page_height": "297",
                "columns": "3",
                "rows": "8",
                "label_width": "70",
                "label_height": "37",
                "margin_top": "1",
                "margin_left": "1",
                "gap_horizontal": "0",
                "gap_vertical": "0",
            },
            "The labels do not fit",
        ),
        ({"custom_sheet": "y", "page_width": "210"}, "Please give a number from 0 to 1000."),
    ],
    ids=[
        "prefix-space",
        "prefix-long",
        "unknown-placeholders",
        "second-unknown",
        "second-empty",
        "second-english",
        "empty-letter",
        "not-an-image",
        "sheet-overflows",
        "sheet-incomplete",
    ],
)
def test_bad_settings_are_refused_with_a_message(app, logged_in, make_event, changes, message):
    event = make_event()
    response = logged_in.post(url(event), data=valid_form(**changes))
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    with app.app_context():
        assert db.session.get(DocumentSettings, event.id) is None


def test_custom_sheet_and_second_language_are_saved(app, logged_in, make_event):
    event = make_event()
    sheet = {
        "page_width": "210",
        "page_height": "297",
        "columns": "3",
        "rows": "8",
        "label_width": "70",
        "label_height": "37",
        "margin_top": "0",
        "margin_left": "0",
        "gap_horizontal": "0",
        "gap_vertical": "0",
    }
    form = valid_form(custom_sheet="y", second_language="zh_Hans", second_template="邀请 {passport_name}", **sheet)
    assert logged_in.post(url(event), data=form).status_code == 302
    with app.app_context():
        settings = db.session.get(DocumentSettings, event.id)
        assert settings.second_language == "zh_Hans" and settings.second_template == "邀请 {passport_name}"
        assert settings.label_sheet["columns"] == 3 and settings.label_sheet["label_height"] == 37


def test_only_organizers_of_the_event(app, client, make_event, make_organizer):
    event = make_event()
    assert client.get(url(event)).status_code in (302, 401)
    email, password = make_organizer("desk@example.org", role="checkin")
    client.post("/auth/login", data={"email": email, "password": password})
    assert client.get(url(event)).status_code == 403


def test_a_prefix_another_event_uses_is_refused(app, logged_in, make_event):
    """Letter numbers name letters site-wide (/verify/<number>/…): two events never share a prefix."""
    first, second = make_event(title="First Ceremony"), make_event(title="Second Ceremony")
    assert logged_in.post(url(first), data=valid_form(letter_prefix="ANSO-2027")).status_code == 302
    response = logged_in.post(url(second), data=valid_form(letter_prefix="anso-2027"))
    assert response.status_code == 422
    assert "Another event numbers its letters with anso-2027: please choose another prefix." in response.text
    with app.app_context():
        assert db.session.get(DocumentSettings, second.id) is None
    # The event itself may save its own prefix again.
    assert logged_in.post(url(first), data=valid_form(letter_prefix="ANSO-2027")).status_code == 302


def test_two_first_saves_at_once_both_succeed(app, make_event):
    """Two organizers save an event's first settings at the same moment: they take turns (the event's lock), so
    neither meets the other's new row (PostgreSQL: a duplicate key) or a lock it cannot wait for (SQLite)."""
    event = make_event()
    outcomes = [None, None]
    start = threading.Barrier(2)

    def save(index):
        with app.app_context():
            change = SettingsChange(letter_prefix=f"SAVE-{index}", letter_template="Dear consul, {passport_name}.")
            loaded = db.session.get(Event, event.id)
            db.session.get(DocumentSettings, event.id)  # the read transaction the page begins with
            start.wait()
            try:
                save_settings(loaded, change, None, ["en"])
                outcomes[index] = "saved"
            except Exception as error:  # noqa: BLE001 - the test reports what went wrong
                outcomes[index] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == ["saved", "saved"]
    with app.app_context():
        assert db.session.get(DocumentSettings, event.id).letter_prefix in ("SAVE-0", "SAVE-1")
