"""`flask demo`."""

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from ..cli import public_event_url
from .load import DemoExists, load_demo


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds an event already.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Create a demo ceremony with 700 fictitious delegates (delegations among them), a forum by invitation with
    invitations in every status, and an organizer account."""
    try:
        result = load_demo(if_empty=if_empty)
    except DemoExists as error:
        click.echo(str(error))
        return
    click.echo(
        ngettext(
            "Demo event: %(url)s (%(num)d delegate)",
            "Demo event: %(url)s (%(num)d delegates)",
            result.delegates,
            url=public_event_url(result.event.slug),
        )
    )
    click.echo(
        _(
            "Forum by invitation: %(url)s (its invitation list: %(path)s)",
            url=public_event_url(result.forum.slug),
            path=result.invitations_file,
        )
    )
    click.echo(
        _(
            "Organizer login: %(email)s / %(password)s  (saved in %(path)s)",
            email=result.email,
            password=result.password,
            path=result.saved_to,
        )
    )


commands = [demo_command]
