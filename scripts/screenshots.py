"""Screenshots for the docs: the registration form (in English, 简体中文 and العربية), the organizer dashboard (its
top and its world map), the attendee list and a confirmation mail in Русский, on the demo data, in headless Chromium.

Run from the project: .venv/bin/python scripts/screenshots.py
Everything it creates (database, instance folder, mail) lives in a temporary folder removed at the end.
"""

import base64
import logging
import secrets
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from markupsafe import escape
from playwright.sync_api import Browser, expect, sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script: make the eventreg package importable

from eventreg import create_app  # noqa: E402
from eventreg.demo.load import load_demo  # noqa: E402
from eventreg.extensions import db  # noqa: E402
from eventreg.mail.compose import compose  # noqa: E402
from eventreg.models import OutboxMessage, Registration  # noqa: E402
from tests.browser import CHROMIUM, launch  # noqa: E402

OUTPUT = ROOT / "docs" / "screenshots"
FORM_WIDTH = 900
DASHBOARD_WIDTH = 1280
DASHBOARD_HEIGHT = 1500  # the whole dashboard is several screens long: keep its top (totals, charts)
ATTENDEES_HEIGHT = 1400  # the filters and the first twenty or so rows
# A filtered, sorted view, as an organizer would bookmark it: the filters live in the query string.
ATTENDEES_QUERY = "?continent=Asia&sort=name"
SIZE_LIMIT = 600 * 1024


@dataclass(frozen=True)
class Demo:
    """Where the demo runs, and how to log in to it."""

    base_url: str
    slug: str
    email: str
    password: str
    app: Flask


@contextmanager
def demo_server(workdir: Path) -> Iterator[Demo]:
    """The app on a fresh SQLite database with the demo data, served on 127.0.0.1 until the block ends."""
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'demo.sqlite'}",
            "MAIL_FILE_DIR": str(workdir / "mail"),
            "PREFERRED_URL_SCHEME": "http",
        },
        instance_path=str(workdir / "instance"),  # load_demo saves the organizer's password there
    )
    # Bind first (port 0: the system picks a free one, no race), then tell the app its address.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    try:
        app.config["SERVER_NAME"] = f"127.0.0.1:{server.port}"
        with app.app_context():
            upgrade()  # the schema as `make run` builds it: through the migrations
            demo = load_demo()
            details = Demo(f"http://127.0.0.1:{server.port}", demo.event.slug, demo.email, demo.password, app)
        thread = threading.Thread(target=server.serve_forever, name="demo-server", daemon=True)
        thread.start()
        try:
            yield details
        finally:
            server.shutdown()  # only once serve_forever runs: it would wait forever otherwise
            thread.join(timeout=10)
    finally:
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def shoot_registration_form(browser: Browser, demo: Demo, path: Path) -> None:
    """The demo event's form at a narrow width, partly filled, with the error an invalid email gets."""
    # Labels matched as case-insensitive substrings, not exactly: optional ones read "Position (optional)".
    context = browser.new_context(viewport={"width": FORM_WIDTH, "height": 1000}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{demo.base_url}/e/{demo.slug}/register")
        page.get_by_label("Title").select_option(label="Dr.")
        page.get_by_label("Given name").fill("Layla")
        page.get_by_label("Family name").fill("Haddad")
        page.get_by_label("Name in your own script").fill("ليلى حداد")
        page.get_by_label("Email").fill("layla.haddad@")
        page.get_by_label("Institution or organization").fill("Royal Scientific Society")
        page.get_by_label("Country or region", exact=True).select_option(label="Jordan")
        page.get_by_label("I agree that the organizers store my details and use them to run this event").check()
        page.get_by_role("button", name="Register", exact=True).click()
        expect(page.get_by_role("alert")).to_be_visible()
        _shoot(page, path)
    finally:
        context.close()


def shoot_localized_form(language: str, delegate: dict[str, str]):
    """The form as a browser asking for `language` gets it, filled in with a delegate of that language (fields found
    by their ids, since the labels are translated), just before it is sent."""

    def shoot(browser: Browser, demo: Demo, path: Path) -> None:
        context = browser.new_context(viewport={"width": FORM_WIDTH, "height": 1000}, locale=language)
        try:
            page = context.new_page()
            page.goto(f"{demo.base_url}/e/{demo.slug}/register")
            page.locator("#honorific").select_option("Prof.")
            for field in ("given_name", "family_name", "native_name", "email", "institution"):
                page.locator(f"#{field}").fill(delegate[field])
            page.locator("#country").select_option(delegate["country"])
            page.locator("#consent").check()
            _shoot(page, path)
        finally:
            context.close()

    return shoot


def shoot_mail(language: str, delegate: dict[str, str]):
    """The confirmation mail of a delegate who registered through the form in `language`, as a mail program shows
    its HTML part (the mail is composed from the outbox, as the worker would send it)."""

    def shoot(browser: Browser, demo: Demo, path: Path) -> None:
        context = browser.new_context(viewport={"width": 760, "height": 900}, locale=language)
        try:
            page = context.new_page()
            page.goto(f"{demo.base_url}/e/{demo.slug}/register")
            page.locator("#honorific").select_option("Dr.")
            for field in ("given_name", "family_name", "email", "institution"):
                page.locator(f"#{field}").fill(delegate[field])
            page.locator("#country").select_option(delegate["country"])
            page.locator("#consent").check()
            page.locator("form.registration-form button[type=submit]").click()
            page.wait_for_url("**/submitted**")
            with demo.app.app_context():
                registration = db.session.query(Registration).filter_by(email=delegate["email"]).one()
                queued = db.session.query(OutboxMessage).filter_by(registration_id=registration.id).one()
                mail = compose(queued)
            html = mail.html
            ticket = getattr(mail, "ticket", None)
            if ticket is not None and ticket.qr_png:  # the inline QR code, as a mail program shows the related part
                data = base64.b64encode(ticket.qr_png).decode()
                html = html.replace(f"cid:{ticket.qr_cid}", f"data:image/png;base64,{data}")
            # The subject above the mail, as a mail program shows it.
            heading = f'<p style="font:600 18px sans-serif;margin:8px">{escape(mail.subject)}</p><hr>'
            page.set_content(heading + html)
            page.evaluate("document.fonts.ready.then(() => true)")
            page.screenshot(path=path, full_page=True)
        finally:
            context.close()

    return shoot


def _log_in(page, demo: Demo) -> None:
    """Log in as the demo organizer (an administrator)."""
    page.goto(f"{demo.base_url}/auth/login")
    page.get_by_label("Email").fill(demo.email)
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def shoot_dashboard(browser: Browser, demo: Demo, path: Path) -> None:
    """The top of the demo event's dashboard at desktop width: totals, statuses, categories, registrations per day."""
    context = browser.new_context(viewport={"width": DASHBOARD_WIDTH, "height": 1000}, locale="en-GB")
    try:
        page = context.new_page()
        _log_in(page, demo)
        page.goto(f"{demo.base_url}/organizer/events/{demo.slug}")
        expect(page.locator("#total-registrations")).to_be_visible()
        _shoot(page, path, max_height=DASHBOARD_HEIGHT)
    finally:
        context.close()


def shoot_dashboard_map(browser: Browser, demo: Demo, path: Path) -> None:
    """The dashboard's world map with its table of countries beside it."""
    context = browser.new_context(viewport={"width": DASHBOARD_WIDTH, "height": 1000}, locale="en-GB")
    try:
        page = context.new_page()
        _log_in(page, demo)
        page.goto(f"{demo.base_url}/organizer/events/{demo.slug}")
        section = page.locator("section").filter(has=page.locator("h2#countries"))
        expect(section).to_be_visible()
        page.evaluate("document.fonts.ready.then(() => true)")
        section.screenshot(path=path)
    finally:
        context.close()


def shoot_attendees(browser: Browser, demo: Demo, path: Path) -> None:
    """The attendee list, filtered to one continent and sorted by name, at desktop width."""
    context = browser.new_context(viewport={"width": DASHBOARD_WIDTH, "height": 1000}, locale="en-GB")
    try:
        page = context.new_page()
        _log_in(page, demo)
        page.goto(f"{demo.base_url}/organizer/events/{demo.slug}/registrations{ATTENDEES_QUERY}")
        expect(page.locator("#attendee-list")).to_be_visible()
        _shoot(page, path, max_height=ATTENDEES_HEIGHT)
    finally:
        context.close()


def _shoot(page, path: Path, max_height: int | None = None) -> None:
    """Save the whole page, or its top `max_height` pixels, once its fonts are loaded."""
    page.evaluate("document.fonts.ready.then(() => true)")
    clip = None
    if max_height is not None:
        height = min(page.evaluate("document.documentElement.scrollHeight"), max_height)
        clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
    page.screenshot(path=path, full_page=True, clip=clip)


def main() -> int:
    """Write the PNGs of docs/screenshots/ named in `shots`."""
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk fonts-noto-color-emoji")
        return 1
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shots = {
        "registration-form.png": shoot_registration_form,
        "dashboard.png": shoot_dashboard,
        "dashboard-map.png": shoot_dashboard_map,
        "attendees.png": shoot_attendees,
        "registration-form-zh.png": shoot_localized_form(
            "zh-CN",
            {
                "given_name": "春丽",
                "family_name": "白",
                "native_name": "白春丽",
                "email": "chunli.bai@example.org",
                "institution": "中国科学院",
                "country": "CN",
            },
        ),
        "registration-form-ar.png": shoot_localized_form(
            "ar",
            {
                "given_name": "Layla",
                "family_name": "Haddad",
                "native_name": "ليلى حداد",
                "email": "layla.haddad@example.org",
                "institution": "الجمعية العلمية الملكية",
                "country": "JO",
            },
        ),
        "mail-ru.png": shoot_mail(
            "ru-RU",
            {
                "given_name": "Ирина",
                "family_name": "Петрова",
                "email": "irina.petrova@example.org",
                "institution": "Российская академия наук",
                "country": "RU",
            },
        ),
    }
    with (
        tempfile.TemporaryDirectory(prefix="eventreg-screenshots-") as workdir,
        demo_server(Path(workdir)) as demo,
        sync_playwright() as playwright,
    ):
        browser = launch(playwright)
        try:
            for name, shoot in shots.items():
                shoot(browser, demo, OUTPUT / name)
        finally:
            browser.close()
    status = 0
    for name in shots:
        size = (OUTPUT / name).stat().st_size
        print(f"{(OUTPUT / name).relative_to(ROOT)}: {size // 1024} KB")
        if size > SIZE_LIMIT:
            print(f"  larger than {SIZE_LIMIT // 1024} KB: lower DASHBOARD_HEIGHT or the widths")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
