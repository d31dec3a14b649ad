"""Demo data: an inaugural ceremony with 700 fictitious delegates from many countries, and an organizer."""

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from slugify import slugify
from sqlalchemy import func, select

from ..auth.services import create_organizer, find_organizer
from ..events.services import create_event
from ..extensions import db
from ..geo.countries import country_name
from ..models import Category, Event, Registration, Status, utcnow

DEMO_ORGANIZER = "organizer@example.org"
DELEGATES = 700

# Fictitious names per writing system: (Latin spelling, native spelling or "" when the Latin one is native).
_NAMES = {
    "han": (
        [
            ("Wei", "伟"),
            ("Fang", "芳"),
            ("Na", "娜"),
            ("Min", "敏"),
            ("Jing", "静"),
            ("Lei", "磊"),
            ("Tao", "涛"),
            ("Xiaoming", "晓明"),
            ("Haiyan", "海燕"),
            ("Zhiqiang", "志强"),
            ("Chunli", "春丽"),
            ("Yu", "宇"),
        ],
        [
            ("Wang", "王"),
            ("Li", "李"),
            ("Zhang", "张"),
            ("Liu", "刘"),
            ("Chen", "陈"),
            ("Yang", "杨"),
            ("Huang", "黄"),
            ("Zhao", "赵"),
            ("Zhou", "周"),
            ("Wu", "吴"),
            ("Xu", "徐"),
            ("Sun", "孙"),
        ],
    ),
    "ja": (
        [("Taro", "太郎"), ("Hanako", "花子"), ("Ken", "健"), ("Misaki", "美咲"), ("Hiroshi", "浩"), ("Yuki", "由紀")],
        [("Sato", "佐藤"), ("Suzuki", "鈴木"), ("Takahashi", "高橋"), ("Tanaka", "田中"), ("Watanabe", "渡辺")],
    ),
    "ko": (
        [("Min-jun", "민준"), ("Seo-yeon", "서연"), ("Ji-hoon", "지훈"), ("Ha-eun", "하은"), ("Do-yun", "도윤")],
        [("Kim", "김"), ("Lee", "이"), ("Park", "박"), ("Choi", "최"), ("Jung", "정")],
    ),
    "ar": (
        [("Mohammed", "محمد"), ("Fatima", "فاطمة"), ("Omar", "عمر"), ("Layla", "ليلى"), ("Youssef", "يوسف")],
        [("Al-Hassan", "الحسن"), ("Mansour", "منصور"), ("Haddad", "حداد"), ("Nasser", "ناصر"), ("Saleh", "صالح")],
    ),
    "hi": (
        [("Anil", "अनिल"), ("Priya", "प्रिया"), ("Rahul", "राहुल"), ("Sunita", "सुनीता"), ("Vikram", "विक्रम")],
        [("Sharma", "शर्मा"), ("Patel", "पटेल"), ("Gupta", "गुप्ता"), ("Singh", "सिंह"), ("Iyer", "अय्यर")],
    ),
    "cyrillic": (
        [("Иван", ""), ("Ольга", ""), ("Дмитрий", ""), ("Наталья", ""), ("Сергей", ""), ("Анна", "")],
        [("Петров", ""), ("Смирнова", ""), ("Кузнецов", ""), ("Попова", ""), ("Соколов", ""), ("Волкова", "")],
    ),
    "greek": (
        [("Γιώργος", ""), ("Μαρία", ""), ("Νίκος", ""), ("Ελένη", "")],
        [("Παπαδόπουλος", ""), ("Νικολάου", ""), ("Οικονόμου", ""), ("Γεωργίου", "")],
    ),
    "latin": (
        [
            ("José", ""),
            ("François", ""),
            ("Zoë", ""),
            ("Łukasz", ""),
            ("Søren", ""),
            ("Ana", ""),
            ("Björn", ""),
            ("Inês", ""),
            ("Miguel", ""),
            ("Chloé", ""),
            ("Jürgen", ""),
            ("Ayşe", ""),
            ("Thandiwe", ""),
            ("Ngozi", ""),
            ("Emily", ""),
            ("David", ""),
            ("Sofía", ""),
            ("Mateus", ""),
            ("Aigerim", ""),
            ("Minh", ""),
        ],
        [
            ("García", ""),
            ("Müller", ""),
            ("Dubois", ""),
            ("Nowak", ""),
            ("Silva", ""),
            ("Rossi", ""),
            ("Jensen", ""),
            ("Kovač", ""),
            ("Öztürk", ""),
            ("Nguyễn", ""),
            ("Smith", ""),
            ("Okafor", ""),
            ("Dvořák", ""),
            ("Lindqvist", ""),
            ("Fernández", ""),
            ("Mbeki", ""),
            ("O'Brien", ""),
            ("Van der Berg", ""),
        ],
    ),
}

# Countries and regions of the demo: (alpha-2 code, writing system of its names, weight).
_COUNTRIES = [
    ("CN", "han", 120),
    ("TW", "han", 8),
    ("HK", "han", 8),
    ("MO", "han", 3),
    ("SG", "han", 6),
    ("JP", "ja", 30),
    ("KR", "ko", 25),
    ("RU", "cyrillic", 25),
    ("KZ", "cyrillic", 6),
    ("UA", "cyrillic", 8),
    ("BY", "cyrillic", 3),
    ("IN", "hi", 30),
    ("SA", "ar", 8),
    ("EG", "ar", 10),
    ("AE", "ar", 6),
    ("MA", "ar", 5),
    ("JO", "ar", 4),
    ("GR", "greek", 8),
    ("CY", "greek", 3),
    ("US", "latin", 35),
    ("GB", "latin", 20),
    ("FR", "latin", 20),
    ("DE", "latin", 22),
    ("IT", "latin", 14),
    ("ES", "latin", 12),
    ("PT", "latin", 6),
    ("BR", "latin", 16),
    ("MX", "latin", 10),
    ("AR", "latin", 8),
    ("CL", "latin", 7),
    ("PL", "latin", 9),
    ("CZ", "latin", 6),
    ("SE", "latin", 7),
    ("NO", "latin", 5),
    ("DK", "latin", 5),
    ("FI", "latin", 5),
    ("NL", "latin", 9),
    ("BE", "latin", 6),
    ("CH", "latin", 8),
    ("AT", "latin", 6),
    ("CA", "latin", 12),
    ("AU", "latin", 11),
    ("NZ", "latin", 4),
    ("ZA", "latin", 9),
    ("NG", "latin", 8),
    ("KE", "latin", 6),
    ("ET", "latin", 4),
    ("TR", "latin", 9),
    ("VN", "latin", 7),
    ("TH", "latin", 6),
    ("ID", "latin", 7),
    ("MY", "latin", 6),
    ("PK", "latin", 7),
    ("BD", "latin", 6),
    ("HU", "latin", 5),
    ("RO", "latin", 5),
    ("BO", "latin", 3),
    ("CI", "latin", 3),
    ("VE", "latin", 3),
    ("IR", "latin", 6),
    ("HR", "latin", 3),
    ("SI", "latin", 2),
]

_INSTITUTIONS = (
    "National Academy of Sciences, {country}",
    "National Research Council, {country}",
    "Institute of Advanced Studies, {country}",
    "National University, Faculty of Science, {country}",
    "Association for the Advancement of Science, {country}",
)

_CATEGORIES = [
    (Category.DELEGATE, 70),
    (Category.OBSERVER, 10),
    (Category.SPEAKER, 6),
    (Category.PRESS, 7),
    (Category.GUEST, 7),
]
_POSITIONS = ("President", "Vice-President", "Director", "Professor", "Senior Researcher", "Secretary General", "")


class DemoExists(Exception):
    """The database already holds events, and the caller asked to load the demo only into an empty one."""


@dataclass
class DemoResult:
    """What the demo created, and how to log in."""

    event: Event
    delegates: int
    email: str
    password: str
    saved_to: Path


def load_demo(if_empty: bool = False, delegates: int = DELEGATES, seed: int = 2027) -> DemoResult:
    """Create the demo event, its delegates (no mails queued) and an organizer whose password is saved."""
    if if_empty and db.session.scalar(select(func.count()).select_from(Event)):
        raise DemoExists("The database holds events already; demo data not loaded.")
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
        db.session.add_all(_delegate(rng, event, number, now) for number in range(1, delegates + 1))
        db.session.commit()
    except Exception:
        # Leave no empty demo event behind: `demo --if-empty` would never try again.
        db.session.rollback()
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
    return DemoResult(event, delegates, DEMO_ORGANIZER, password, saved_to)


def _delegate(rng: random.Random, event: Event, number: int, now) -> Registration:
    code, script, _ = rng.choices(_COUNTRIES, weights=[weight for *_, weight in _COUNTRIES])[0]
    given_names, family_names = _NAMES[script]
    given, given_native = rng.choice(given_names)
    family, family_native = rng.choice(family_names)
    native = ""
    if given_native:
        native = (
            f"{family_native}{given_native}" if script in {"han", "ja", "ko"} else f"{given_native} {family_native}"
        )
    institution = rng.choice(_INSTITUTIONS).format(country=country_name(code))
    email = f"{slugify(f'{given} {family}', separator='.') or 'delegate'}.{number}@example.org"
    # More registrations arrive as the ceremony nears; none in the future.
    created = now - timedelta(days=21 * rng.random() ** 1.6, minutes=rng.randrange(1, 600))
    status = Status.CANCELLED if rng.random() < 0.03 else Status.CONFIRMED
    category = rng.choices([c for c, _ in _CATEGORIES], weights=[w for _, w in _CATEGORIES])[0]
    return Registration(
        event_id=event.id,
        honorific=rng.choice(("Prof.", "Prof.", "Dr.", "Dr.", "")),  # titles that do not presume a gender
        given_name=given,
        family_name=family,
        native_name=native,
        email=email,
        institution=institution,
        position=rng.choice(_POSITIONS),
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
