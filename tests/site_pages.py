"""Every GET page of the app with its arguments filled in from seeded data, and HTML checks that read pages with a
real parser: for the tests that look at all pages at once (escaping, security headers)."""

import io
from dataclasses import dataclass, replace
from datetime import date, timedelta

import lxml.html
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from eventreg.attendees.services import edit_registration
from eventreg.auth.tokens import create_token
from eventreg.delegations.members import JOIN_SALT
from eventreg.delegations.services import save_delegation, set_membership
from eventreg.documents.images import store_image
from eventreg.extensions import db
from eventreg.invitations.importing import preview_import
from eventreg.invitations.services import InviteeDetails, invite
from eventreg.messages.reminders import add_reminder
from eventreg.messages.services import confirm_message, new_idempotency_key, save_draft
from eventreg.messages.texts import MessageTexts
from eventreg.models import DocumentJob, Event, Organizer, OutboxMessage, Registration, VisaApplication, utcnow
from eventreg.registration.self_service import request_email_change
from eventreg.visas.letters import unseal_content
from eventreg.visas.queue import issue_letters
from tests.conftest import create_test_event, delegate, register_test_delegate

# Text fields of a registration that people type (the others are choices, numbers or a code).
TEXT_FIELDS = ("given_name", "family_name", "native_name", "institution", "position", "dietary", "accessibility")
# Attributes whose value a browser follows as a URL.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href", "background", "srcset"}
STATIC_PREFIX = "/static/"
# The seeded delegation's member beside the seeded registration (its focal point).
MEMBER_EMAIL = "member@example.org"


@dataclass(frozen=True)
class Seeded:
    """What the pages' URLs are filled in from: one event with one registration, an organizer and an API token."""

    slug: str
    event_id: int
    registration_id: int
    token: str
    organizer_id: int
    api_token: str
    checkin_code: str
    email_change_key: str
    invitation_id: int
    import_id: int
    delegation_id: int
    member_id: int
    join_key: str
    invitation_token: str
    job_id: int
    image_id: int
    application_id: int
    letter_id: int
    letter_number: str
    verify_code: str
    message_id: int
    reminder_id: int


def seed(app: Flask, organizer_email: str, event_fields: dict | None = None, text: str | None = None) -> Seeded:
    """An event (with `event_fields`) and a registration whose every text field is `text` (when given), written by
    an organizer's edit so the audit log and the "changed" mail hold it too; plus an API token named `text` and
    a change of email address waiting for its confirmation."""
    event = create_test_event(app, **(event_fields or {}))
    registration_id, token = register_test_delegate(app, event)
    with app.app_context():
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == organizer_email))
        if text is not None:
            details = replace(delegate(), **dict.fromkeys(TEXT_FIELDS, text))
            assert edit_registration(event.id, registration_id, details)
        _row, api_token = create_token(organizer, text or "tests")
        code = db.session.get(Registration, registration_id).checkin_code
        request_email_change(registration_id, "new.address@example.org")
        last_mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).one()
        key = last_mail.details["key"]
        # The guest list's pages: an invitation and an import preview with `text` in them, and a delegation that
        # the registration leads (its focal point's section).
        invitation = invite(event.id, InviteeDetails(email="invitee@example.org", given_name=text or "Wei"))
        preview = preview_import(
            event.id, "guests.csv", f"email,given_name\ninvitee2@example.org,{text or 'Li'}\n".encode()
        )
        stored_event = db.session.get(Event, event.id)
        delegation = save_delegation(stored_event, None, text or "Chinese Academy of Sciences", "CN", 3)
        set_membership(stored_event, delegation.id, registration_id, member=True, focal=True)
        member_id, _member_token = register_test_delegate(app, stored_event, email=MEMBER_EMAIL)
        set_membership(stored_event, delegation.id, member_id, member=True, focal=False)
        # An offer to the seeded registration to join another delegation, signed as the join mail's link is.
        other = save_delegation(stored_event, None, "Royal Society", "GB", 2)
        join_key = URLSafeTimedSerializer(app.secret_key, salt=JOIN_SALT).dumps({"r": registration_id, "d": other.id})
        invitation_token = invitation.token
        job_id, image_id = _seed_documents(stored_event, organizer)
        application_id = _seed_visa_request(stored_event, registration_id, text)
        letter = issue_letters(db.session.get(Event, event.id), [application_id], organizer)[0]
        message_id, reminder_id = _seed_messages(db.session.get(Event, event.id), organizer, text)
        return Seeded(
            event.slug,
            event.id,
            registration_id,
            token,
            organizer.id,
            api_token,
            code,
            key,
            invitation.id,
            preview.id,
            delegation.id,
            member_id,
            join_key,
            invitation_token,
            job_id,
            image_id,
            application_id,
            letter.id,
            letter.number,
            unseal_content(letter)["code"],
            message_id,
            reminder_id,
        )


def _seed_messages(event: Event, organizer: Organizer, text: str | None) -> tuple[int, int]:
    """A message sent to the event's delegates and a reminder before it starts, with `text` in what they say."""
    texts = MessageTexts(
        subject=" ".join((text or "Shuttle times").split()),
        body=f"Dear {{given_name}},\n\n{text or 'The shuttle leaves at 8:00.'}",
        versions={"fr": ("Navettes", f"{text or 'La navette part à 8 h.'}")},
    )
    message = save_draft(event, texts, {"filter": {}}, new_idempotency_key(), organizer)
    confirm_message(event.id, message.id, organizer)
    reminder = add_reminder(db.session.get(Event, event.id), 7, texts, None, organizer)
    return message.id, reminder.id


def _seed_documents(event: Event, organizer: Organizer) -> tuple[int, int]:
    """A finished print run of the event and a letterhead logo: the documents' pages have rows to show."""
    job = DocumentJob(
        event_id=event.id,
        kind="badges",
        params={},
        state="done",
        done=1,
        total=1,
        filename="badges.pdf",
        content=b"%PDF-1.4\n%%EOF\n",
        size=15,
        created_by_id=organizer.id,
        expires_at=utcnow() + timedelta(days=1),
    )
    png = io.BytesIO()
    Image.new("RGB", (40, 20), "#1f5fa8").save(png, format="PNG")
    png.seek(0)
    image = store_image(event, "logo", FileStorage(png, filename="logo.png", content_type="image/png"))
    db.session.add(job)
    db.session.commit()
    return job.id, image.id


def _seed_visa_request(event: Event, registration_id: int, text: str | None) -> int:
    """The registration's request for a visa letter, complete, with `text` in what people type."""
    registration = db.session.get(Registration, registration_id)
    registration.visa_letter = True
    start = event.starts_at.date()
    application = VisaApplication(
        registration_id=registration_id,
        event_id=event.id,
        passport_name=text or "WANG XIAOMING",
        nationality="CN",
        passport_expiry=start + timedelta(days=900),
        consulate_city=text or "Paris",
        arrival=start - timedelta(days=1),
        departure=start + timedelta(days=3),
    )
    application.passport_number = "E12345678"
    application.birth_date = date(1970, 5, 17)
    db.session.add(application)
    db.session.commit()
    return application.id


def page_urls(app: Flask, seeded: Seeded, query: str = "x") -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET route, `query` in the search and filter parameters that pages echo back."""
    values = {
        "slug": seeded.slug,
        "registration_id": seeded.registration_id,
        "organizer_id": seeded.organizer_id,
        "token": seeded.token,
        "filename": "css/site.css",
        "code": "fr",  # the language switcher's /language/<code>
        "invitation_id": seeded.invitation_id,
        "import_id": seeded.import_id,
        "delegation_id": seeded.delegation_id,
        "member_id": seeded.member_id,
        "key": seeded.join_key,  # a delegation's join offer
        "job_id": seeded.job_id,
        "image_id": seeded.image_id,
        "application_id": seeded.application_id,
        "letter_id": seeded.letter_id,
        "number": seeded.letter_number,
        "message_id": seeded.message_id,
        "reminder_id": seeded.reminder_id,
    }
    query_strings = {
        "attendees.list_registrations": {"q": query},
        "checkin.desk": {"q": query},
        "checkin_json.lookup": {"code": seeded.checkin_code},
        "admin.audit": {"event": seeded.slug},
        "self_service.confirm_new_email": {"key": seeded.email_change_key},
        "flags.static": {"filename": "cn.svg"},  # the flag pictures (eventreg/geo/flags.py)
    }
    urls = []
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            arguments = {name: values[name] for name in rule.arguments} | query_strings.get(rule.endpoint, {})
            if rule.endpoint.startswith("invitation."):  # the invitee's pages: the invitation's own link
                arguments["token"] = seeded.invitation_token
            if rule.endpoint == "visa_letters.verify":  # the code printed on the seeded letter
                arguments["code"] = seeded.verify_code
            urls.append((rule.endpoint, adapter.build(rule.endpoint, arguments)))
    return sorted(urls)


def fetch(client, endpoint: str, url: str, seeded: Seeded):
    """GET a page as a browser would, or with the API token for the API."""
    headers = {"Authorization": f"Bearer {seeded.api_token}"} if endpoint.startswith("api.") else {}
    response = client.get(url, headers=headers)
    response.get_data()  # read a streamed body (static files, exports) and close it
    response.close()
    return response


def parse(html: str):
    """The page as a browser builds it (lxml's HTML parser: attributes and elements as they end up, not substrings)."""
    return lxml.html.document_fromstring(html)


def elements(document):
    """Every element of a parsed page (comments and processing instructions left out)."""
    return [element for element in document.iter() if isinstance(element.tag, str)]


def active_content(document) -> list[str]:
    """What in the page would run script: script elements other than our own files, event handler attributes,
    javascript: (or vbscript:/data:text/html) URLs, and inline frames/objects. Empty for an inert page."""
    found = []
    for element in elements(document):
        tag = element.tag.lower()
        if tag == "script" and not (element.get("src", "").startswith(STATIC_PREFIX) and not element.text):
            found.append(f"<script> {lxml.html.tostring(element, encoding=str)[:80]}")
        if tag in {"iframe", "frame", "object", "embed", "base"}:
            found.append(f"<{tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"<{tag} {name}={value!r}>")
            scheme = "".join(value.split()).lower()
            if name.lower() in URL_ATTRIBUTES and scheme.startswith(("javascript:", "vbscript:", "data:text/html")):
                found.append(f"<{tag} {name}={value!r}>")
        if tag == "meta" and element.get("http-equiv", "").lower() == "refresh":
            found.append("<meta http-equiv=refresh>")
    return found


def inline_styles_and_scripts(document) -> list[str]:
    """What a Content-Security-Policy without 'unsafe-inline' would block: inline <script> and <style> blocks,
    event handler attributes, style attributes and javascript: URLs."""
    found = [problem for problem in active_content(document) if not problem.startswith("<iframe")]
    for element in elements(document):
        if element.tag.lower() == "style":
            found.append("<style> block")
        if "style" in element.attrib:
            found.append(f"<{element.tag} style={element.get('style')!r}>")
    return found


def shown_text(document) -> str:
    """Everything a reader can see or edit on the page: its text and the values of its fields."""
    values = [element.get("value", "") for element in elements(document) if element.tag.lower() == "input"]
    return "\n".join([document.text_content(), *values])
