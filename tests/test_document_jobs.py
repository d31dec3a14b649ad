"""Document jobs: a job is created, rendered by run_pending() (real WeasyPrint), and its PDF downloaded from the
database; progress while it renders; failures retried then shown; expiry; the pages' access rules."""

import io
from datetime import timedelta

import pytest
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select, update

from eventreg.auth.services import create_organizer
from eventreg.documents import jobs
from eventreg.documents.engine import render_joined, static_url
from eventreg.documents.jobs import JobError, add_job_kind, create_job, run_pending
from eventreg.extensions import db
from eventreg.models import DocumentJob, Event, Organizer, utcnow

PASSWORD = "correct horse battery"
PAGES_PER_CHUNK = 2


def page_html(names: list[str]) -> str:
    """One chunk of the test kind: a page per name, with the documents' font stack."""
    pages = "".join(f'<section class="page">{escape(name)}</section>' for name in names)
    style = "<style>@page { size: A6 } .page { break-after: page }</style>"
    head = f'<link rel="stylesheet" href="{static_url("css/documents.css")}">{style}'
    return f"<html><head>{head}</head><body>{pages}</body></html>"


def render_name_pages(job, progress, after_chunk=lambda job: None):
    """A real run: a page per name in job.params, rendered in chunks of two and joined, with progress."""
    names = job.params["names"]
    chunks = [names[start : start + PAGES_PER_CHUNK] for start in range(0, len(names), PAGES_PER_CHUNK)]

    def chunk_done(number: int) -> None:
        progress(min(number * PAGES_PER_CHUNK, len(names)), len(names))
        after_chunk(job)

    return "names.pdf", render_joined((page_html(chunk) for chunk in chunks), chunk_done)


def render_broken(job, progress):
    """A kind whose render always fails, as a bug would."""
    raise RuntimeError("a bug in the render")


def render_refused(job, progress):
    """A kind that refuses its job for a reason the organizer can act on."""
    raise JobError("No delegate matches the list's filter.")


add_job_kind("test-names", render_name_pages, label="Name pages")
add_job_kind("test-broken", render_broken, label="Broken pages")
add_job_kind("test-refused", render_refused, label="Refused pages")

NAMES = ["Chunli Bai", "白春礼", "محمد عبد الله", "Ольга Иванова", "สมชาย ใจดี"]


def queue_job(app, event, kind="test-names", params=None, email="admin@example.org") -> int:
    """Create a job through the service, as the organizer `email`; its id."""
    with app.app_context():
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == email))
        job = create_job(db.session.get(Event, event.id), kind, params or {"names": NAMES}, organizer)
        return job.id


def run_all(app) -> int:
    """Run the worker's side task until nothing is pending, as `outbox-worker --once` does; how many passes did."""
    with app.app_context():
        passes = 0
        while run_pending():
            passes += 1
        return passes


def job_row(app, job_id) -> DocumentJob | None:
    with app.app_context():
        job = db.session.get(DocumentJob, job_id)
        if job is not None:
            db.session.expunge(job)
        return job


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def jobs_url(event, job_id=None, tail="") -> str:
    base = f"/organizer/events/{event.slug}/documents"
    return base if job_id is None else f"{base}/{job_id}{tail}"


def test_a_job_is_rendered_by_the_worker_and_downloaded(app, logged_in, make_event):
    event = make_event()
    job_id = queue_job(app, event)
    page = logged_in.get(jobs_url(event, job_id))
    assert page.status_code == 200
    assert "Waiting for a worker" in page.text
    assert 'http-equiv="refresh"' in page.text  # without JavaScript the page reloads itself
    assert "/download" not in page.text
    assert logged_in.get(jobs_url(event, job_id, "/download")).status_code == 404  # not ready yet

    assert run_all(app) == 1
    job = job_row(app, job_id)
    assert (job.state, job.done, job.total, job.filename) == ("done", 5, 5, "names.pdf")

    page = logged_in.get(jobs_url(event, job_id))
    assert "Ready" in page.text and "Download the PDF" in page.text
    assert 'http-equiv="refresh"' not in page.text
    download = logged_in.get(jobs_url(event, job_id, "/download"))
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="names.pdf"')
    assert download.data.startswith(b"%PDF") and page_count(download.data) == len(NAMES)
    assert job.size == len(download.data)


def test_progress_is_committed_while_the_job_renders(app, make_event, make_organizer):
    seen = []

    def read_back(job):
        # On a connection of its own, as the page's poll: the progress must be committed while the render goes on.
        with db.engine.connect() as connection:
            seen.append(tuple(connection.execute(select(DocumentJob.done, DocumentJob.total)).one()))

    add_job_kind("test-progress", lambda job, progress: render_name_pages(job, progress, read_back))
    make_organizer()
    job_id = queue_job(app, make_event(), kind="test-progress")
    run_all(app)
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert job_row(app, job_id).done == 5


def test_the_status_json_follows_the_job(app, logged_in, make_event):
    event = make_event()
    job_id = queue_job(app, event)
    status = logged_in.get(jobs_url(event, job_id, ".json")).get_json()
    assert status == {
        "state": "queued",
        "state_label": "Waiting for a worker",
        "done": 0,
        "total": 0,
        "progress_text": "0 of 0",
        "download_url": None,
        "error": "",
    }
    run_all(app)
    status = logged_in.get(jobs_url(event, job_id, ".json")).get_json()
    assert (status["state"], status["done"], status["total"], status["progress_text"]) == ("done", 5, 5, "5 of 5")
    assert status["download_url"] == jobs_url(event, job_id, "/download")


def test_a_failing_render_is_retried_then_fails_with_a_message_on_the_page(app, logged_in, make_event):
    event = make_event()
    job_id = queue_job(app, event, kind="test-broken")
    with app.app_context():
        assert run_pending() == 1
    job = job_row(app, job_id)
    assert (job.state, job.attempts) == ("queued", 1)  # tried again by the next pass

    run_all(app)
    job = job_row(app, job_id)
    assert (job.state, job.attempts) == ("failed", jobs.MAX_ATTEMPTS)
    page = logged_in.get(jobs_url(event, job_id))
    assert "Failed" in page.text
    assert "The document could not be rendered because of an error on the server" in page.text
    assert "a bug in the render" not in page.text  # the exception is logged, not shown
    assert 'http-equiv="refresh"' not in page.text
    assert logged_in.get(jobs_url(event, job_id, ".json")).get_json()["error"].startswith("The document could not")
    assert logged_in.get(jobs_url(event, job_id, "/download")).status_code == 404


def test_a_refusal_fails_at_once_with_its_own_sentence(app, logged_in, make_event):
    event = make_event()
    job_id = queue_job(app, event, kind="test-refused")
    assert run_all(app) == 1
    assert (job_row(app, job_id).state, job_row(app, job_id).attempts) == ("failed", 1)
    assert "No delegate matches the list&#39;s filter." in logged_in.get(jobs_url(event, job_id)).text


def test_expired_jobs_are_gone_from_the_pages_and_deleted(app, logged_in, make_event):
    event = make_event()
    job_id = queue_job(app, event)
    run_all(app)
    with app.app_context():
        db.session.execute(update(DocumentJob).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert logged_in.get(jobs_url(event, job_id)).status_code == 404
    assert logged_in.get(jobs_url(event, job_id, "/download")).status_code == 404
    assert "No documents have been asked for" in logged_in.get(jobs_url(event)).text
    with app.app_context():
        assert run_pending() == 1  # the deletion
    assert job_row(app, job_id) is None


def test_create_job_expires_a_day_later_and_refuses_an_unknown_kind(app, make_event):
    event = make_event()
    with app.app_context():
        before = utcnow()
        job = create_job(db.session.get(Event, event.id), "test-names", {"names": []}, None)
        assert before + jobs.JOB_LIFETIME <= job.expires_at <= utcnow() + jobs.JOB_LIFETIME
        with pytest.raises(jobs.UnknownJobKind):
            create_job(db.session.get(Event, event.id), "no-such-kind", {}, None)


def test_the_list_shows_the_events_jobs_with_who_asked(app, logged_in, make_event):
    event, other = make_event(), make_event(title="Other Forum")
    done_id = queue_job(app, event)
    run_all(app)
    queued_id = queue_job(app, event)
    queue_job(app, other)
    page = logged_in.get(jobs_url(event))
    assert page.status_code == 200
    assert page.text.count("Name pages") == 2
    assert "admin@example.org" in page.text
    assert "Waiting for a worker" in page.text and "Ready" in page.text
    assert jobs_url(event, done_id, "/download") in page.text
    assert jobs_url(event, queued_id, "/download") not in page.text


def test_another_events_job_is_not_found(app, logged_in, make_event):
    event, other = make_event(), make_event(title="Other Forum")
    job_id = queue_job(app, other)
    run_all(app)
    for tail in ("", ".json", "/download"):
        assert logged_in.get(jobs_url(event, job_id, tail)).status_code == 404
        assert logged_in.get(jobs_url(other, job_id, tail)).status_code == 200


def test_logged_out_visitors_go_to_the_login(app, client, make_event, make_organizer):
    make_organizer()
    event = make_event()
    job_id = queue_job(app, event)
    for url in (jobs_url(event), jobs_url(event, job_id), jobs_url(event, job_id, ".json")):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_check_in_staff_are_refused(app, client, make_event, make_organizer):
    make_organizer()
    event = make_event()
    job_id = queue_job(app, event)
    run_all(app)
    with app.app_context():
        create_organizer("desk@example.org", PASSWORD, "checkin")
    assert client.post("/auth/login", data={"email": "desk@example.org", "password": PASSWORD}).status_code == 302
    for tail in ("", ".json", "/download"):
        assert client.get(jobs_url(event, job_id, tail)).status_code == 403
    assert client.get(jobs_url(event)).status_code == 403


def test_a_job_is_created_after_another_connection_wrote_meanwhile(app, make_event):
    """The request read first (its page), another request committed, then the job is queued: it waits for the
    write lock instead of failing with "database is locked"."""
    event = make_event()
    with app.app_context():
        loaded = db.session.get(Event, event.id)  # the request's read transaction begins
        with db.engine.connect() as other, other.begin():
            other.execute(update(Event).where(Event.id == event.id).values(title="Renamed meanwhile"))
        job = create_job(loaded, "test-names", {"names": ["Ada"]}, None)
        assert db.session.get(DocumentJob, job.id).state == "queued"
