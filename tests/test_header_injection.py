"""No value can add a header to a mail: every form field that reaches a header (names, email addresses, the event's
title and contact address) refuses line breaks and other control characters with a message beside the field;
multi-line text keeps its line breaks but no other control character; and a row written around the forms (raw SQL)
still composes into a mail with exactly its own headers, as the real SMTP server receives it."""

import email
import email.policy
import inspect

import pytest
from markupsafe import escape
from sqlalchemy import func, select, text
from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField

from eventreg.attendees.forms import EditRegistrationForm
from eventreg.events.forms import EventForm
from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.mail.worker import deliver_due
from eventreg.models import Event, OutboxMessage, Registration
from eventreg.registration.forms import EmailChangeForm, LostLinkForm, OwnDetailsForm, RegistrationForm
from tests.conftest import create_test_event, register_test_delegate
from tests.test_event_settings import event_form
from tests.test_registration import VALID, form

VICTIM = "victim@example.org"
# Ways to end a header line and start another: CR LF, a bare LF or CR, and the characters some mail software or
# terminals also take for a line end (vertical tab, form feed, NEL, the Unicode line and paragraph separators);
# and NUL, DEL and ESC, which have no place in a header either.
NAME_INJECTIONS = [
    f"Chunli\r\nBcc: {VICTIM}",
    f"Chunli\nBcc: {VICTIM}",
    f"Chunli\rBcc: {VICTIM}",
    f"Chunli\r\n\r\nA body of the attacker's choosing to {VICTIM}",
    "Chunli\x0bBcc",
    "Chunli\x0cBcc",
    f"Chunli\x85Bcc: {VICTIM}",
    f"Chunli\u2028Bcc: {VICTIM}",
    "Chunli\u2029Bcc",
    "Chunli\tBai",
    "Chunli\x00",
    "Chunli\x7f",
    "Chunli\x1b[2J",
]
EMAIL_INJECTIONS = [
    f"chunli@example.org\r\nBcc: {VICTIM}",
    f"chunli@example.org\nBcc: {VICTIM}",
    f"chunli@example.org\rBcc:{VICTIM}",
    f"chunli@example.org,{VICTIM}",
    f"Chunli <chunli@example.org>\r\nBcc: {VICTIM}",
    f"chunli@example.org\u2028Bcc: {VICTIM}",
    f"chunli@example.org\x85{VICTIM}",
    "chunli@example.org\x00",
    "chunli\x0b@example.org",
]
# In a text area line breaks are text; every other control character is refused.
MULTILINE_REFUSED = ["Vegan\x00", "Vegan\x0bno nuts", "Vegan\x1b[2J", "Vegan\x85no nuts", "Vegan\u2028no nuts", "\x7f"]

NAME_MESSAGE = "Please use a single line without control characters."
# Each injected address is refused with the message for its own fault (eventreg/validation_messages.py).
EMAIL_MESSAGES = {
    f"chunli@example.org\r\nBcc: {VICTIM}": "The part after the @ sign is not a valid domain name.",
    f"chunli@example.org\nBcc: {VICTIM}": "The part after the @ sign is not a valid domain name.",
    f"chunli@example.org\rBcc:{VICTIM}": "The part after the @ sign is not a valid domain name.",
    f"chunli@example.org,{VICTIM}": "The part after the @ sign is not a valid domain name.",
    f"Chunli <chunli@example.org>\r\nBcc: {VICTIM}": "The part before the @ sign contains characters",
    f"chunli@example.org\u2028Bcc: {VICTIM}": "The part after the @ sign is not a valid domain name.",
    f"chunli@example.org\x85{VICTIM}": "The part after the @ sign is not a valid domain name.",
    "chunli@example.org\x00": "The part after the @ sign is not a valid domain name.",
    "chunli\x0b@example.org": "The part before the @ sign contains characters an email address cannot have.",
}
MULTILINE_MESSAGE = "Please remove the control characters from this text."


def fields_of(form_class, kind) -> list[str]:
    """The names of a form's text fields of one kind: 'line' (one line of text), 'email', or 'multiline'."""
    names = []
    for name, unbound in inspect.getmembers(form_class, lambda member: isinstance(member, UnboundField)):
        field_class = unbound.field_class
        if not issubclass(field_class, StringField) or issubclass(field_class, (HiddenField, PasswordField)):
            continue
        found = (
            "multiline"
            if issubclass(field_class, TextAreaField)
            else "email"
            if issubclass(field_class, EmailField)
            else "line"
        )
        if found == kind:
            names.append(name)
    return sorted(names)


def injections(form_class) -> list[tuple[str, str, str]]:
    """(field, typed value, the message expected beside the field) for every header-bound field of the form."""
    cases = [(name, typed, NAME_MESSAGE) for name in fields_of(form_class, "line") for typed in NAME_INJECTIONS]
    cases += [
        (name, typed, EMAIL_MESSAGES[typed]) for name in fields_of(form_class, "email") for typed in EMAIL_INJECTIONS
    ]
    return cases


def assert_refused(response, field: str, message: str) -> None:
    """The form is shown again with the message beside the field (and in the summary above the form)."""
    assert response.status_code == 200, response.headers.get("Location")
    assert f'id="{field}-error"' in response.text, field
    assert str(escape(message)) in response.text
    assert 'role="alert"' in response.text


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Registration)),
            db.session.scalar(select(func.count()).select_from(OutboxMessage)),
        )


def test_the_forms_have_the_fields_these_tests_walk_through():
    """A form that loses its fields (renamed, say) must not make these tests pass by checking nothing."""
    assert fields_of(RegistrationForm, "line") == [
        "family_name",
        "given_name",
        "institution",
        "native_name",
        "position",
    ]
    assert fields_of(RegistrationForm, "email") == ["email"]
    assert fields_of(RegistrationForm, "multiline") == ["accessibility", "dietary"]
    assert fields_of(OwnDetailsForm, "email") == []
    assert fields_of(EventForm, "line") == ["city", "title", "venue"]
    assert fields_of(EventForm, "email") == ["contact_email"]


# ---- the public forms


@pytest.mark.parametrize("kind", ["line", "email"])
def test_the_registration_form_refuses_control_characters_in_header_fields(app, client, make_event, kind):
    event = make_event()
    cases = [case for case in injections(RegistrationForm) if case[0] in fields_of(RegistrationForm, kind)]
    assert cases
    for field, typed, message in cases:
        assert_refused(client.post(f"/e/{event.slug}/register", data=form(**{field: typed})), field, message)
    assert counts(app) == (0, 0)


@pytest.mark.parametrize("field", fields_of(RegistrationForm, "multiline"))
def test_text_areas_keep_line_breaks_but_refuse_other_control_characters(app, client, make_event, field):
    event = make_event()
    for typed in MULTILINE_REFUSED:
        assert_refused(client.post(f"/e/{event.slug}/register", data=form(**{field: typed})), field, MULTILINE_MESSAGE)
    assert counts(app) == (0, 0)
    response = client.post(f"/e/{event.slug}/register", data=form(**{field: "Vegan\r\nNo nuts,\tplease"}))
    assert response.status_code == 303
    with app.app_context():
        assert getattr(db.session.scalar(select(Registration)), field) == "Vegan\nNo nuts,\tplease"


def test_line_breaks_pasted_at_the_ends_of_a_name_are_trimmed_not_kept(app, client, make_event):
    event = make_event()
    typed = form(given_name="\r\nChunli\r\n", email=" chunli.bai@example.org\r\n")
    assert client.post(f"/e/{event.slug}/register", data=typed).status_code == 303
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        assert (registration.given_name, registration.email) == ("Chunli", "chunli.bai@example.org")


def own_details(**changes) -> dict:
    """What the delegate's edit form sends: the registration form's fields but the email and the consent."""
    values = {name: value for name, value in VALID.items() if name not in ("email", "consent")}
    return {**values, **changes}


def test_the_delegates_own_edit_refuses_control_characters(app, client, make_event, make_registration):
    event = make_event()
    _registration_id, token = make_registration(event)
    cases = injections(OwnDetailsForm)
    assert cases
    for field, typed, message in cases:
        assert_refused(client.post(f"/r/{token}/edit", data=own_details(**{field: typed})), field, message)
    assert counts(app) == (1, 1)  # the registration and its confirmation: no "changed" mail
    with app.app_context():
        assert db.session.scalar(select(Registration)).given_name == "Chunli"


@pytest.mark.parametrize(
    ("form_class", "path"), [(EmailChangeForm, "/r/{token}/email"), (LostLinkForm, "/e/{slug}/lost-link")]
)
def test_the_email_forms_refuse_control_characters(app, client, make_event, make_registration, form_class, path):
    event = make_event()
    _registration_id, token = make_registration(event)
    for field, typed, message in injections(form_class):
        response = client.post(path.format(token=token, slug=event.slug), data={field: typed})
        assert_refused(response, field, message)
    assert counts(app) == (1, 1)  # no mail to confirm a new address, no link sent again


# ---- the organizer's forms


def test_the_event_settings_refuse_control_characters(app, logged_in):
    assert logged_in.post("/organizer/events/new", data=event_form()).status_code == 302
    settings = "/organizer/events/founding-assembly/settings"
    for field, typed, message in injections(EventForm):
        assert_refused(logged_in.post(settings, data=event_form(**{field: typed})), field, message)
    for field in fields_of(EventForm, "multiline"):
        for typed in MULTILINE_REFUSED:
            assert_refused(logged_in.post(settings, data=event_form(**{field: typed})), field, MULTILINE_MESSAGE)
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert (event.title, event.contact_email) == ("Founding Assembly", "chair@example.org")
    assert (
        logged_in.post("/organizer/events/new", data=event_form(title=f"Assembly\r\nBcc: {VICTIM}")).status_code == 200
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_the_organizers_edit_of_a_registration_refuses_control_characters(
    app, logged_in, make_event, make_registration
):
    event = make_event()
    registration_id, _token = make_registration(event)
    edit = f"/organizer/events/{event.slug}/registrations/{registration_id}/edit"
    valid = {name: value for name, value in VALID.items() if name != "consent"} | {"email": "chunli.bai@example.org"}
    for field, typed, message in injections(EditRegistrationForm):
        assert_refused(logged_in.post(edit, data={**valid, field: typed}), field, message)
    assert counts(app) == (1, 1)


# ---- the mail, whatever a row holds


def poison(app, registration_id: int, *, recipient: str | None = None) -> None:
    """Write header-breaking values straight into the rows a mail is made from, around every form and service."""
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE registration SET given_name = :given, family_name = :family, native_name = :native "
                "WHERE id = :id"
            ),
            {
                "given": f"Chunli\r\nBcc: {VICTIM}",
                "family": "Bai\nX-Injected: family",
                "native": "白春礼\r\n\r\n<b>a body</b>",
                "id": registration_id,
            },
        )
        db.session.execute(
            text("UPDATE event SET title = :title, contact_email = :contact"),
            {
                "title": "Ceremony\r\nX-Injected: subject\u2028Cc: " + VICTIM,
                "contact": f"office@example.org\r\nBcc: {VICTIM}",
            },
        )
        if recipient is not None:
            db.session.execute(text("UPDATE outbox_message SET recipient = :recipient"), {"recipient": recipient})
        db.session.commit()


def assert_only_its_own_headers(raw: bytes) -> email.message.EmailMessage:
    """One From, To, Subject and Reply-To; no Bcc, Cc or invented header; To and Reply-To name one address each,
    and neither is the victim's (what an injection wrote is left as text inside a quoted name, on its line)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith((b"bcc:", b"cc:", b"x-injected:")) for line in head.split(b"\r\n"))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    names = [name.lower() for name in message]
    assert not {"bcc", "cc", "x-injected"} & set(names), names
    for name in ("from", "to", "subject", "reply-to"):
        assert names.count(name) == 1, (name, names)
    for name in ("To", "Reply-To"):
        [address] = message[name].addresses
        assert VICTIM not in address.addr_spec
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    return message


def test_a_raw_row_composes_into_a_mail_with_only_its_own_headers(app, make_event, make_registration):
    event = make_event()
    registration_id, _token = make_registration(event)
    poison(app, registration_id)
    with app.app_context():
        raw = compose(db.session.scalar(select(OutboxMessage))).as_bytes()
    message = assert_only_its_own_headers(raw)
    assert message["To"].addresses[0].addr_spec == "chunli.bai@example.org"
    assert message["To"].addresses[0].display_name == f"Prof. Chunli Bcc: {VICTIM} Bai X-Injected: family"
    assert str(message["Subject"]).endswith(f"Ceremony X-Injected: subject Cc: {VICTIM}")  # on one line, as text
    # The ticket's calendar entry is made too (icalendar refuses a line break in an address: it is percent-encoded).
    [calendar] = [part.get_content() for part in message.walk() if part.get_content_type() == "text/calendar"]
    calendar = calendar.decode() if isinstance(calendar, bytes) else calendar
    assert "mailto:office@example.org%0D%0ABcc:%20victim@example.org" in calendar.replace("\r\n ", "")


def test_a_raw_recipient_with_a_line_break_reaches_no_one_else(smtp_app, smtp_server):
    """A recipient column holding a line break and a second address: the mail is refused (by the composer or the
    mail server: it is not a valid address), or sent with that text inside its one To address; never to the
    victim, and never with a Bcc or Cc header."""
    event = create_test_event(smtp_app)
    registration_id, _token = register_test_delegate(smtp_app, event)
    poison(smtp_app, registration_id, recipient=f"chunli.bai@example.org\r\nBcc: {VICTIM}")
    with smtp_app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        try:
            raw = compose(message).as_bytes()
        except ValueError:
            raw = None
        if raw is not None:
            head = raw.split(b"\r\n\r\n", 1)[0]
            assert not any(line.lower().startswith((b"bcc:", b"cc:")) for line in head.split(b"\r\n"))
        deliver_due()
    for envelope in smtp_server.envelopes:
        assert VICTIM not in envelope.rcpt_tos
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        assert not any(line.lower().startswith((b"bcc:", b"cc:")) for line in head.split(b"\r\n"))


def test_a_raw_row_is_delivered_to_its_one_recipient_with_only_its_own_headers(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    registration_id, _token = register_test_delegate(smtp_app, event)
    poison(smtp_app, registration_id)
    with smtp_app.app_context():
        assert deliver_due().sent == 1
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["chunli.bai@example.org"]
    message = assert_only_its_own_headers(envelope.content)
    assert message["To"].addresses[0].addr_spec == "chunli.bai@example.org"
