"""Document jobs: a run too large to render in a web request (gunicorn's sync worker sends no heartbeat while it
writes a body, so streaming would not escape its timeout) is a DocumentJob row. A request creates it; every outbox
worker claims and renders jobs in a thread beside mail delivery (mail.worker.add_side_task); the PDF is stored in
the row, so whichever app host the download reaches serves it. Jobs expire after JOB_LIFETIME.

Each job is rendered by one worker: on PostgreSQL the claim locks the row with SKIP LOCKED, on SQLite it is a
short write transaction; either way the claim writes a lease (lease_until), renewed by each progress report, and
a worker that died leaves the job to another once the lease ends. Nothing holds a lock while rendering.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from ..database import begin_write_transaction, is_postgresql
from ..extensions import db
from ..mail.worker import add_side_task
from ..models import DocumentJob, DocumentJobState, Event, Organizer, utcnow

log = logging.getLogger(__name__)

JOB_LIFETIME = timedelta(days=1)
MAX_ATTEMPTS = 3
# A claim holds this long after the claim or the last progress report: longer than any chunk of a run takes.
LEASE = timedelta(minutes=10)

# What the page says of a failure; the error column keeps the key (the page translates it for its reader) or,
# for a JobError, the kind's own sentence.
RENDER_FAILED = "render_failed"
WORKER_STOPPED = "worker_stopped"
ERROR_MESSAGES = {
    RENDER_FAILED: _l("The document could not be rendered because of an error on the server; it was logged."),
    WORKER_STOPPED: _l("The worker stopped while rendering this document, each time it was tried."),
}

Progress = Callable[[int, int], None]
Render = Callable[[DocumentJob, Progress], tuple[str, bytes]]


class JobError(Exception):
    """A render's refusal that trying again cannot fix (nothing matches the filter…): its message, a sentence for
    organizers, is shown on the job's page, and the job fails at once."""


class UnknownJobKind(ValueError):
    """create_job() was asked for a kind no package registered."""


KINDS: dict[str, Render] = {}
KIND_LABELS: dict[str, str] = {}


def add_job_kind(kind: str, render: Render, label: str | None = None) -> None:
    """Make a kind of job known: `render(job, progress)` returns (filename, pdf_bytes) and calls progress(done,
    total) as it goes; `label` names the kind on the organizers' pages. Feature packages call it at import."""
    KINDS[kind] = render
    KIND_LABELS[kind] = label or kind


def kind_label(kind: str) -> str:
    """The kind's name for people ("Name badges"), or its code when no package registered it."""
    return str(KIND_LABELS.get(kind, kind))


def error_message(job: DocumentJob) -> str:
    """What the job's page says of its last failure, in the reader's language ("" when none)."""
    return str(ERROR_MESSAGES.get(job.error, job.error))


def create_job(event: Event, kind: str, params: dict, organizer: Organizer | None) -> DocumentJob:
    """Queue a job of `kind` for `event` with `params` (what its render reads), asked for by `organizer`; commits."""
    if kind not in KINDS:
        raise UnknownJobKind(kind)
    # The write lock first: on SQLite a transaction that began by reading fails at once when it comes to write.
    begin_write_transaction()
    job = DocumentJob(
        event_id=event.id,
        kind=kind,
        params=params,
        state=DocumentJobState.QUEUED,
        created_by_id=organizer.id if organizer is not None else None,
        expires_at=utcnow() + JOB_LIFETIME,
    )
    db.session.add(job)
    db.session.commit()
    return job


def job_of_event(event_id: int, job_id: int) -> DocumentJob | None:
    """The event's job `job_id` (its PDF not loaded), or None when there is none or it has expired."""
    return db.session.scalar(
        select(DocumentJob).where(
            DocumentJob.id == job_id, DocumentJob.event_id == event_id, DocumentJob.expires_at > utcnow()
        )
    )


@dataclass(frozen=True)
class JobRow:
    """One line of the event's job list: the job (its PDF not loaded) and who asked for it."""

    job: DocumentJob
    asked_by: str


def recent_jobs(event_id: int, limit: int = 50) -> list[JobRow]:
    """The event's jobs that have not expired, newest first, with the email of the organizer who asked."""
    query = (
        select(DocumentJob, Organizer.email)
        .outerjoin(Organizer, Organizer.id == DocumentJob.created_by_id)
        .where(DocumentJob.event_id == event_id, DocumentJob.expires_at > utcnow())
        .order_by(DocumentJob.created_at.desc(), DocumentJob.id.desc())
        .limit(limit)
    )
    return [JobRow(job, email or "") for job, email in db.session.execute(query)]


def job_content(event_id: int, job_id: int) -> tuple[str, bytes] | None:
    """The finished job's (filename, PDF), or None when it is not ready, not the event's, or expired."""
    row = db.session.execute(
        select(DocumentJob.filename, DocumentJob.content).where(
            DocumentJob.id == job_id,
            DocumentJob.event_id == event_id,
            DocumentJob.state == DocumentJobState.DONE,
            DocumentJob.expires_at > utcnow(),
        )
    ).first()
    return (row.filename, row.content) if row is not None and row.content is not None else None


def run_pending() -> int:
    """Delete expired jobs, then claim the oldest waiting job (or one whose worker died) and render it; how many
    jobs this did (0: nothing was pending). The outbox worker calls it beside delivery."""
    deleted = delete_expired()
    claim = _claim()
    if claim is None:
        return deleted
    job_id, attempt = claim
    _render(job_id, attempt)
    return deleted + 1


def delete_expired() -> int:
    """Delete the jobs past their expiry, PDF and all; how many. One indexed read when there are none."""
    now = utcnow()
    if db.session.scalar(select(DocumentJob.id).where(DocumentJob.expires_at <= now).limit(1)) is None:
        db.session.rollback()
        return 0
    begin_write_transaction()
    deleted = db.session.execute(delete(DocumentJob).where(DocumentJob.expires_at <= now)).rowcount
    db.session.commit()
    return deleted


def _claimable():
    """The oldest job a worker may take now: a waiting one, or a running one whose lease ended (its worker died)."""
    now = utcnow()
    return (
        select(DocumentJob.id, DocumentJob.state, DocumentJob.attempts)
        .where(
            or_(
                DocumentJob.state == DocumentJobState.QUEUED,
                (DocumentJob.state == DocumentJobState.RUNNING) & (DocumentJob.lease_until < now),
            ),
            DocumentJob.expires_at > now,
        )
        .order_by(DocumentJob.created_at, DocumentJob.id)
        .limit(1)
    )


def _claim() -> tuple[int, int] | None:
    """Lease the oldest claimable job to this worker and commit: (its id, this attempt's number), or None.

    A job whose worker died MAX_ATTEMPTS times is marked failed instead (a run that kills its worker, out of
    memory, would kill every worker in turn)."""
    if is_postgresql():
        begin_write_transaction()
        row = db.session.execute(_claimable().with_for_update(skip_locked=True)).first()
    else:
        # A plain read first: most passes find nothing, and need not wait for the write lock to learn it.
        if db.session.execute(_claimable()).first() is None:
            db.session.rollback()
            return None
        begin_write_transaction()
        row = db.session.execute(_claimable()).first()
    if row is None:
        db.session.rollback()
        return None
    claim = update(DocumentJob).where(DocumentJob.id == row.id)
    if row.state == DocumentJobState.RUNNING and row.attempts >= MAX_ATTEMPTS:
        db.session.execute(
            claim.values(state=DocumentJobState.FAILED, error=WORKER_STOPPED, lease_until=None, finished_at=utcnow())
        )
        db.session.commit()
        log.error("document job %s: its worker stopped %d times, marked failed", row.id, row.attempts)
        return None
    attempt = row.attempts + 1
    db.session.execute(
        claim.values(state=DocumentJobState.RUNNING, attempts=attempt, lease_until=utcnow() + LEASE, done=0)
    )
    db.session.commit()
    return row.id, attempt


def _ours(job_id: int, attempt: int):
    """An UPDATE of the job that changes it only while this worker's claim holds (another did not take it over)."""
    return update(DocumentJob).where(
        DocumentJob.id == job_id, DocumentJob.attempts == attempt, DocumentJob.state == DocumentJobState.RUNNING
    )


def _progress_recorder(job_id: int, attempt: int) -> Progress:
    """A progress(done, total) that writes the job's progress, and renews its lease, in a short transaction of
    its own connection: the render's session is left as it is (no commit expires what it loaded)."""

    def progress(done: int, total: int) -> None:
        with db.engine.connect() as connection:
            connection.execution_options(sqlite_immediate=True)  # the write lock first: no upgrade to fail
            with connection.begin():
                connection.execute(_ours(job_id, attempt).values(done=done, total=total, lease_until=utcnow() + LEASE))

    return progress


def _render(job_id: int, attempt: int) -> None:
    """Render the claimed job and store its PDF (state done), or record why it failed (queued again for another
    try, or failed after MAX_ATTEMPTS)."""
    job = db.session.scalar(select(DocumentJob).options(joinedload(DocumentJob.event)).where(DocumentJob.id == job_id))
    try:
        render = KINDS.get(job.kind)
        if render is None:
            raise JobError(_l("This kind of document cannot be rendered any more."))
        filename, content = render(job, _progress_recorder(job_id, attempt))
    except JobError as refusal:
        db.session.rollback()
        log.info("document job %s: refused: %s", job_id, refusal)
        _finish_failed(job_id, attempt, str(refusal), final=True)
        return
    except Exception:
        db.session.rollback()
        log.exception("document job %s: attempt %d of %d failed", job_id, attempt, MAX_ATTEMPTS)
        _finish_failed(job_id, attempt, RENDER_FAILED, final=attempt >= MAX_ATTEMPTS)
        return
    db.session.rollback()  # what the render read: the result is written in a transaction of its own
    begin_write_transaction()
    stored = db.session.execute(
        _ours(job_id, attempt).values(
            state=DocumentJobState.DONE,
            content=content,
            size=len(content),
            filename=filename,
            error="",
            lease_until=None,
            finished_at=utcnow(),
        )
    ).rowcount
    db.session.commit()
    if not stored:
        log.warning("document job %s: another worker took it over; this rendering is dropped", job_id)
    else:
        log.info("document job %s: %s, %d bytes", job_id, filename, len(content))


def _finish_failed(job_id: int, attempt: int, error: str, *, final: bool) -> None:
    """Record a failed attempt: the job waits for another try, or (final) fails for good."""
    begin_write_transaction()
    values = {"error": error, "lease_until": None}
    if final:
        values.update(state=DocumentJobState.FAILED, finished_at=utcnow())
    else:
        values.update(state=DocumentJobState.QUEUED)
    db.session.execute(_ours(job_id, attempt).values(**values))
    db.session.commit()


add_side_task(run_pending)
