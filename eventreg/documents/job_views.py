"""The organizers' pages of document jobs: the event's recent jobs, one job's progress while a worker renders it
(polled by static/js/document-job.js, refreshed by the page itself without JavaScript), then the download."""

from flask import Blueprint, Response, abort, jsonify, render_template, url_for
from flask_babel import format_number
from flask_babel import gettext as _

from ..auth.access import managed_event, requires
from ..models import DocumentJob, DocumentJobState, Right
from ..models.documents import DOCUMENT_JOB_STATE_LABELS
from ..organizer.export_views import attachment
from .jobs import error_message, job_content, job_of_event, kind_label, recent_jobs

bp = Blueprint("documents", __name__, url_prefix="/organizer")


@bp.get("/events/<slug:slug>/documents")
@requires(Right.MANAGE_EVENTS)
def list_jobs(slug: str):
    """The event's recent document jobs (what, who asked, when, how far, size, expiry), with their links."""
    event = managed_event(slug)
    return render_template(
        "documents/jobs.html",
        event=event,
        rows=recent_jobs(event.id),
        kind_label=kind_label,
        state_labels=DOCUMENT_JOB_STATE_LABELS,
    )


@bp.get("/events/<slug:slug>/documents/<int:job_id>")
@requires(Right.MANAGE_EVENTS)
def show_job(slug: str, job_id: int):
    """One document job: its progress while it renders, the error when it failed, the download when ready."""
    event = managed_event(slug)
    job = job_of_event(event.id, job_id) or abort(404)
    return render_template(
        "documents/job.html",
        event=event,
        job=job,
        kind_label=kind_label(job.kind),
        state_label=DOCUMENT_JOB_STATE_LABELS[DocumentJobState(job.state)],
        error=error_message(job) if job.state != DocumentJobState.DONE else "",
        status_url=url_for(".job_status", slug=event.slug, job_id=job.id),
        download_url=_download_url(event.slug, job),
    )


@bp.get("/events/<slug:slug>/documents/<int:job_id>.json")
@requires(Right.MANAGE_EVENTS)
def job_status(slug: str, job_id: int):
    """How far the job is, as JSON (the job's page polls it); download_url is null until the PDF is ready."""
    event = managed_event(slug)
    job = job_of_event(event.id, job_id) or abort(404)
    return jsonify(
        state=job.state,
        state_label=str(DOCUMENT_JOB_STATE_LABELS[DocumentJobState(job.state)]),
        done=job.done,
        total=job.total,
        progress_text=_("%(done)s of %(total)s", done=format_number(job.done), total=format_number(job.total)),
        download_url=_download_url(event.slug, job),
        error=error_message(job) if job.state != DocumentJobState.DONE else "",
    )


@bp.get("/events/<slug:slug>/documents/<int:job_id>/download")
@requires(Right.MANAGE_EVENTS)
def download_job(slug: str, job_id: int):
    """The job's PDF as an attachment; 404 while it is not ready, and once it has expired."""
    event = managed_event(slug)
    found = job_content(event.id, job_id) or abort(404)
    filename, content = found
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def _download_url(slug: str, job: DocumentJob) -> str | None:
    """Where the job's PDF is downloaded, once it is ready."""
    if job.state != DocumentJobState.DONE:
        return None
    return url_for(".download_job", slug=slug, job_id=job.id)
