"""Administration: organizer accounts, their roles and events, and the audit log."""

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.exceptions import NotFound
from wtforms import SelectChoice

from ..auth.access import requires
from ..auth.services import AccountError, create_organizer, home_endpoint
from ..models import ROLE_LABELS, Right
from ..pagination import last_page_if_beyond, requested_page
from . import services
from .audit_log import AuditFilter, audit_entries, changed_values, readable_time
from .forms import AssignmentForm, ButtonForm, NewAccountForm, ResetPasswordForm, RoleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

T = TypeVar("T")


@bp.errorhandler(services.AccountNotFound)
def _no_such_account(error: services.AccountNotFound):
    return current_app.handle_http_exception(NotFound())  # the app's error page, like any 404


@bp.get("/accounts")
@requires(Right.MANAGE_ACCOUNTS)
def accounts():
    """Every organizer account, with its role, state and number of events."""
    return render_template("admin/accounts.html", accounts=services.organizer_accounts(), role_labels=ROLE_LABELS)


@bp.route("/accounts/new", methods=["GET", "POST"])
@requires(Right.MANAGE_ACCOUNTS)
def new_account():
    """Add an organizer account with a first password."""
    form = NewAccountForm()
    account = _apply(form, lambda: create_organizer(form.email.data, form.password.data, form.role.data))
    if account is None:
        return render_template("admin/new_account.html", form=form)
    flash(
        _("The account %(email)s has been added. Hand its first password over in person.", email=account.email),
        "success",
    )
    return redirect(url_for("admin.account", organizer_id=account.id))


def _apply(form, change: Callable[[], T]) -> T | None:
    """What `change()` returns, called when the form is valid; None when the form is not valid or the change is
    refused, whose reason then shows at the field it is about (the first field when it names none the form has)."""
    if not form.validate_on_submit():
        return None
    try:
        return change()
    except AccountError as error:
        field = getattr(form, error.field or "", None) or next(iter(form))
        field.errors.append(str(error))
        return None


def _account_forms(account) -> dict:
    """The forms of an account's page, filled with what the account is now."""
    assignment = AssignmentForm(prefix="assign")
    assignment.events.choices = [SelectChoice(event.id, event.title) for event in services.all_events()]
    if not assignment.is_submitted():
        assignment.events.data = [event.id for event in account.events]
    return {
        "role_form": RoleForm(prefix="role", data={"role": account.role}),
        "password_form": ResetPasswordForm(prefix="password"),
        "assignment_form": assignment,
        "button_form": ButtonForm(),
    }


def _render_account(account, **forms):
    values = _account_forms(account) | forms
    return render_template("admin/account.html", account=account, role_labels=ROLE_LABELS, **values)


@bp.get("/accounts/<int:organizer_id>")
@requires(Right.MANAGE_ACCOUNTS)
def account(organizer_id: int):
    """One account: change its role, reset its password, (de)activate it, choose its events."""
    return _render_account(services.account_by_id(organizer_id))


@bp.post("/accounts/<int:organizer_id>/role")
@requires(Right.MANAGE_ACCOUNTS)
def change_role(organizer_id: int):
    """Give the account another role."""
    account = services.account_by_id(organizer_id)
    form = RoleForm(prefix="role")
    changed = _apply(form, lambda: services.change_role(account.id, form.role.data))
    if changed is None:
        return _render_account(account, role_form=form)
    if changed:
        label = ROLE_LABELS[form.role.data]
        flash(_("%(email)s is now: %(role)s.", email=account.email, role=label), "success")
    return _after_change(account)


@bp.post("/accounts/<int:organizer_id>/deactivate")
@requires(Right.MANAGE_ACCOUNTS)
def deactivate(organizer_id: int):
    """Stop the account from logging in, and end its sessions (the account and its history stay)."""
    return _set_active(organizer_id, active=False)


@bp.post("/accounts/<int:organizer_id>/reactivate")
@requires(Right.MANAGE_ACCOUNTS)
def reactivate(organizer_id: int):
    """Let a deactivated account log in again."""
    return _set_active(organizer_id, active=True)


def _set_active(organizer_id: int, active: bool):
    account = services.account_by_id(organizer_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        return _render_account(account, button_form=form)
    # Not _apply(): a button has no field to show a refusal at, so the refusal is flashed on the account's page.
    try:
        changed = services.set_active(account.id, active)
    except AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.account", organizer_id=account.id))
    if changed and active:
        flash(_("%(email)s can log in again.", email=account.email), "success")
    elif changed:
        flash(
            _(
                "%(email)s can no longer log in; their sessions have ended and their API tokens are revoked.",
                email=account.email,
            ),
            "success",
        )
    return _after_change(account)


@bp.post("/accounts/<int:organizer_id>/password")
@requires(Right.MANAGE_ACCOUNTS)
def reset_password(organizer_id: int):
    """Set a new password for the account; its sessions end and its API tokens are revoked."""
    account = services.account_by_id(organizer_id)
    form = ResetPasswordForm(prefix="password")
    reset = _apply(form, lambda: services.reset_password(account.id, form.password.data))
    if reset is None:
        return _render_account(account, password_form=form)
    if reset.id == current_user.id:
        login_user(reset)  # an administrator resetting their own password stays logged in here
    flash(
        _(
            "The password of %(email)s has been reset; its sessions have ended and its API tokens are revoked.",
            email=reset.email,
        ),
        "success",
    )
    return redirect(url_for("admin.account", organizer_id=reset.id))


@bp.post("/accounts/<int:organizer_id>/events")
@requires(Right.MANAGE_ACCOUNTS)
def assign_events(organizer_id: int):
    """Choose the events the account runs."""
    account = services.account_by_id(organizer_id)
    forms = _account_forms(account)
    form = forms["assignment_form"]
    if form.validate_on_submit():
        added, removed = services.assign_events(account.id, set(form.events.data or []))
        flash(
            _("Events saved: %(added)d added, %(removed)d removed.", added=len(added), removed=len(removed)), "success"
        )
        return redirect(url_for("admin.account", organizer_id=account.id))
    return _render_account(account, **forms)


def _after_change(account):
    """Back to the account's page; or, when administrators changed their own account, to a page they may still see."""
    if account.id == current_user.id:
        if not current_user.active:
            return redirect(url_for("auth.login"))
        if not current_user.can(Right.MANAGE_ACCOUNTS):
            return redirect(url_for(home_endpoint(current_user)))
    return redirect(url_for("admin.account", organizer_id=account.id))


@bp.get("/audit")
@requires(Right.MANAGE_ACCOUNTS)
def audit():
    """The audit log, newest first, narrowed by ?event=<slug> and ?organizer=<id>."""
    audit_filter = AuditFilter.from_args(request.args)
    entries = audit_entries(audit_filter, page=requested_page(request.args))
    last = last_page_if_beyond(entries)
    if last is not None:  # a bookmark from a longer log, or an absurd number: the last page
        return redirect(url_for(".audit", **audit_filter.query_args(page=last if last > 1 else None)))
    return render_template(
        "admin/audit.html",
        audit_filter=audit_filter,
        entries=entries,
        changed_values=changed_values,
        readable_time=readable_time,
        events=services.all_events(),
        accounts=[account for account, _count in services.organizer_accounts()],
    )
