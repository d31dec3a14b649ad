"""`flask purge`: the personal data of past events' registrations erased."""

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from ..locale_formats import day
from .privacy import purge_candidates, purge_event


@click.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    help="Erase registrations of events that ended more than this many days ago; PURGE_AFTER_DAYS if not given.",
)
@click.option("--dry-run", is_flag=True, help="List what would be erased and change nothing.")
@with_appcontext
def purge_command(days: int | None, dry_run: bool) -> None:
    """Erase the personal data of registrations of past events, keeping their counts (run it daily)."""
    if days is None:
        days = current_app.config["PURGE_AFTER_DAYS"]
    candidates = purge_candidates(days)
    if not candidates:
        click.echo(
            ngettext(
                "Nothing to erase: no event that ended more than %(num)d day ago holds personal data.",
                "Nothing to erase: no event that ended more than %(num)d days ago holds personal data.",
                days,
            )
        )
        return
    for candidate in candidates:
        event = candidate.event
        ended = day(event.local(event.ends_at).date())
        if dry_run:
            click.echo(
                ngettext(
                    "Would erase %(num)d registration of %(slug)s (ended %(ended)s).",
                    "Would erase %(num)d registrations of %(slug)s (ended %(ended)s).",
                    candidate.registrations,
                    slug=event.slug,
                    ended=ended,
                )
            )
        else:
            erased = purge_event(event.id)
            click.echo(
                ngettext(
                    "Erased %(num)d registration of %(slug)s (ended %(ended)s).",
                    "Erased %(num)d registrations of %(slug)s (ended %(ended)s).",
                    erased,
                    slug=event.slug,
                    ended=ended,
                )
            )
    if dry_run:
        click.echo(_("Dry run: nothing was changed."))


commands = [purge_command]
