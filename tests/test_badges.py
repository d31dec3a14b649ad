"""Name badges as a printer gets them: pages per layout and their sizes, every script's name read back, the QR code
of the check-in code, the category's band, and the label sheets' check."""

import io
import subprocess
import tempfile
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from werkzeug.datastructures import MultiDict

from eventreg.documents.badge_faces import fit_size, readable_on, text_direction_of
from eventreg.documents.badge_layouts import LAYOUTS, LabelSheet, label_sheet_problems
from eventreg.documents.badges import UnknownLayout, badge_pdf, crop_marks
from eventreg.extensions import db
from eventreg.models import DocumentSettings, Event, Registration

MM_PER_POINT = 25.4 / 72


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) of every page, in mm, rounded to 0.1."""
    return [
        (round(float(page.mediabox.width) * MM_PER_POINT, 1), round(float(page.mediabox.height) * MM_PER_POINT, 1))
        for page in PdfReader(io.BytesIO(pdf)).pages
    ]


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler's pdftotext extracts it."""
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def qr_codes(pdf: bytes, page: int = 1) -> list[str]:
    """The QR codes on one page, decoded from its raster (pdftoppm at 200 dpi)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "badges.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "200", "-f", str(page), "-l", str(page), "-png", str(source), f"{folder}/page"],
            check=True,
        )
        image = Image.open(next(Path(folder).glob("page*.png")))
        return sorted(result.text for result in zxingcpp.read_barcodes(image))


A4, A6 = (210.0, 297.0), (105.0, 148.0)


@pytest.fixture
def event(make_event):
    return make_event(title="ANSO Inaugural Ceremony", capacity=100)


def register(make_registration, event, count, **fields):
    """`count` delegates, each with their own address; returns their ids."""
    return [
        make_registration(event, email=f"d{n}-{fields.get('country', 'cn')}@example.org", **fields)[0]
        for n in range(count)
    ]


def render(app, event, ids, **options) -> bytes:
    with app.app_context(), app.test_request_context():
        registrations = db.session.scalars(
            db.select(Registration).where(Registration.id.in_(ids)).order_by(Registration.id)
        )
        return badge_pdf(db.session.get(Event, event.id), list(registrations), **options)


@pytest.mark.parametrize(
    ("layout", "count", "pages", "size"),
    [
        ("a6", 9, 3, A4),
        ("a7", 9, 2, (297.0, 210.0)),
        ("card", 11, 2, A4),
        ("single", 3, 3, A6),
        ("avery-l7418", 11, 2, A4),
        ("avery-5395", 9, 2, (215.9, 279.4)),
    ],
)
def test_pages_per_layout(app, event, make_registration, layout, count, pages, size):
    """Each layout puts its number of badges on a page of its size; the last page holds the rest."""
    pdf = render(app, event, register(make_registration, event, count), layout=layout)
    assert page_sizes_mm(pdf) == [size] * pages


def test_single_badge_with_crop_marks_gets_room_around_it(app, event, make_registration):
    """A lone badge's crop marks need paper around it: the page grows by the marks' room on each side."""
    pdf = render(app, event, register(make_registration, event, 1), layout="single", crop_marks=True)
    assert page_sizes_mm(pdf) == [(121.0, 164.0)]


def test_crop_marks_lie_outside_the_labels():
    """Every mark of a card sheet is drawn in the margins or gaps, never over a badge."""
    sheet = LAYOUTS["card"].sheet
    labels = [(*sheet.position(i), sheet.label_width, sheet.label_height) for i in range(sheet.per_page)]
    for index in range(sheet.per_page):
        marks = crop_marks(sheet, index)
        assert marks
        for left, top, width, height in marks:
            for x, y, w, h in labels:
                overlaps = left < x + w and left + width > x and top < y + h and top + height > y
                assert not overlaps
            assert left >= 0 and left + width <= sheet.page_width and top >= 0 and top + height <= sheet.page_height


def test_names_in_every_script_are_printed(app, event, make_registration):
    """Latin, Cyrillic and Chinese names, the native-script name, institution, country and category read back."""
    ids = [
        make_registration(event, email="bai@example.org")[0],
        make_registration(
            event,
            email="ivanov@example.org",
            honorific="",
            given_name="Дмитрий",
            family_name="Иванов",
            native_name="",
            institution="Российская академия наук",
            country="RU",
        )[0],
        make_registration(
            event,
            email="zhang@example.org",
            given_name="伟",
            family_name="张",
            native_name="",
            institution="清华大学",
        )[0],
    ]
    text = pdf_text(render(app, event, ids, layout="a6"))
    for expected in (
        "ANSO Inaugural Ceremony",
        "Chunli Bai",
        "白春礼",
        "Chinese Academy of Sciences",
        "China",
        "Prof.",
    ):
        assert expected in text
    for expected in ("Дмитрий Иванов", "Российская академия наук", "Russia", "张伟", "清华大学", "Delegate"):
        assert expected in text


def test_the_badge_speaks_the_delegates_language_or_the_runs(app, event, make_registration):
    """Country and category follow the delegate's language, or the language chosen for the run."""
    ids = [make_registration(event, language="fr")[0]]
    assert "Chine" in pdf_text(render(app, event, ids))
    assert "中国" in pdf_text(render(app, event, ids, language="zh_Hans"))


def test_qr_code_holds_the_checkin_code(app, event, make_registration):
    """The desk's scanner reads the check-in code from each badge, as from the ticket."""
    ids = register(make_registration, event, 2)
    pdf = render(app, event, ids, layout="card")
    with app.app_context():
        codes = sorted(db.session.get(Registration, i).checkin_code for i in ids)
    assert qr_codes(pdf) == codes


def test_custom_layout_reads_the_events_label_sheet(app, event, make_registration):
    """ "custom" prints on the sheet of the event's document settings, and is refused when there is none."""
    ids = register(make_registration, event, 3)
    with pytest.raises(UnknownLayout):
        render(app, event, ids, layout="custom")
    sheet = LabelSheet(100, 200, 1, 2, 5, 5, 0, 10, 90, 80)
    with app.app_context():
        db.session.add(DocumentSettings(event_id=event.id, label_sheet=sheet.as_dict()))
        db.session.commit()
    assert page_sizes_mm(render(app, event, ids, layout="custom")) == [(100.0, 200.0)] * 2


def test_unknown_layout_is_refused(app, event, make_registration):
    with pytest.raises(UnknownLayout):
        render(app, event, register(make_registration, event, 1), layout="a5")


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_shipped_layouts_pass_their_own_check(app, layout):
    with app.test_request_context():
        assert label_sheet_problems(LAYOUTS[layout].sheet) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"columns": 3}, "do not fit across the page"),
        ({"rows": 6}, "do not fit down the page"),
        ({"label_width": 20}, "at least 40 × 25 mm"),
        ({"gap_vertical": -1}, "cannot be negative"),
        ({"columns": 0}, "whole number from 1 to 20"),
        ({"columns": 2.5}, "whole number from 1 to 20"),
        ({"page_width": "wide"}, "must be a number"),
        ({"page_height": float("nan")}, "must be a number"),
        ({"page_width": 5000}, "between 1 and 1000 mm"),
    ],
)
def test_label_sheet_problems(app, changes, message):
    """A custom sheet whose labels do not fit, or with values that are not sizes, is refused with a reason."""
    values = {**LAYOUTS["avery-l7418"].sheet.as_dict(), **changes}
    with app.test_request_context():
        problems = label_sheet_problems(values)
    assert any(message in problem for problem in problems), problems


def test_label_sheet_lacking_a_value(app):
    values = LAYOUTS["card"].sheet.as_dict()
    del values["rows"]
    with app.test_request_context():
        assert label_sheet_problems(values) == ["The label sheet lacks rows."]


@pytest.mark.parametrize(
    ("name", "lines"),
    [("Chunli Bai", 1), ("白春礼", 1), ("Maximiliane Theodora Wilhelmina von Hohenzollern-Sigmaringen", 2)],
)
def test_names_shrink_then_wrap(name, lines):
    """Short names print at the largest size; long ones shrink, then take two lines, never below the floor."""
    size, used = fit_size(name, 93, 28)
    assert used == lines
    assert 28 * 0.3 <= size <= 28
    if lines == 1 and len(name) < 12:
        assert size == 28


def test_wide_letters_shrink_sooner_than_latin():
    """A CJK character is about twice as wide as a Latin letter: eight of them shrink where eight Latin do not."""
    assert fit_size("中" * 8, 60, 28)[0] < fit_size("a" * 8, 60, 28)[0]


@pytest.mark.parametrize(("colour", "text"), [("#1f5fa8", "#ffffff"), ("#ffd700", "#000000"), ("#000000", "#ffffff")])
def test_band_text_readable_on_the_category_colour(colour, text):
    assert readable_on(colour) == text


@pytest.mark.parametrize(
    ("text", "direction"), [("محمد العلي", "rtl"), ("שלום", "rtl"), ("白春礼", "ltr"), ("3 Иван", "ltr")]
)
def test_right_to_left_names_are_set_right_to_left(text, direction):
    """WeasyPrint ignores dir="auto": the direction is chosen in Python from the first strong letter."""
    assert text_direction_of(text) == direction


def test_an_arabic_badge_is_set_right_to_left(app, event, make_registration):
    """The Arabic name's element carries dir="rtl", so it starts at the right edge of the badge."""
    ids = [make_registration(event, given_name="محمد", family_name="العلي", native_name="", honorific="")[0]]
    with app.app_context(), app.test_request_context():
        from eventreg.documents.badges import _chunk_html, geometry, layout_sheet

        sheet = layout_sheet(None, "single")
        html = _chunk_html(
            db.session.get(Event, event.id), [db.session.get(Registration, ids[0])], sheet, geometry(sheet), None, False
        )
    assert 'dir="rtl" lang="ar"' in html


@pytest.mark.parametrize(
    ("layout", "cancel", "message"),
    [
        ("a6", True, "No registration matches this run any more"),
        ("custom", False, "label sheet is no longer in the document settings"),
    ],
)
def test_a_badge_job_that_cannot_print_fails_with_a_sentence(app, event, make_registration, layout, cancel, message):
    """A queued run whose delegates were all cancelled, or whose custom sheet was removed, fails at once with a
    sentence for the organizer, instead of a 0-page PDF shown as ready or retries of an error. (The run by the
    list's filter: ticked rows are printed whatever their status.)"""
    from eventreg.attendees.filters import AttendeeFilter
    from eventreg.documents.badges import run_params
    from eventreg.documents.jobs import create_job, error_message, run_pending
    from eventreg.models import DocumentJob

    ids = register(make_registration, event, 1)
    with app.app_context():
        if cancel:
            db.session.get(Registration, ids[0]).status = "cancelled"
            db.session.commit()
        attendee_filter, _problems = AttendeeFilter.from_args(MultiDict())
        job = create_job(
            db.session.get(Event, event.id),
            "badges",
            run_params(attendee_filter, [] if cancel else ids, layout, False, None),
            None,
        )
        while run_pending():
            pass
        job = db.session.get(DocumentJob, job.id)
        assert (job.state, job.content, job.attempts) == ("failed", None, 1)
        assert message in error_message(job)
