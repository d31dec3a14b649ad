"""`flask purge`: the personal data of past events' registrations erased."""

import click
from flask import current_app
from flask.cli import with_appcontext

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
        click.echo(f"Nothing to erase: no event that ended more than {days} days ago holds personal data.")
        return
    for candidate in candidates:
        event = candidate.event
        ended = event.ends_at.strftime("%Y-%m-%d")
        if dry_run:
            click.echo(f"Would erase {candidate.registrations} registration(s) of {event.slug} (ended {ended}).")
        else:
            erased = purge_event(event.id)
            click.echo(f"Erased {erased} registration(s) of {event.slug} (ended {ended}).")
    if dry_run:
        click.echo("Dry run: nothing was changed.")


commands = [purge_command]
