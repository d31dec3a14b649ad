"""The invitation import: the preview's refusals, add versus update, CSV and XLSX, the cancel that writes nothing,
the import's own upload limit, a preview confirmed by another app host, the resumed confirmation."""

import csv
import io
import re
import threading

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, update

from eventreg import create_app
from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.invitations import importing
from eventreg.invitations.importing import apply_import, cancel_import, preview_import
from eventreg.invitations.services import InviteeDetails, invite
from eventreg.models import AuditEntry, Delegation, Invitation, InvitationImport
from tests.browser import log_in
from tests.conftest import (
    POSTGRES_URL,
    base_config,
    create_test_event,
    drop_tables,
    make_app,
    require_postgresql,
)

HEADER = ["Email", "Given name", "Family name", "Country", "Category", "Language", "Delegation"]


def csv_bytes(rows, header=HEADER, delimiter=",", bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def xlsx_bytes(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def import_url(event, *rest) -> str:
    return "/".join([f"/organizer/events/{event.slug}/invitations/import", *map(str, rest)])


def upload(client, url, filename, data):
    """POST a file as a browser does. The body is encoded here: the test client would spool a large one to a
    temporary file that nothing closes (a ResourceWarning)."""
    boundary = "----eventreg-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


GOOD = ["wei.zhang@example.org", "Wei", "Zhang", "CN", "delegate", "zh", "Chinese Academy of Sciences"]


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (0, "wei.zhang.example.org", "@ sign"),
        (3, "Atlantis", "Unknown country or region: Atlantis."),
        (4, "astronaut", "Unknown category: astronaut."),
        (5, "tlh", "Unknown or unoffered language: tlh."),
        (1, "W" * 101, "longer than 100 characters"),
        (6, "D" * 201, "longer than 200 characters"),
    ],
)
def test_the_preview_refuses_a_row_with_its_reason(app, make_event, column, value, reason):
    event = make_event()
    row = list(GOOD)
    row[column] = value
    with app.test_request_context():
        preview = preview_import(event.id, "guests.csv", csv_bytes([row, ["li.na@example.org", "Na", "Li"]]))
        refused = [r for r in preview.rows if r["action"] == "refused"]
        assert preview.counts == {"add": 1, "update": 0, "refused": 1}
        assert refused[0]["row"] == 2
        assert reason in refused[0]["reason"]


def test_the_preview_refuses_an_address_twice_in_the_file(app, make_event):
    event = make_event()
    rows = [GOOD, ["Wei.Zhang@Example.org", "Wei", "Zhang"]]
    with app.test_request_context():
        preview = preview_import(event.id, "guests.csv", csv_bytes(rows))
        assert preview.counts == {"add": 1, "update": 0, "refused": 1}
        assert preview.rows[1]["reason"] == "The same address as row 2."


def test_countries_categories_and_languages_are_read_in_any_offered_language(app, make_event):
    event = make_event()
    rows = [
        ["a@example.org", "A", "A", "Chine", "Speaker", "zh-CN", ""],
        ["b@example.org", "B", "B", "中国", "Presse", "ar-EG", ""],
        ["c@example.org", "C", "C", "france", "OBSERVER", "fr", ""],
    ]
    with app.test_request_context():
        preview = preview_import(event.id, "guests.csv", csv_bytes(rows))
        assert preview.counts["refused"] == 0, preview.rows
        values = [row["values"] for row in preview.rows]
        assert [(v["country"], v["category"], v["language"]) for v in values] == [
            ("CN", "speaker", "zh_Hans"),
            ("CN", "press", "ar"),
            ("FR", "observer", "fr"),
        ]


def test_a_known_address_updates_its_invitation_and_a_new_one_is_added(app, make_event):
    event = make_event()
    with app.test_request_context():
        invite(event.id, InviteeDetails(email="wei.zhang@example.org", given_name="W.", institution="CAS"))
        rows = [["WEI.ZHANG@example.org", "Wei", "Zhang", "", "", "", ""], ["li.na@example.org", "Na", "Li"]]
        preview = preview_import(event.id, "guests.csv", csv_bytes(rows))
        assert [row["action"] for row in preview.rows] == ["update", "add"]
        apply_import(preview.id)
        invitations = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
        assert [(i.email, i.given_name, i.family_name, i.institution) for i in invitations] == [
            ("WEI.ZHANG@example.org", "Wei", "Zhang", "CAS"),  # the empty cell kept what it said
            ("li.na@example.org", "Na", "Li", ""),
        ]
        assert db.session.get(InvitationImport, preview.id).state == "applied"


def test_an_xlsx_file_and_a_semicolon_csv_with_a_bom_import_the_same(app, make_event):
    event = make_event()
    rows = [GOOD, ["li.na@example.org", "Na", "Li", "FR", "observer", "fr", "Chinese Academy of Sciences"]]
    with app.test_request_context():
        from_xlsx = preview_import(event.id, "guests.xlsx", xlsx_bytes(rows))
        from_csv = preview_import(event.id, "guests.csv", csv_bytes(rows, delimiter=";", bom=True))
        assert from_xlsx.rows == from_csv.rows
        apply_import(from_xlsx.id)
        assert count(Invitation) == 2
        assert count(Delegation) == 1  # created once, by its name, for both rows
        invitation = db.session.scalars(select(Invitation).where(Invitation.email == "li.na@example.org")).one()
        assert (invitation.country, invitation.language, invitation.status) == ("FR", "fr", "not_sent")
        assert invitation.token and invitation.name_key == "li na"


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("guests.xlsx", b"not a workbook", "cannot be read as an Excel"),
        ("guests.csv", "email\ncafé@example.org\n".encode("latin-1"), "not in UTF-8"),
        ("guests.csv", b"name,institution\nWei,CAS\n", "one of them"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_message(logged_in, make_event, filename, data, message):
    event = make_event()
    response = upload(logged_in, import_url(event), filename, data)
    assert response.status_code == 200
    assert message in response.text


def test_a_cancelled_import_writes_nothing(app, logged_in, make_event):
    event = make_event()
    data = csv_bytes([GOOD, ["li.na@example.org", "Na", "Li", "FR", "", "", "New delegation"]])
    response = upload(logged_in, import_url(event), "guests.csv", data)
    preview_url = response.location
    assert "2 invitations to add" in logged_in.get(preview_url).text
    with app.app_context():
        before = (count(Invitation), count(Delegation))
    response = logged_in.post(preview_url + "/cancel")
    assert response.status_code == 302
    with app.app_context():
        assert (count(Invitation), count(Delegation)) == before == (0, 0)
        assert db.session.scalars(select(InvitationImport.state)).one() == "cancelled"
    # A cancelled import cannot be confirmed afterwards.
    logged_in.post(preview_url + "/confirm")
    with app.app_context():
        assert count(Invitation) == 0


def test_the_import_takes_a_file_larger_than_the_sites_limit_up_to_its_own(app, logged_in, make_event):
    event = make_event()
    padding = "x" * 90
    rows = [[f"guest{n}@example.org", padding, "Zhang"] for n in range(20_000)]
    data = csv_bytes(rows, header=["email", "position", "family name"])
    assert 2_000_000 < len(data) < 10 * 1024 * 1024
    response = upload(logged_in, import_url(event), "guests.csv", data)
    assert response.status_code == 302, response.text
    assert "20,000 invitations to add" in logged_in.get(response.location).text
    # The site's own 1 MiB limit still holds everywhere else.
    response = logged_in.post(f"/organizer/events/{event.slug}/invitations/new", data={"email": "a" * 2_000_000})
    assert response.status_code == 413


def test_a_file_beyond_the_imports_limit_is_refused_with_a_message(logged_in, make_event):
    event = make_event()
    data = b"email\n" + b"a" * (11 * 1024 * 1024)
    response = upload(logged_in, import_url(event), "guests.csv", data)
    assert response.status_code == 413
    assert "The file is larger than 10 MB; please split it." in response.text
    assert 'name="file"' in response.text  # the form again, to choose another file


def test_a_preview_made_on_one_app_host_is_confirmed_on_another(app, logged_in, make_event, make_organizer, tmp_path):
    event = make_event()
    data = csv_bytes([GOOD, ["li.na@example.org", "Na", "Li"]])
    response = upload(logged_in, import_url(event), "guests.csv", data)
    preview_path = response.location
    other_host = create_app(base_config(tmp_path), instance_path=str(tmp_path / "instance"))
    other = other_host.test_client()
    assert other.post("/auth/login", data={"email": "admin@example.org", "password": "correct horse battery"})
    assert "2 invitations to add" in other.get(preview_path).text
    response = other.post(preview_path + "/confirm")
    assert response.location.endswith(f"/organizer/events/{event.slug}/invitations")
    assert "Import done: 2 added, 0 updated." in other.get(response.location).text
    assert logged_in.get(preview_path + "/progress").json == {"state": "applied", "applied": 2, "total": 2}
    with other_host.app_context():
        db.session.remove()
        db.engine.dispose()
    with app.app_context():
        assert count(Invitation) == 2


def test_an_interrupted_confirmation_resumes_after_its_last_chunk(app, make_event, monkeypatch):
    event = make_event()
    rows = [[f"guest{n}@example.org", "G", str(n)] for n in range(25)]
    monkeypatch.setattr(importing, "CHUNK_ROWS", 10)
    write_chunk = importing._write_chunk
    calls = []

    def failing_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the host went down")
        write_chunk(*args)

    with app.test_request_context():
        preview = preview_import(event.id, "guests.csv", csv_bytes(rows, header=["email", "given name", "surname"]))
        monkeypatch.setattr(importing, "_write_chunk", failing_second_chunk)
        with pytest.raises(RuntimeError):
            apply_import(preview.id)
        db.session.rollback()
        stopped = db.session.get(InvitationImport, preview.id)
        assert (stopped.state, stopped.applied, count(Invitation)) == ("applying", 10, 10)
        with pytest.raises(importing.ImportStateError):
            cancel_import(preview.id)
        written = []
        monkeypatch.setattr(importing, "_write_chunk", lambda _id, chunk, *rest: written.append(chunk[0]["row"]))
        apply_import(preview.id)
        assert written == [12, 22]  # from the second chunk on (the file's rows 12 and 22 start the chunks)
        db.session.rollback()
        monkeypatch.setattr(importing, "_write_chunk", write_chunk)
        db.session.execute(update(InvitationImport).values(state="applying", applied=10))
        db.session.commit()
        apply_import(preview.id)
        assert count(Invitation) == 25
        assert db.session.get(InvitationImport, preview.id).applied == 25


@pytest.fixture
def postgres_app(tmp_path):
    require_postgresql().dispose()
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=POSTGRES_URL)
    yield app
    drop_tables(app)


def test_two_confirmations_of_one_import_at_once_write_each_invitation_once_on_postgresql(postgres_app, monkeypatch):
    """A double press of Confirm: both requests look the addresses up before either inserts; the second's inserts
    of the same addresses are skipped, not an error, and the import is recorded once."""
    app = postgres_app
    event = create_test_event(app)
    rows = [[f"guest{n}@example.org", "G", str(n)] for n in range(30)]
    with app.app_context():
        preview_id = preview_import(event.id, "guests.csv", csv_bytes(rows, header=["email", "given", "family"])).id
    both_looked_up = threading.Barrier(2, timeout=10)
    columns = importing._columns

    def after_the_lookup(*args):
        if not getattr(local, "waited", False):
            local.waited = True
            both_looked_up.wait()
        return columns(*args)

    local = threading.local()
    monkeypatch.setattr(importing, "_columns", after_the_lookup)
    errors = []

    def confirm():
        try:
            with app.app_context():
                apply_import(preview_id)
        except Exception as error:  # noqa: BLE001 - the test reports whatever a confirmation raised
            errors.append(error)

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert count(Invitation) == 30
        imported = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "invitation.imported")
        assert db.session.scalar(imported) == 1
        assert db.session.get(InvitationImport, preview_id).state == "applied"


@pytest.mark.browser
def test_a_browser_uploads_previews_and_confirms_with_its_progress(live_server, browser_page, tmp_path):
    """With CSRF on: the upload (its route checks the form's own token) and the confirmation sent by
    import-progress.js, which then follows the redirect to the list."""
    app, base_url = live_server
    event = create_test_event(app)
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery", "admin")
    rows = [[f"guest{n}@example.org", f"Given{n}", f"Family{n}", "FR", "", "", ""] for n in range(1200)]
    path = tmp_path / "guests.csv"
    path.write_bytes(csv_bytes([*rows, ["bad", "B", "B"]]))
    page = browser_page
    log_in(page, base_url, "admin@example.org", "correct horse battery")
    page.goto(f"{base_url}{import_url(event)}")
    page.get_by_label("File (CSV or XLSX)").set_input_files(str(path))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(re.compile(r".*/invitations/import/\d+$"))
    assert "1,200 invitations to add" in page.content()
    assert "Refused: An email address needs an @ sign" in " ".join(page.locator("#import-rows").inner_text().split())
    page.get_by_role("button", name="Confirm the import").click()
    page.wait_for_url(f"{base_url}/organizer/events/{event.slug}/invitations")
    assert "Import done: 1,200 added, 0 updated." in page.content()
    with app.app_context():
        assert count(Invitation) == 1200


def test_an_upload_without_its_security_token_is_refused_with_a_message(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    try:
        event = create_test_event(app)
        with app.app_context():
            create_organizer("admin@example.org", "correct horse battery", "admin")
        client = app.test_client()
        login = client.get("/auth/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)[1]
        data = {"email": "admin@example.org", "password": "correct horse battery", "csrf_token": token}
        assert client.post("/auth/login", data=data).status_code == 302
        response = upload(client, import_url(event), "guests.csv", csv_bytes([GOOD]))
        assert response.status_code == 400
        assert "Your form expired or was sent without its security token." in response.text
        with app.app_context():
            assert count(InvitationImport) == 0
    finally:
        drop_tables(app)
