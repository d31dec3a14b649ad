"""The demo's documents: the ceremony's letterhead (a logo and a signature drawn with Pillow here, no file to ship,
no network), the visa requests of the delegates who ticked "I need a visa letter", and letters issued to some of
them (one replaced by a newer letter, one withdrawn), so the visa queue, the verification page and the badges can
be tried at once. Letters are issued as organizers issue them (visas/queue.py); their mails are recorded as sent,
as the demo's other mails are, and nothing goes out."""

import io
import random
from datetime import date, timedelta

from flask_babel import force_locale
from PIL import Image, ImageDraw
from sqlalchemy import select

from ..documents.images import reencoded
from ..documents.letter_template import DEFAULT_LETTER_TEMPLATE
from ..documents.settings import default_prefix, prefix_taken
from ..extensions import db
from ..mail.queue import SUBJECTS
from ..mail.retry import record_sent
from ..models import (
    DocumentSettings,
    Event,
    OutboxMessage,
    OutboxState,
    Registration,
    Status,
    StoredImage,
    VisaApplication,
    VisaState,
    utcnow,
)
from ..visas.mails import VISA_LETTER
from ..visas.queue import issue_letters, withdraw_letter

LETTERS_ISSUED = 24
# The second language on the demo's letters: a short Chinese text with the same placeholders.
CHINESE_TEMPLATE = """致{consulate_city}大使馆或领事馆签证处

邀请函编号 {letter_number}，签发日期 {issue_date}

{host_organisation}诚挚邀请{institution}{position}{passport_name}（{nationality}国籍，护照号码\
{passport_number}）出席于{event_dates}在{city}{venue}举行的{event_title}。

{passport_name}计划于{arrival}抵达，{departure}离开。恳请贵馆惠予办理签证。

{signatory_name}
{signatory_title}"""


def _png(draw_on, size) -> StoredImage:
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    draw_on(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data, content_type, width, height = reencoded(buffer.getvalue())
    return StoredImage(content_type=content_type, data=data, width=width, height=height)


def _logo(draw: ImageDraw.ImageDraw) -> None:
    """An emblem: a blue ring around three orbits."""
    draw.ellipse((8, 8, 232, 232), outline=(31, 95, 168, 255), width=14)
    for box in ((50, 95, 190, 145), (95, 50, 145, 190), (62, 62, 178, 178)):
        draw.ellipse(box, outline=(31, 95, 168, 255), width=6)
    draw.ellipse((108, 108, 132, 132), fill=(200, 40, 40, 255))


def _signature(draw: ImageDraw.ImageDraw) -> None:
    """A pen stroke, as a scanned signature would look."""
    points = [(10 + x, 60 + int(25 * ((x / 37) % 2 - 1) * (1 if x % 74 < 37 else -1))) for x in range(0, 380, 6)]
    draw.line(points, fill=(20, 30, 90, 255), width=5, joint="curve")


def add_letterhead(event: Event) -> DocumentSettings:
    """The ceremony's document settings: host, address, signatory, logo, signature, letters in English and
    Chinese (caller commits)."""
    logo = _png(_logo, (240, 240))
    signature = _png(_signature, (400, 120))
    for image, purpose in ((logo, "logo"), (signature, "signature")):
        image.event_id, image.purpose = event.id, purpose
        db.session.add(image)
    db.session.flush()
    settings = DocumentSettings(
        event_id=event.id,
        host_organisation="Alliance of International Science Organizations",
        address="Secretariat\n52 Sanlihe Road, Xicheng District\nBeijing 100864, China",
        signatory_name="Prof. Li Wenhua",
        signatory_title="Secretary General",
        logo_id=logo.id,
        signature_id=signature.id,
        letter_prefix=demo_prefix(event),
        letter_template=DEFAULT_LETTER_TEMPLATE,
        second_language="zh_Hans",
        second_template=CHINESE_TEMPLATE,
    )
    db.session.add(settings)
    return settings


def demo_prefix(event: Event) -> str:
    """ANSO-<year>, as the alliance numbers its letters, unless an earlier demo ceremony took it: then the event's
    own default (its slug and year), which no other event has."""
    prefix = f"ANSO-{event.starts_at.year}"
    return default_prefix(event) if prefix_taken(event.id, prefix) else prefix


def add_visa_requests(event: Event, rng: random.Random) -> list[int]:
    """A complete visa request for each confirmed delegate who asked for a letter; their ids (caller commits)."""
    first_day = event.local(event.starts_at).date()
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.visa_letter.is_(True))
        .where(Registration.status == Status.CONFIRMED)
        .order_by(Registration.id)
    ).all()
    applications = []
    for registration in registrations:
        application = VisaApplication(
            registration_id=registration.id,
            event_id=event.id,
            passport_name=f"{registration.family_name.upper()} {registration.given_name}",
            nationality=registration.country,
            passport_expiry=first_day + timedelta(days=rng.randrange(400, 3000)),
            consulate_city=rng.choice(("Nairobi", "Islamabad", "Moscow", "Bangkok", "Cairo", "Lima", "Dhaka")),
            arrival=first_day - timedelta(days=rng.choice((1, 2, 3))),
            departure=first_day + timedelta(days=rng.choice((2, 3, 5))),
            state=VisaState.PENDING,
        )
        application.passport_number = f"{rng.choice('ABEGKPX')}{rng.randrange(10**7, 10**8)}"
        application.birth_date = date(rng.randrange(1950, 1992), rng.randrange(1, 13), rng.randrange(1, 29))
        applications.append(application)
    db.session.add_all(applications)
    db.session.flush()
    return [application.id for application in applications]


def _record_letter_mails(event: Event) -> None:
    """Record the letters' queued mails as sent, as the demo's other mails are: nothing goes out, and no PDF is
    rendered while the demo loads (the worker renders one when a mail is really sent)."""
    messages = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == VISA_LETTER,
            OutboxMessage.state == OutboxState.QUEUED,
            OutboxMessage.registration_id.in_(select(Registration.id).where(Registration.event_id == event.id)),
        )
    ).all()
    for message in messages:
        started = utcnow()
        with force_locale("en"):
            message.subject = SUBJECTS[VISA_LETTER](event.title, Status.CONFIRMED)[:300]
        message.state = OutboxState.SENT
        message.sent_at = utcnow()
        record_sent(message, started)


def load_documents(event: Event, seed: int = 2027) -> None:
    """Give the demo ceremony its letterhead, visa requests and issued letters: most valid, one replaced by a newer
    letter, one withdrawn; the rest of the requests wait in the queue."""
    rng = random.Random(seed)
    add_letterhead(event)
    application_ids = add_visa_requests(event, rng)
    db.session.commit()
    if not application_ids:
        return
    issued = issue_letters(event, application_ids[:LETTERS_ISSUED], organizer=None)
    if len(issued) >= 2:
        # A delegate's letter issued again (an organizer re-issues it while it is valid, its request put back in the
        # queue): the first one reads "replaced".
        db.session.get(VisaApplication, application_ids[0]).state = VisaState.PENDING
        db.session.commit()
        issue_letters(event, [application_ids[0]], organizer=None)
        withdraw_letter(event, issued[1].id, organizer=None)
    _record_letter_mails(event)
    db.session.commit()
