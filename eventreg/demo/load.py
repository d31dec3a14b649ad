"""Demo data: an inaugural ceremony with 700 fictitious delegates from many countries (national academies'
delegations among them), a forum by invitation with its invitation list in every status, and an organizer."""

import itertools
import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from slugify import slugify
from sqlalchemy import delete, func, select

from ..auth.services import create_organizer, find_organizer
from ..events.services import create_event
from ..extensions import db
from ..geo.countries import country_name
from ..models import Event, EventCategory, Registration, Status, utcnow
from .documents import load_documents
from .guests import add_delegations, load_forum
from .messages import load_messages
from .people import CATEGORIES, COUNTRIES, INSTITUTIONS, NAMES, POSITIONS

DEMO_ORGANIZER = "organizer@example.org"
DELEGATES = 700


class DemoExists(Exception):
    """The database already holds events, and the caller asked to load the demo only into an empty one."""


@dataclass
class DemoResult:
    """What the demo created, and how to log in."""

    event: Event
    delegates: int
    forum: Event
    email: str
    password: str
    saved_to: Path
    invitations_file: Path


def load_demo(if_empty: bool = False, delegates: int = DELEGATES, seed: int = 2027) -> DemoResult:
    """Create the demo ceremony with `delegates` registrations (the delegations' among them; no mails queued),
    the forum by invitation with its invitations (their mails recorded as sent, see guests.py), and an organizer
    whose password is saved."""
    if if_empty and db.session.scalar(select(func.count()).select_from(Event)):
        raise DemoExists(_("The database holds events already; demo data not loaded."))
    rng = random.Random(seed)
    now = utcnow()
    starts = (now + timedelta(days=28)).replace(hour=1, minute=30, second=0, microsecond=0)  # 09:30 in Beijing
    event = create_event(
        title="Inaugural Ceremony",
        description=(
            "The inaugural ceremony of an international alliance of science academies and research "
            "institutes, with representatives from more than forty countries and regions."
        ),
        venue="China National Convention Center",
        city="Beijing",
        timezone="Asia/Shanghai",
        starts_at=starts,
        ends_at=starts + timedelta(hours=4),
        capacity=1000,
        registration_opens_at=now - timedelta(days=21),
        registration_closes_at=starts - timedelta(days=2),
        contact_email="secretariat@example.org",
    )
    try:
        numbers = itertools.count(1)
        members = add_delegations(event, lambda country: _delegate(rng, event, next(numbers), now, country))
        db.session.add_all(members)
        db.session.add_all(_delegate(rng, event, next(numbers), now) for _ in range(delegates - len(members)))
        db.session.commit()
    except Exception:
        # Leave no empty demo event behind: `demo --if-empty` would never try again.
        db.session.rollback()
        db.session.execute(delete(EventCategory).where(EventCategory.event_id == event.id))
        db.session.delete(db.session.get(Event, event.id))
        db.session.commit()
        raise
    password = secrets.token_urlsafe(12)
    organizer = find_organizer(DEMO_ORGANIZER)
    if organizer is None:
        create_organizer(DEMO_ORGANIZER, password, role="admin")
    else:
        organizer.set_password(password)
        db.session.commit()
    saved_to = Path(current_app.instance_path) / "demo-organizer.txt"
    saved_to.write_text(f"{DEMO_ORGANIZER}\n{password}\n")
    saved_to.chmod(0o600)
    # Last: should it fail, the ceremony and the login above are there already.
    forum, invitations_file = load_forum(event, current_app.instance_path)
    load_documents(event)  # the letterhead, visa requests and letters (demo/documents.py)
    load_messages(event, find_organizer(DEMO_ORGANIZER))  # a sent message and two reminders (demo/messages.py)
    return DemoResult(event, delegates, forum, DEMO_ORGANIZER, password, saved_to, invitations_file)


def _delegate(rng: random.Random, event: Event, number: int, now, country: str | None = None) -> Registration:
    """A fictitious delegate of `event` (from `country`, else one drawn by weight), registered in the last weeks."""
    code, script, _ = rng.choices(COUNTRIES, weights=[weight for *_, weight in COUNTRIES])[0]
    if country is not None:
        code, script = country, next(script for known, script, _ in COUNTRIES if known == country)
    given_names, family_names = NAMES[script]
    given, given_native = rng.choice(given_names)
    family, family_native = rng.choice(family_names)
    native = ""
    if given_native:
        native = (
            f"{family_native}{given_native}" if script in {"han", "ja", "ko"} else f"{given_native} {family_native}"
        )
    institution = rng.choice(INSTITUTIONS).format(country=country_name(code))
    email = f"{slugify(f'{given} {family}', separator='.') or 'delegate'}.{number}@example.org"
    # More registrations arrive as the ceremony nears; none in the future.
    created = now - timedelta(days=21 * rng.random() ** 1.6, minutes=rng.randrange(1, 600))
    status = Status.CANCELLED if rng.random() < 0.03 else Status.CONFIRMED
    category = rng.choices([c for c, _ in CATEGORIES], weights=[w for _, w in CATEGORIES])[0]
    return Registration(
        event_id=event.id,
        honorific=rng.choice(("Prof.", "Prof.", "Dr.", "Dr.", "")),  # titles that do not presume a gender
        given_name=given,
        family_name=family,
        native_name=native,
        email=email,
        institution=institution,
        position=rng.choice(POSITIONS),
        country=code,
        category=category,
        accompanying=rng.choices((0, 1, 2), weights=(85, 12, 3))[0],
        dietary=rng.choice(("", "", "", "", "Vegetarian", "Halal", "No pork", "Gluten-free")),
        accessibility=rng.choice(("",) * 12 + ("Wheelchair access",)),
        visa_letter=rng.random() < 0.25,
        consent_at=created,
        status=status,
        language="en",
        created_at=created,
        updated_at=created,
    )
