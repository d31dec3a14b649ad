"""The organizers' invitation pages: the list, one invitation, invite one person, the import with its preview."""

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.access import managed_event, requires
from ..errors import CSRF_MESSAGE
from ..extensions import csrf, db
from ..forms import ConfirmForm
from ..models import Delegation, Invitation, InvitationImport, Right
from ..models.guests import INVITATION_STATUS_LABELS, InvitationStatus
from ..pagination import requested_page
from .forms import ConfirmImportForm, ImportForm, InvitationForm, SendForm
from .importing import (
    ImportFileError,
    ImportStateError,
    apply_import,
    cancel_import,
    import_in,
    preview_import,
)
from .queries import filter_clauses, invitation_filters
from .services import (
    AUDITED_FIELDS,
    AlreadyInvited,
    InvitationRefused,
    InviteeDetails,
    NoSuchInvitation,
    invitation_in,
    invite,
    queued_invitation_ids,
    send_invitations,
    update_invitation,
)

bp = Blueprint("invitations", __name__, url_prefix="/organizer")

UPLOAD_LIMIT = 10 * 1024 * 1024  # the import's own limit; the site's MAX_CONTENT_LENGTH (1 MiB) stays for the rest
PREVIEW_ROWS_PER_PAGE = 100


def _per_page() -> int:
    return current_app.config["REGISTRATIONS_PER_PAGE"]


@bp.get("/events/<slug:slug>/invitations")
@requires(Right.MANAGE_EVENTS)
def list_invitations(slug: str):
    """The event's invitations: counts per status, filters by status, name or address and delegation, a page at a
    time, with actions on the ticked ones."""
    event = managed_event(slug)
    filters = invitation_filters(request.args)
    counts = dict(
        db.session.execute(
            select(Invitation.status, func.count())
            .where(*filter_clauses(event.id, filters, with_status=False))
            .group_by(Invitation.status)
        ).all()
    )
    query = select(Invitation).where(*filter_clauses(event.id, filters)).order_by(Invitation.name_key, Invitation.id)
    page = db.paginate(query, page=requested_page(request.args), per_page=_per_page(), error_out=False)
    delegations = db.session.execute(
        select(Delegation.id, Delegation.name).where(Delegation.event_id == event.id).order_by(Delegation.name_key)
    ).all()
    return render_template(
        "invitations/list.html",
        event=event,
        page=page,
        filters=filters,
        counts=counts,
        total=sum(counts.values()),
        statuses=INVITATION_STATUS_LABELS,
        delegations=delegations,
        delegation_names=dict(delegations),
        queued=queued_invitation_ids(i.id for i in page.items if i.status == InvitationStatus.NOT_SENT),
        remind_url=url_for("invitation_reminders.remind", slug=slug),
    )


def _queue(event_id: int, ids: list[int] | None) -> None:
    """Queue the invitation mails and say how many went to the outbox."""
    try:
        sent = send_invitations(event_id, ids, current_user)
    except ValueError:  # the invitation mail kind is not registered: the invitee side is not installed
        db.session.rollback()
        flash(_("Invitation mails cannot be sent yet."), "error")
        return
    if sent:
        flash(ngettext("%(num)d invitation mail is queued.", "%(num)d invitation mails are queued.", sent), "success")
    else:
        flash(_("No invitation was sent: those ticked have already answered."), "error")


@bp.post("/events/<slug:slug>/invitations/send")
@requires(Right.MANAGE_EVENTS)
def send_selected(slug: str):
    """Queue the invitation mail of each ticked invitation, then back to the same list."""
    event = managed_event(slug)
    form = SendForm()
    if form.validate():
        _queue(event.id, form.ids.data)
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for(".list_invitations", slug=slug, **invitation_filters(request.form)))


def _invitation_or_404(slug: str, invitation_id: int):
    event = managed_event(slug)
    try:
        return event, invitation_in(event.id, invitation_id)
    except NoSuchInvitation:
        abort(404)


@bp.get("/events/<slug:slug>/invitations/<int:invitation_id>")
@requires(Right.MANAGE_EVENTS)
def invitation_detail(slug: str, invitation_id: int):
    """One invitation: what it says, where it stands and when, its registration, and sending it again."""
    event, invitation = _invitation_or_404(slug, invitation_id)
    delegation = db.session.get(Delegation, invitation.delegation_id) if invitation.delegation_id else None
    return render_template(
        "invitations/detail.html",
        event=event,
        invitation=invitation,
        delegation=delegation,
        queued=bool(queued_invitation_ids([invitation.id])),
        statuses=INVITATION_STATUS_LABELS,
        form=ConfirmForm(),
    )


@bp.post("/events/<slug:slug>/invitations/<int:invitation_id>/send")
@requires(Right.MANAGE_EVENTS)
def send_one(slug: str, invitation_id: int):
    """Queue this invitation's mail (again)."""
    event, invitation = _invitation_or_404(slug, invitation_id)
    if ConfirmForm().validate_on_submit():
        _queue(event.id, [invitation.id])
    return redirect(url_for(".invitation_detail", slug=slug, invitation_id=invitation_id))


def _details(form: InvitationForm) -> InviteeDetails:
    fields = ("email", "honorific", "given_name", "family_name", "native_name", "institution", "position")
    return InviteeDetails(
        **{name: form[name].data or "" for name in fields},
        country=form.country.data or "",
        category=form.category.data or "",
        language=form.language.data or "",
        delegation=form.delegation.data or None,
        is_focal_point=form.is_focal_point.data,
        skip_approval=form.skip_approval.data,
    )


@bp.route("/events/<slug:slug>/invitations/new", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def new_invitation(slug: str):
    """Invite one person; an address already invited points to its invitation."""
    event = managed_event(slug)
    form = InvitationForm(event.id)
    existing = None
    if form.validate_on_submit():
        try:
            invitation = invite(event.id, _details(form), current_user)
        except AlreadyInvited as refusal:
            form.email.errors.append(refusal.message)
            existing = refusal.invitation_id
        except InvitationRefused as refusal:
            getattr(form, refusal.field).errors.append(refusal.message)
        else:
            flash(_("The invitation is saved; it is sent when you send it from the list."), "success")
            return redirect(url_for(".invitation_detail", slug=slug, invitation_id=invitation.id))
    return render_template("invitations/edit.html", event=event, form=form, invitation=None, existing=existing)


@bp.route("/events/<slug:slug>/invitations/<int:invitation_id>/edit", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
def edit_invitation(slug: str, invitation_id: int):
    """Correct what an invitation says."""
    event, invitation = _invitation_or_404(slug, invitation_id)
    delegation = db.session.get(Delegation, invitation.delegation_id) if invitation.delegation_id else None
    # Not obj=invitation: the form's delegation (a name) is not the invitation's relationship.
    data = {name: getattr(invitation, name) for name in AUDITED_FIELDS if name != "delegation_id"}
    form = InvitationForm(event.id, data={**data, "delegation": delegation.name if delegation else ""})
    existing = None
    if form.validate_on_submit():
        try:
            changed = update_invitation(event.id, invitation.id, _details(form), current_user)
        except AlreadyInvited as refusal:
            form.email.errors.append(refusal.message)
            existing = refusal.invitation_id
        except InvitationRefused as refusal:
            getattr(form, refusal.field).errors.append(refusal.message)
        else:
            flash(_("The invitation is saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for(".invitation_detail", slug=slug, invitation_id=invitation_id))
    return render_template("invitations/edit.html", event=event, form=form, invitation=invitation, existing=existing)


@bp.route("/events/<slug:slug>/invitations/import", methods=["GET", "POST"])
@requires(Right.MANAGE_EVENTS)
@csrf.exempt  # the global check would read the body under the site's 1 MiB limit; the form checks its own token
def import_invitations(slug: str):
    """Upload a CSV or XLSX file of invitations (up to 10 MiB); its preview follows."""
    event = managed_event(slug)
    request.max_content_length = UPLOAD_LIMIT  # before anything reads the body
    try:
        form = ImportForm()
    except RequestEntityTooLarge:
        form = ImportForm(read_request=False)
        form.file.errors = [_("The file is larger than 10 MB; please split it.")]
        return render_template("invitations/import.html", event=event, form=form), 413
    if form.validate_on_submit():
        upload = form.file.data
        try:
            preview = preview_import(event.id, upload.filename or "", upload.read(), current_user)
        except ImportFileError as problem:
            form.file.errors.append(str(problem))
        else:
            return redirect(url_for(".import_preview", slug=slug, import_id=preview.id))
    status = 200
    if "csrf_token" in form.errors:  # exempt from the global check, so the page says it (the summary skips it)
        form.form_errors.append(CSRF_MESSAGE)
        status = 400  # as the global check answers a form without its token
    return render_template("invitations/import.html", event=event, form=form), status


def _import_or_404(slug: str, import_id: int):
    event = managed_event(slug)
    preview = import_in(event.id, import_id)
    if preview is None:
        abort(404)
    return event, preview


@bp.get("/events/<slug:slug>/invitations/import/<int:import_id>")
@requires(Right.MANAGE_EVENTS)
def import_preview(slug: str, import_id: int):
    """What an import would do: the counts, the refused rows with their reasons, the rows to add or update."""
    event, preview = _import_or_404(slug, import_id)
    shown = request.args.get("show") if request.args.get("show") in ("add", "update", "refused") else None
    # The refused rows first: they are what the organizer must read before confirming.
    rows = sorted((row for row in preview.rows if shown is None or row["action"] == shown),
                  key=lambda row: row["action"] != "refused")  # fmt: skip
    pages = max(1, -(-len(rows) // PREVIEW_ROWS_PER_PAGE))
    page = min(requested_page(request.args), pages)
    start = (page - 1) * PREVIEW_ROWS_PER_PAGE
    return render_template(
        "invitations/preview.html",
        event=event,
        preview=preview,
        rows=rows[start : start + PREVIEW_ROWS_PER_PAGE],
        shown=shown,
        page=page,
        pages=pages,
        total=preview.counts.get("add", 0) + preview.counts.get("update", 0),
        form=ConfirmImportForm(),
        cancel_form=ConfirmForm(),
    )


@bp.post("/events/<slug:slug>/invitations/import/<int:import_id>/confirm")
@requires(Right.MANAGE_EVENTS)
def confirm_import(slug: str, import_id: int):
    """Apply a previewed import (the page shows its progress meanwhile), optionally sending the invitations."""
    _event, preview = _import_or_404(slug, import_id)
    form = ConfirmImportForm()
    after = url_for(".import_preview", slug=slug, import_id=import_id)
    if form.validate_on_submit():
        try:
            preview = apply_import(preview.id, send=form.send.data, organizer=current_user)
        except ImportStateError as refusal:
            flash(refusal.args[0], "error")
        except ValueError:  # the invitation mail kind is not registered: applied, not sent
            db.session.rollback()
            flash(_("The invitations are saved, but invitation mails cannot be sent yet."), "error")
            after = url_for(".list_invitations", slug=slug)
        else:
            counts = preview.counts
            flash(_("Import done: %(add)d added, %(update)d updated.", add=counts["add"], update=counts["update"]),
                  "success")  # fmt: skip
            after = url_for(".list_invitations", slug=slug)
    if request.accept_mimetypes.best == "application/json":
        # import-progress.js: it goes there itself, so the page it opens shows the message (a redirect followed by
        # fetch would show it to nobody)
        return jsonify(location=after)
    return redirect(after)


@bp.post("/events/<slug:slug>/invitations/import/<int:import_id>/cancel")
@requires(Right.MANAGE_EVENTS)
def cancel_import_view(slug: str, import_id: int):
    """Drop a previewed import: nothing of it is written."""
    _event, preview = _import_or_404(slug, import_id)
    if ConfirmForm().validate_on_submit():
        try:
            cancel_import(preview.id)
        except ImportStateError as refusal:
            flash(refusal.args[0], "error")
        else:
            flash(_("The import is cancelled; nothing was saved."), "success")
            return redirect(url_for(".list_invitations", slug=slug))
    return redirect(url_for(".import_preview", slug=slug, import_id=import_id))


@bp.get("/events/<slug:slug>/invitations/import/<int:import_id>/progress")
@requires(Right.MANAGE_EVENTS)
def import_progress(slug: str, import_id: int):
    """How far a confirmed import is: {state, applied, total} (the preview page polls it)."""
    event = managed_event(slug)
    # Not the whole row: its parsed rows are large and the page asks twice a second.
    progress = db.session.execute(
        select(InvitationImport.state, InvitationImport.applied, InvitationImport.counts).where(
            InvitationImport.id == import_id, InvitationImport.event_id == event.id
        )
    ).first()
    if progress is None:
        abort(404)
    total = progress.counts.get("add", 0) + progress.counts.get("update", 0)
    return jsonify(state=progress.state, applied=min(progress.applied, total), total=total)
