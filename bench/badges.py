"""Badges for a long run: 1,000 (and 5,000) mixed-script badges on the A6 layout, from real rows in a database of
their own; wall time and peak memory of the process that renders them.

    .venv/bin/python -m bench.badges [--counts 1000 5000] [--database-url URL]

Each run happens in a fresh subprocess, so its peak resident memory (ru_maxrss) is the run's alone: the app, fonts,
WeasyPrint's layout of one chunk (documents.badges.CHUNK_BADGES badges) and the joined PDF. Target (issue 18):
1,000 badges under 20 s and 400 MB on the 2-core machine; 5,000 shows that chunking keeps memory flat.
"""

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import Event, Registration, Status, utcnow

from .common import make_app, titled_bench_event

TITLE = "Inaugural Ceremony of the Alliance of International Science Organizations"
DEFAULT_DATABASE_URL = f"sqlite:///{Path(tempfile.gettempdir()) / 'eventreg-bench' / 'badges.sqlite'}"

# (given, family, native, institution, country, language): every script the ceremony's delegates write in.
PEOPLE = (
    ("José", "Muñoz Álvarez", "", "Universidad Nacional Autónoma de México", "MX", "es"),
    ("Zoë", "Brontë-Dvořák", "", "Université Paris-Saclay, Laboratoire de Physique", "FR", "fr"),
    ("Chunli", "Bai", "白春礼", "中国科学院", "CN", "zh_Hans"),
    ("Xiaoming", "Zhang", "张晓明", "清华大学 材料科学与工程学院", "CN", "zh_Hans"),
    ("محمد", "العلي", "", "جامعة القاهرة، كلية العلوم", "EG", "ar"),
    ("فاطمة", "الزهراء", "", "جامعة الملك سعود", "SA", "ar"),
    ("Дмитрий", "Иванов", "", "Российская академия наук, Институт физики", "RU", "ru"),
    ("Наталья", "Смирнова-Кузнецова", "", "Московский государственный университет", "RU", "ru"),
    ("สมชาย", "ใจดี", "", "จุฬาลงกรณ์มหาวิทยาลัย", "TH", "en"),
    ("Priya", "Sharma", "प्रिया शर्मा", "भारतीय विज्ञान संस्थान", "IN", "en"),
    (
        "Maximiliane Theodora",
        "von Hohenzollern-Sigmaringen",
        "",
        "Max-Planck-Institut für Festkörperforschung",
        "DE",
        "en",
    ),
    ("Nguyễn", "Thị Minh Khai", "", "Viện Hàn lâm Khoa học và Công nghệ Việt Nam", "VN", "en"),
)


def seed(database_url: str, count: int) -> None:
    """The bench event with at least `count` confirmed registrations, written once."""
    app = make_app(database_url)
    with app.app_context():
        event_id, have = titled_bench_event(TITLE)
        people = itertools.cycle(PEOPLE)
        for number in range(have, count):
            given, family, native, institution, country, language = next(people)
            db.session.add(
                Registration(
                    event_id=event_id,
                    honorific="Prof." if number % 3 == 0 else "",
                    given_name=given,
                    family_name=family,
                    native_name=native,
                    email=f"delegate{number}@example.org",
                    institution=institution,
                    country=country,
                    category=("delegate", "observer", "speaker")[number % 3],
                    consent_at=utcnow(),
                    status=Status.CONFIRMED,
                    language=language,
                )
            )
            if number % 500 == 499:
                db.session.commit()
        db.session.commit()


def render(database_url: str, count: int, output: Path) -> dict:
    """Render the first `count` badges (this is the subprocess) and report time and peak memory."""
    from eventreg.documents.badges import CHUNK_BADGES, badge_pdf

    app = make_app(database_url)
    with app.app_context(), app.test_request_context():
        event = db.session.scalar(select(Event).where(Event.title == TITLE))
        query = select(Registration).where(Registration.event_id == event.id).order_by(Registration.id).limit(count)
        started = time.perf_counter()
        pdf = badge_pdf(event, db.session.scalars(query.execution_options(yield_per=CHUNK_BADGES)), layout="a6")
        seconds = time.perf_counter() - started
    output.write_bytes(pdf)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return {"badges": count, "seconds": round(seconds, 1), "peak_mb": round(peak), "pdf_mb": round(len(pdf) / 2**20, 1)}


def main() -> None:
    """Seed once, then render each count in its own process and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--render", type=int, help=argparse.SUPPRESS)  # the subprocess's own run
    parser.add_argument("--output", type=Path, default=Path(tempfile.gettempdir()) / "eventreg-bench" / "badges.pdf")
    args = parser.parse_args()
    if args.render:
        print(json.dumps(render(args.database_url, args.render, args.output)))
        return
    seed(args.database_url, max(args.counts))
    for count in args.counts:
        command = [sys.executable, "-m", "bench.badges", "--database-url", args.database_url, "--render", str(count)]
        result = json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout.splitlines()[-1])
        figures = f"{result['seconds']} s, peak {result['peak_mb']} MB, PDF {result['pdf_mb']} MB"
        print(f"{result['badges']:>6} badges on A6: {figures}")


if __name__ == "__main__":
    main()
