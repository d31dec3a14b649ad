"""Time an import of 5,000 invitations, preview and confirmation, through the organizer's pages (issue 17: under
10 s on SQLite and on PostgreSQL on a 2-core machine).

    .venv/bin/python -m bench.invitation_import [--database-url URL] [--rows 5000] [--format csv|xlsx] [--reset]

Each run creates a new event (with the five default categories) on the database, builds a file of `rows` invitees
(names, institutions, countries written as codes, English, French and Chinese names, categories, languages such as
zh-CN, 50 delegations, and 1 % of rows refused), uploads it through the import page, confirms the preview, then
imports the same file again (every row an update). --reset drops and creates every table first: only for a
throwaway database.
"""

import argparse
import csv
import io
import random
import time

from openpyxl import Workbook

from eventreg.auth.services import create_organizer
from eventreg.events.services import create_event
from eventreg.extensions import db
from eventreg.models import Invitation, utcnow

from .common import ADMIN_EMAIL, ADMIN_PASSWORD, database_argument, environment, logged_in_client, make_app

HEADER = ["Email", "Honorific", "Given name", "Family name", "Institution", "Position", "Country", "Category",
          "Language", "Delegation"]  # fmt: skip
COUNTRIES = ["CN", "France", "Allemagne", "中国", "Brazil", "ru", "Japon", "India", "Kenya", "Égypte"]
CATEGORIES = ["delegate", "Observer", "speaker", "Press"]
LANGUAGES = ["en", "zh-CN", "fr", "es", "ru", "ar-EG", ""]


def invitees(rows: int) -> list[list[str]]:
    """The file's rows: varied, reproducible, one in a hundred refused (an address without @)."""
    pick = random.Random(17)
    table = []
    for n in range(rows):
        email = f"invitee{n}@institute{n % 300}.example.org" if n % 100 else f"invitee{n}.example.org"
        table.append([
            email, pick.choice(["Prof.", "Dr.", ""]), f"Given{n}", f"Family{n}", f"Institute {n % 300}",
            "Member", pick.choice(COUNTRIES), pick.choice(CATEGORIES), pick.choice(LANGUAGES),
            f"Academy {n % 50}" if n % 4 else "",
        ])  # fmt: skip
    return table


def file_bytes(rows: list[list[str]], file_format: str) -> bytes:
    """The rows as a CSV or XLSX file, with its header."""
    if file_format == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def timed_import(client, slug: str, filename: str, data: bytes) -> tuple[float, float, str]:
    """Upload, then confirm: the seconds of each, and the message the list shows after."""
    started = time.perf_counter()
    response = client.post(
        f"/organizer/events/{slug}/invitations/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    if response.status_code != 302:
        raise SystemExit(f"the upload answered {response.status_code}")
    previewed = time.perf_counter()
    client.get(response.location)  # the preview page, as the organizer sees it
    confirmed = client.post(response.location + "/confirm")
    done = time.perf_counter()
    page = client.get(confirmed.location).text
    message = page.split("Import done:", 1)[1].split("<", 1)[0].strip() if "Import done:" in page else "?"
    return previewed - started, done - previewed, message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    database_argument(parser)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--reset", action="store_true", help="drop and create every table first (throwaway DB)")
    options = parser.parse_args()
    app = make_app(options.database_url)
    with app.app_context():
        if options.reset:
            db.drop_all()
        db.create_all()
        if db.session.scalar(db.select(db.func.count()).select_from(db.metadata.tables["organizer"])) == 0:
            create_organizer(ADMIN_EMAIL, ADMIN_PASSWORD, "admin")
        starts = utcnow().replace(microsecond=0)
        event = create_event(
            title=f"Import benchmark {starts:%Y%m%d%H%M%S}", venue="Hall", city="Beijing", timezone="Asia/Shanghai",
            starts_at=starts.replace(year=starts.year + 1), ends_at=starts.replace(year=starts.year + 1, hour=23),
            contact_email="office@example.org",
        )  # fmt: skip
        slug, event_id = event.slug, event.id
    client = logged_in_client(app)
    data = file_bytes(invitees(options.rows), options.format)
    print(environment(app))
    print(f"{options.rows} rows, {options.format.upper()}, {len(data) / 1024:.0f} KiB")
    for label in ("first import (adds)", "same file again (updates)"):
        preview, confirm, message = timed_import(client, slug, f"invitees.{options.format}", data)
        total = preview + confirm
        print(f"{label:28} preview {preview:5.2f} s  confirm {confirm:5.2f} s  total {total:5.2f} s  ({message})")
    with app.app_context():
        stored = db.session.scalar(db.select(db.func.count(Invitation.id)).where(Invitation.event_id == event_id))
    print(f"invitations stored for the event: {stored}")


if __name__ == "__main__":
    main()
