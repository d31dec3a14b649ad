"""What a visa letter says and how it is printed: its number, its text filled from the event's template (English,
and the optional second language) with the passport data, the verification code, and the PDF rendered from the
content sealed when the letter was issued (so a letter printed again is the letter that was issued)."""

import json
import secrets
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask import render_template, url_for
from flask_babel import force_locale

from ..data_keys import seal, unseal
from ..documents import engine
from ..documents.letter_template import DEFAULT_LETTER_TEMPLATE, LETTER_PLACEHOLDERS
from ..documents.settings import default_prefix, document_settings
from ..extensions import db
from ..geo.countries import country_name
from ..locale_formats import day
from ..models import CHECKIN_ALPHABET, DocumentSettings, Event, Registration, StoredImage, VisaApplication, VisaLetter
from ..placeholders import fill, unknown_placeholders

# 50 bits of Crockford's base 32 (digits, no O, I, L or U): typed from paper, never guessed; a typed O, I or L is
# read as the digit it looks like (lookup.verified_letter).
VERIFY_CODE_LENGTH = 10


def letter_settings(event: Event) -> DocumentSettings:
    """The event's document settings, or an unsaved row of defaults when none are stored."""
    return document_settings(event)


def letter_prefix(event: Event, settings: DocumentSettings) -> str:
    """The numbers' prefix: the one set in the settings, else the event's slug upper-cased and its year."""
    return (settings.letter_prefix or "").strip() or default_prefix(event)


def letter_number(prefix: str, sequence: int) -> str:
    """A letter's number, e.g. ANSO-2027-0042."""
    return f"{prefix}-{sequence:04d}"


def new_verify_code() -> str:
    """A fresh verification code to print on a letter."""
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(VERIFY_CODE_LENGTH))


def templates_of(settings: DocumentSettings) -> list[tuple[str, str]]:
    """(language, template) of each text the letter prints: English first, then the second language if set."""
    texts = [("en", settings.letter_template or DEFAULT_LETTER_TEMPLATE)]
    if settings.second_language and (settings.second_template or "").strip():
        texts.append((settings.second_language, settings.second_template))
    return texts


def unknown_in_templates(settings: DocumentSettings) -> list[str]:
    """The placeholders the letter's templates use that are not in the fixed list."""
    unknown: list[str] = []
    for _language, text in templates_of(settings):
        unknown += [name for name in unknown_placeholders(text, LETTER_PLACEHOLDERS) if name not in unknown]
    return unknown


def is_complete(application: VisaApplication) -> bool:
    """Whether the request holds everything a letter prints (requests from before the form asked are not)."""
    return bool(
        application.passport_name.strip()
        and application.nationality
        and application.passport_number_sealed
        and application.passport_expiry
        and application.birth_date_sealed
        and application.consulate_city.strip()
        and application.arrival
        and application.departure
    )


def _event_dates(event: Event) -> str:
    zone = ZoneInfo(event.timezone)
    first, last = event.starts_at.astimezone(zone).date(), event.ends_at.astimezone(zone).date()
    return day(first, "long") if first == last else f"{day(first, 'long')} – {day(last, 'long')}"


def _values(
    language: str, event: Event, registration: Registration, application: VisaApplication, settings, number, issued
) -> dict[str, str]:
    """The placeholders' values, with dates and the nationality written in `language`."""
    with force_locale(language):
        return {
            "letter_number": number,
            "issue_date": day(issued, "long"),
            "passport_name": application.passport_name,
            "nationality": country_name(application.nationality, language),
            "passport_number": application.passport_number,
            "passport_expiry": day(application.passport_expiry, "long"),
            "birth_date": day(application.birth_date, "long"),
            "institution": registration.institution,
            "position": registration.position,
            "consulate_city": application.consulate_city,
            "arrival": day(application.arrival, "long"),
            "departure": day(application.departure, "long"),
            "event_title": event.title,
            "event_dates": _event_dates(event),
            "venue": event.venue,
            "city": event.city,
            "host_organisation": settings.host_organisation,
            "signatory_name": settings.signatory_name,
            "signatory_title": settings.signatory_title,
        }


def letter_content(
    event: Event,
    registration: Registration,
    application: VisaApplication,
    settings: DocumentSettings,
    number: str,
    code: str,
    issued: date,
) -> dict:
    """Everything the letter prints, fixed at issue: the filled text(s), the letterhead, the code, the number."""
    texts = [
        {
            "language": language,
            "text": fill(text, _values(language, event, registration, application, settings, number, issued)),
        }
        for language, text in templates_of(settings)
    ]
    return {
        "number": number,
        "code": code,
        "issued": issued.isoformat(),
        "texts": texts,
        "passport_number": application.passport_number,
        "birth_date": application.birth_date.isoformat() if application.birth_date else "",
        "letterhead": {
            "host_organisation": settings.host_organisation,
            "address": settings.address,
            "signatory_name": settings.signatory_name,
            "signatory_title": settings.signatory_title,
            "logo_id": settings.logo_id,
            "signature_id": settings.signature_id,
        },
    }


def seal_content(content: dict) -> str:
    """The letter's content as stored: JSON sealed under the data keyring (it holds the passport number)."""
    return seal(json.dumps(content, ensure_ascii=False))


def unseal_content(letter: VisaLetter) -> dict:
    """The content sealed when `letter` was issued."""
    return json.loads(unseal(letter.content_sealed))


@dataclass(frozen=True)
class PrintedText:
    """One language's text of a letter, split into paragraphs for the template."""

    language: str
    paragraphs: list[str]


def verify_url(number: str, code: str) -> str:
    """The absolute address printed on the letter, where a consulate checks it."""
    return url_for("visa_letters.verify", number=number, code=code, _external=True)


def _image_url(image_id: int | None) -> str | None:
    # Replaced images are kept (documents/settings.py), so a letter prints the logo and signature it was issued with;
    # only an image gone with its event is missing, and the letter then prints without it.
    if image_id is None or db.session.get(StoredImage, image_id) is None:
        return None
    return engine.image_url(image_id)


def render_letter(letter: VisaLetter) -> bytes:
    """The letter's PDF, rendered again from the content sealed at issue (needs an app context)."""
    content = unseal_content(letter)
    head = content["letterhead"]
    url = verify_url(content["number"], content["code"])
    texts = [
        PrintedText(text["language"], [paragraph for paragraph in text["text"].split("\n\n") if paragraph.strip()])
        for text in content["texts"]
    ]
    with force_locale("en"):  # the letter's own words are English, as consulates read it, whoever asks for it
        html = render_template(
            "visas/letter.html",
            content=content,
            head=head,
            texts=texts,
            logo_url=_image_url(head.get("logo_id")),
            signature_url=_image_url(head.get("signature_id")),
            css_url=engine.static_url("css/documents.css"),
            qr=engine.qr_data_uri(url),
            verify_url=url,
        )
    return engine.render_pdf(html)
