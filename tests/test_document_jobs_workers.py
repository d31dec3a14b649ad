"""Document jobs and their workers: any app host serves a PDF another host's worker rendered; several workers
render each job once; a job whose worker died is taken by another; `outbox-worker --once` renders what waits."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from eventreg import create_app
from eventreg.documents import jobs
from eventreg.documents.jobs import add_job_kind, run_pending
from eventreg.extensions import db
from eventreg.models import DocumentJob, Event, utcnow
from tests.conftest import base_config
from tests.test_document_jobs import NAMES, job_row, jobs_url, page_count, queue_job, run_all

# Every render of the counting kind, by job id, from whichever thread did it.
RENDERED: list[int] = []
RENDERED_LOCK = threading.Lock()


def render_counted(job, progress):
    """A light kind for the claim tests: it notes each render (a PDF's bytes are not what they test)."""
    with RENDERED_LOCK:
        RENDERED.append(job.id)
    progress(1, 1)
    return f"job-{job.id}.pdf", b"%PDF-1.4 counted"


add_job_kind("test-counted", render_counted, label="Counted")


@pytest.fixture
def second_app(app, tmp_path):
    """Another app object on the same database, as a second host is: its own engine, sessions and settings."""
    other = create_app(base_config(tmp_path), instance_path=str(tmp_path / "instance-b"))
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_pdf_rendered_by_one_host_is_served_by_another(app, logged_in, make_event, second_app):
    assert app.config["SQLALCHEMY_DATABASE_URI"] == second_app.config["SQLALCHEMY_DATABASE_URI"]
    event = make_event()
    job_id = queue_job(app, event)  # asked for on host A
    assert run_all(second_app) == 1  # rendered by host B's worker
    download = logged_in.get(jobs_url(event, job_id, "/download"))  # served by host A
    assert download.status_code == 200 and page_count(download.data) == len(NAMES)


def test_two_workers_at_once_render_each_job_once(app, make_event, make_organizer, second_app):
    make_organizer()
    event = make_event()
    job_ids = [queue_job(app, event, kind="test-counted") for _ in range(8)]
    RENDERED.clear()
    start = threading.Barrier(2)
    failures = []

    def worker(host):
        try:
            start.wait()
            run_all(host)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(host,)) for host in (app, second_app)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert Counter(RENDERED) == Counter(job_ids)  # each job once, none twice
    assert {job_row(app, job_id).state for job_id in job_ids} == {"done"}


def lease_job(app, job_id, *, expired: bool, attempts: int = 1) -> None:
    """Make the job look claimed by a worker, whose lease has ended (it died) or not (it is rendering)."""
    lease = utcnow() + (-timedelta(seconds=1) if expired else jobs.LEASE)
    with app.app_context():
        db.session.execute(
            update(DocumentJob)
            .where(DocumentJob.id == job_id)
            .values(state="running", attempts=attempts, lease_until=lease, done=3, total=5)
        )
        db.session.commit()


def test_a_job_being_rendered_is_left_to_its_worker(app, make_event, make_organizer):
    make_organizer()
    job_id = queue_job(app, make_event(), kind="test-counted")
    lease_job(app, job_id, expired=False)
    assert run_all(app) == 0
    assert job_row(app, job_id).state == "running"


def test_a_job_whose_worker_died_is_taken_by_another(app, make_event, make_organizer):
    make_organizer()
    job_id = queue_job(app, make_event())
    lease_job(app, job_id, expired=True)
    assert run_all(app) == 1
    job = job_row(app, job_id)
    assert (job.state, job.attempts, job.done, job.total) == ("done", 2, 5, 5)


def test_a_job_that_kills_its_worker_every_time_fails(app, logged_in, make_event):
    event = make_event()
    job_id = queue_job(app, event)
    lease_job(app, job_id, expired=True, attempts=jobs.MAX_ATTEMPTS)
    run_all(app)
    assert job_row(app, job_id).state == "failed"
    assert "The worker stopped while rendering this document" in logged_in.get(jobs_url(event, job_id)).text


def test_a_worker_that_lost_its_lease_does_not_overwrite_the_new_one(app, make_event, make_organizer):
    make_organizer()
    job_id = queue_job(app, make_event(), kind="test-counted")
    taken_over = []

    def slow_worker_render(job, progress):
        # While this worker renders, its lease ends and another worker claims the job (attempt 2).
        lease_job(app, job.id, expired=False, attempts=job.attempts + 1)
        taken_over.append(job.id)
        return "stale.pdf", b"%PDF-1.4 stale"

    add_job_kind("test-overtaken", slow_worker_render)
    with app.app_context():
        db.session.execute(update(DocumentJob).where(DocumentJob.id == job_id).values(kind="test-overtaken"))
        db.session.commit()
        assert run_pending() == 1
    assert taken_over == [job_id]
    job = job_row(app, job_id)
    assert (job.state, job.filename) == ("running", "")  # left to the worker that holds the lease now


def test_outbox_worker_once_renders_waiting_jobs(app, runner, make_event, make_organizer):
    make_organizer()
    event = make_event()
    job_id = queue_job(app, event)
    result = runner.invoke(args=["outbox-worker", "--once"])
    assert result.exit_code == 0, result.output
    job = job_row(app, job_id)
    assert job.state == "done" and job.size > 0
    with app.app_context():
        assert db.session.scalar(select(Event.id)) == event.id  # the worker left the rest alone


def test_a_side_task_that_raises_keeps_its_thread_running(app, caplog):
    """A bug in a side task (any exception, not only a database error) is logged, and the task runs again."""
    from eventreg.mail.worker import _start_side_task

    app.config["OUTBOX_POLL_SECONDS"] = 0.05
    calls = []
    second_call = threading.Event()
    stopped = threading.Event()

    def flaky_task() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug in the render")
        second_call.set()
        return 0

    with app.app_context():
        thread = _start_side_task(flaky_task, stopped.is_set)
    try:
        assert second_call.wait(timeout=10), "the side task's thread died with the exception"
        assert thread.is_alive()
        assert "a bug in the render" in caplog.text
    finally:
        stopped.set()
        thread.join(timeout=10)
