"""The commands of the core (`flask rotate-data-keys`), what the features' commands share, and their registration:
each feature keeps its own commands in its `commands.py`, listed in `COMMANDS` of the app factory."""

from importlib import import_module

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext
from flask_babel import ngettext

from .data_keys import reseal_column
from .models import SEALED_COLUMNS


def public_event_url(slug: str) -> str:
    """The event's public page: absolute when SERVER_NAME is set, else its path."""
    if current_app.config.get("SERVER_NAME"):
        return url_for("registration.show_event", slug=slug, _external=True)
    return f"/e/{slug}"


@click.command("rotate-data-keys")
@with_appcontext
def rotate_data_keys_command() -> None:
    """Encrypt every sealed value (private-link tokens) anew under the first key of FLASK_DATA_KEYS."""
    done = sum(reseal_column(column) for column in SEALED_COLUMNS)
    click.echo(
        ngettext(
            "Re-encrypted %(num)d value under the first data key. Keys after the first can now be removed.",
            "Re-encrypted %(num)d values under the first data key. Keys after the first can now be removed.",
            done,
        )
    )


def init_app(app: Flask, feature_commands: tuple[str, ...]) -> None:
    """Register the core's commands and those of each feature module named (each has a list `commands`)."""
    app.cli.add_command(rotate_data_keys_command)
    for module in feature_commands:
        for command in import_module(module).commands:
            app.cli.add_command(command)
