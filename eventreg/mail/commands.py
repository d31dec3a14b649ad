"""`flask outbox-worker`."""

import logging

import click
from flask.cli import with_appcontext

from .worker import run_worker


@click.command("outbox-worker")
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
@with_appcontext
def outbox_worker_command(once: bool) -> None:
    """Send queued mail until stopped (SIGTERM finishes the message in hand)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        run_worker(once=once)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None


commands = [outbox_worker_command]
