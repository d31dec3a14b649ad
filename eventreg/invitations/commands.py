"""`flask invite`: import a file of invitations from the command line."""

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from ..events.services import event_by_slug
from .importing import ImportFileError, apply_import, preview_import


@click.command("invite")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--send", is_flag=True, help="Queue the invitation mails of the added and updated rows not yet sent.")
@click.option("--dry-run", is_flag=True, help="Print the preview only; write nothing.")
@with_appcontext
def invite_command(slug: str, file: Path, send: bool, dry_run: bool) -> None:
    """Import invitations from a CSV or XLSX file into the event at SLUG: print the preview's counts and the refused
    rows, then (without --dry-run) apply it."""
    event = event_by_slug(slug)
    if event is None:
        raise click.ClickException(_("There is no event at %(slug)s.", slug=repr(slug)))
    try:
        data = file.read_bytes()
    except OSError as error:
        raise click.ClickException(_("%(file)s cannot be read: %(error)s.", file=file, error=error.strerror)) from None
    try:
        preview = preview_import(event.id, file.name, data, keep=not dry_run)
    except ImportFileError as problem:
        raise click.ClickException(f"{file}: {problem}") from None
    counts = preview.counts
    click.echo(_("To add: %(add)d  To update: %(update)d  Refused: %(refused)d", **counts))
    for row in preview.rows:
        if row["action"] == "refused":
            click.echo(
                _(
                    "  row %(row)d: %(email)s: %(reason)s",
                    row=row["row"],
                    email=row["values"].get("email", ""),
                    reason=row["reason"],
                )
            )
    if dry_run:
        click.echo(_("Dry run: nothing was written."))
        return
    try:
        apply_import(preview.id, send=send)
    except ValueError as error:  # the invitation mail kind is not registered yet (the invitee side)
        raise click.ClickException(_("The invitations are saved, but not sent: %(error)s", error=error)) from None
    click.echo(
        _("Applied; the invitation mails are queued.")
        if send
        else _("Applied; send them from the list or with --send.")
    )


commands = [invite_command]
