"""Badges from the attendee list (the list's filter or the ticked rows; a large run becomes a document job) and
one delegate's badge at the check-in desk."""

import pytest
from flask import url_for
from sqlalchemy import select

from eventreg.attendees.services import apply_action
from eventreg.extensions import db
from eventreg.models import DocumentJob, Registration
from eventreg.registration.status import StatusAction
from tests.test_badges import page_sizes_mm, pdf_text
from tests.test_checkin import login


@pytest.fixture
def event(make_event):
    return make_event(title="Inaugural Ceremony", capacity=100)


def badges_url(event, **args):
    query = "&".join(f"{name}={value}" for name, value in args.items())
    return f"/organizer/events/{event.slug}/badges.pdf" + (f"?{query}" if query else "")


def test_the_list_filter_is_respected_and_cancelled_delegates_are_left_out(app, event, make_registration, logged_in):
    """The list's filter picks the badges; a cancelled delegate gets none unless the status filter asks for it."""
    make_registration(event, email="bai@example.org")
    make_registration(event, email="ivanov@example.org", given_name="Dmitry", family_name="Ivanov", country="RU")
    gone, _token = make_registration(event, email="gone@example.org", given_name="Gone", family_name="Away")
    with app.app_context():
        apply_action(event.id, gone, StatusAction.CANCEL)
    response = logged_in.get(badges_url(event, layout="single"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    text = pdf_text(response.data)
    assert "Chunli Bai" in text and "Dmitry Ivanov" in text and "Gone Away" not in text
    text = pdf_text(logged_in.get(badges_url(event, layout="single", country="RU")).data)
    assert "Dmitry Ivanov" in text and "Chunli Bai" not in text
    assert "Gone Away" in pdf_text(logged_in.get(badges_url(event, status="cancelled")).data)


def test_the_ticked_rows_are_printed(app, event, make_registration, logged_in):
    """The list's bulk form posts the ticked ids: only those get badges (its own category field is no filter)."""
    first, _token = make_registration(event, email="bai@example.org")
    make_registration(event, email="ivanov@example.org", given_name="Dmitry", family_name="Ivanov")
    data = {"ids": [str(first)], "layout": "a6", "category": "delegate", "page": "1"}
    response = logged_in.post(badges_url(event), data=data)
    assert response.status_code == 200
    assert page_sizes_mm(response.data) == [(210.0, 297.0)]
    assert "Chunli Bai" in pdf_text(response.data) and "Dmitry" not in pdf_text(response.data)


def test_posting_without_ticked_rows_says_so(event, logged_in):
    response = logged_in.post(badges_url(event), data={"layout": "a6"})
    assert response.status_code == 400
    assert "Please tick at least one registration." in response.text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"layout": "a5"}, "The layout a5 is not offered."),
        ({"layout": "custom"}, "The layout custom is not offered."),
        ({"language": "xx"}, "The language xx is not offered."),
        ({"status": "lost"}, "The filter status=lost is not understood."),
        ({"ids": "abc"}, "The ticked rows were not understood."),
    ],
)
def test_bad_requests_are_explained(event, make_registration, logged_in, args, message):
    make_registration(event)
    response = logged_in.get(badges_url(event, **args))
    assert response.status_code == 400
    assert message in response.text


def test_nothing_to_print_is_explained(event, logged_in):
    response = logged_in.get(badges_url(event))
    assert response.status_code == 400
    assert "No confirmed registration matches" in response.text


def test_a_large_run_becomes_a_document_job(app, event, make_registration, logged_in):
    """Beyond BADGES_IN_REQUEST the request renders nothing: it asks, then creates a job and shows its progress."""
    app.config["BADGES_IN_REQUEST"] = 2
    for n in range(3):
        make_registration(event, email=f"d{n}@example.org")
    response = logged_in.get(badges_url(event, layout="card", crop="1", country="CN"))
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "3 badges to print." in response.text
    data = {"confirm": "yes", "layout": "card", "crop": "1", "country": "CN"}
    response = logged_in.post(badges_url(event), data=data)
    assert response.status_code == 302
    with app.app_context():
        job = db.session.scalars(select(DocumentJob)).one()
        assert job.kind == "badges"
        assert job.params == {
            "filter": {"country": "CN", "sort": "-date"},
            "ids": [],
            "layout": "card",
            "crop": True,
            "language": None,
        }
    with app.test_request_context():
        progress_page = url_for("documents.show_job", slug=event.slug, job_id=job.id)
    assert response.headers["Location"].endswith(progress_page)


def test_the_job_renders_the_run(app, event, make_registration, logged_in):
    """The worker's render of a badges job gives the same run as the request would."""
    from eventreg.documents.badges import render_badge_job

    for n in range(5):
        make_registration(event, email=f"d{n}@example.org")
    seen = []
    with app.app_context():
        job = DocumentJob(event_id=event.id, kind="badges", params={"filter": {}, "ids": [], "layout": "a6"})
        filename, pdf = render_badge_job(job, lambda done, total: seen.append((done, total)))
    assert filename == f"badges-{event.slug}.pdf"
    assert page_sizes_mm(pdf) == [(210.0, 297.0)] * 2
    assert seen == [(0, 5), (5, 5)]


def test_desk_prints_one_badge(app, event, make_registration):
    """Check-in staff of the event print one delegate's badge, one page of its own size, from the card."""
    registration_id, _token = make_registration(event)
    desk = login(app, "desk@example.org", "checkin", events=[event])
    card = desk.get(f"/checkin/{event.slug}/r/{registration_id}")
    badge_url = f"/organizer/events/{event.slug}/checkin/{registration_id}/badge.pdf"
    assert badge_url in card.text and "Print badge" in card.text
    response = desk.get(badge_url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert page_sizes_mm(response.data) == [(105.0, 148.0)]
    with app.app_context():
        code = db.session.get(Registration, registration_id).checkin_code
    assert "Chunli Bai" in pdf_text(response.data)
    from tests.test_badges import qr_codes

    assert qr_codes(response.data) == [code]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("cancelled", "this registration was cancelled"),
        ("rejected", "declined by the organizers"),
        ("waitlisted", "on the waiting list"),
        ("pending", "awaits approval"),
    ],
)
def test_desk_prints_no_badge_for_someone_not_admitted(app, event, make_registration, status, reason):
    """The card offers no badge to a delegate the desk does not admit, and the badge's address says why not."""
    registration_id, _token = make_registration(event)
    with app.app_context():
        db.session.get(Registration, registration_id).status = status
        db.session.commit()
    desk = login(app, "desk@example.org", "checkin", events=[event])
    card = desk.get(f"/checkin/{event.slug}/r/{registration_id}")
    assert reason in card.text and "Print badge" not in card.text
    response = desk.get(f"/organizer/events/{event.slug}/checkin/{registration_id}/badge.pdf")
    assert response.status_code == 409 and response.mimetype == "text/html"
    assert reason in response.text


def test_desk_badge_refused_elsewhere(app, event, make_event, make_registration):
    """Another event's registration is not found; another event's staff and a logged-out visitor get nothing."""
    other = make_event(title="Other Ceremony")
    theirs, _token = make_registration(other, email="other@example.org")
    desk = login(app, "desk@example.org", "checkin", events=[event])
    assert desk.get(f"/organizer/events/{event.slug}/checkin/{theirs}/badge.pdf").status_code == 404
    assert desk.get(f"/organizer/events/{other.slug}/checkin/{theirs}/badge.pdf").status_code == 403
    anonymous = app.test_client().get(f"/organizer/events/{other.slug}/checkin/{theirs}/badge.pdf")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_checkin_staff_cannot_print_a_run(app, event, make_registration):
    make_registration(event)
    desk = login(app, "desk@example.org", "checkin", events=[event])
    assert desk.get(badges_url(event)).status_code == 403


def test_attendee_list_offers_badges_for_its_filter_and_ticked_rows(event, make_registration, logged_in):
    make_registration(event)
    page = logged_in.get(f"/organizer/events/{event.slug}/registrations?country=CN").text
    assert f'action="/organizer/events/{event.slug}/badges.pdf"' in page
    assert '<input type="hidden" name="country" value="CN">' in page
    assert 'value="avery-l7418"' in page and "Crop marks" in page
    assert f'formaction="/organizer/events/{event.slug}/badges.pdf"' in page


def test_a_chunk_reads_the_categories_once(app, event, make_registration):
    """Outside a request nothing caches the event's categories: the worker reads them once per chunk, not per badge."""
    from sqlalchemy import event as sql_event

    from eventreg.documents.badges import render_badge_job

    for n in range(4):
        make_registration(event, email=f"d{n}@example.org")
    statements = []
    with app.app_context():
        sql_event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        job = DocumentJob(event_id=event.id, kind="badges", params={"filter": {}, "ids": [], "layout": "a6"})
        render_badge_job(job, lambda done, total: None)
    assert sum("FROM event_category" in statement for statement in statements) == 1
