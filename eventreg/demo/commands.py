"""`flask demo`."""

import click
from flask.cli import with_appcontext

from ..cli import public_event_url
from .load import DemoExists, load_demo


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds an event already.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Create a demo ceremony with 700 fictitious delegates and an organizer account."""
    try:
        result = load_demo(if_empty=if_empty)
    except DemoExists as error:
        click.echo(str(error))
        return
    click.echo(f"Demo event: {public_event_url(result.event.slug)} ({result.delegates} delegates)")
    click.echo(f"Organizer login: {result.email} / {result.password}  (saved in {result.saved_to})")


commands = [demo_command]
