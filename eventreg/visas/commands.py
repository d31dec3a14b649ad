"""`flask visa-letters`: the visa queue from the command line (issue what is pending, write the letters to a folder)."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from ..events.services import event_by_slug
from . import queue
from .letters import render_letter
from .queue import VisaRefused
from .queue_queries import QUEUE_STATES, queue_counts, queue_rows, valid_letters


@click.command("visa-letters")
@click.argument("slug")
@click.option("--issue-pending", is_flag=True, help="Issue a letter to every complete pending request (and mail it).")
@click.option(
    "-o",
    "--output",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each valid letter to this folder as <number>.pdf.",
)
@with_appcontext
def visa_letters_command(slug: str, issue_pending: bool, folder: Path | None) -> None:
    """Print the visa queue of the event at SLUG (counts, then each request's number, name and state); issue the
    pending requests with --issue-pending; write the valid letters to a folder with -o."""
    event = event_by_slug(slug)
    if event is None:
        raise click.ClickException(_("There is no event at %(slug)s.", slug=repr(slug)))
    if (issue_pending or folder) and not current_app.config.get("SERVER_NAME"):
        raise click.ClickException(
            _("Set FLASK_SERVER_NAME (the site's host name): each letter prints the address where it is verified.")
        )
    if issue_pending:
        try:
            issued = queue.issue_pending(event, None)
        except VisaRefused as refusal:
            raise click.ClickException(refusal.message) from None
        click.echo(
            ngettext(
                "Issued %(num)d letter; its mail is in the outbox.",
                "Issued %(num)d letters; their mails are in the outbox.",
                len(issued),
            )
        )
    counts = queue_counts(event)
    click.echo("  ".join(f"{state}: {counts[state]}" for state in QUEUE_STATES))
    for state in QUEUE_STATES:
        for row in queue_rows(event, state):
            number = row.letter.number if row.letter else "-"
            click.echo(f"{number}\t{row.application.passport_name or row.registration.display_name}\t{state}")
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
        letters = valid_letters(event)
        for letter in letters:
            (folder / f"{letter.number}.pdf").write_bytes(render_letter(letter))
        click.echo(
            ngettext(
                "Wrote %(num)d letter to %(folder)s.",
                "Wrote %(num)d letters to %(folder)s.",
                len(letters),
                folder=folder,
            )
        )


commands = [visa_letters_command]
