"""`flask create-organizer`."""

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from ..models import ROLE_LABELS
from .services import ROLES, AccountError, create_organizer


@click.command("create-organizer")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.password_option(help="Asked for when not given.")
@with_appcontext
def create_organizer_command(email: str, role: str, password: str) -> None:
    """Create an organizer account that can log in."""
    try:
        organizer = create_organizer(email, password, role)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Created %(role)s %(email)s.", role=ROLE_LABELS[organizer.role], email=organizer.email))


commands = [create_organizer_command]
