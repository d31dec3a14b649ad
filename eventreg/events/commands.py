"""`flask create-event`."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from ..cli import public_event_url
from ..models import utcnow
from .rules import MAX_CAPACITY, EventError, default_end, local_time
from .services import create_event


class LocalTime(click.ParamType):
    """A date and time such as 2027-03-01T10:00, read in the event's timezone later."""

    name = "datetime"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date and time like 2027-03-01T10:00", param, ctx)


def _zone(ctx, param, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            _("%(value)s is not an IANA time zone such as Asia/Shanghai.", value=repr(value))
        ) from None
    return value


@click.command("create-event")
@click.option("--title", required=True)
@click.option("--starts", type=LocalTime(), required=True, help="Local start, e.g. 2027-03-01T10:00.")
@click.option("--timezone", "timezone", required=True, callback=_zone, help="IANA name, e.g. Asia/Shanghai.")
@click.option("--venue", required=True)
@click.option("--city", required=True)
@click.option("--ends", type=LocalTime(), help="Local end; three hours after the start if not given.")
@click.option("--capacity", type=click.IntRange(min=1, max=MAX_CAPACITY), help="Seats, counting accompanying persons.")
@click.option("--opens", type=LocalTime(), help="Local time registration opens; now if not given.")
@click.option("--closes", type=LocalTime(), help="Local time registration closes; the start if not given.")
@click.option("--contact", help="Reply-to address of the event's mails; MAIL_DEFAULT_SENDER if not given.")
@click.option("--description", default="")
@click.option("--requires-approval", is_flag=True, help="Organizers approve each registration before it counts.")
@click.option("--confirmation-note", default="", help="An extra paragraph for the confirmation email.")
@click.option("--hide-seats-left", is_flag=True, help="The public pages do not show how many seats are left.")
@with_appcontext
def create_event_command(**options) -> None:
    """Create an event and print its public URL."""
    timezone = options["timezone"]

    def aware(moment):
        return None if moment is None else local_time(moment, timezone)

    try:
        starts = aware(options["starts"])
        event = create_event(
            title=options["title"],
            description=options["description"],
            venue=options["venue"],
            city=options["city"],
            timezone=options["timezone"],
            starts_at=starts,
            ends_at=aware(options["ends"]) or default_end(starts),
            capacity=options["capacity"],
            registration_opens_at=aware(options["opens"]),
            registration_closes_at=aware(options["closes"]),
            contact_email=options["contact"],
            requires_approval=options["requires_approval"],
            confirmation_note=options["confirmation_note"],
            show_seats_left=not options["hide_seats_left"],
        )
    except EventError as error:
        raise click.ClickException(str(error)) from None
    if event.starts_at < utcnow():
        click.echo(_("Note: this event has already started; registration for it is closed."), err=True)
    click.echo(public_event_url(event.slug))


commands = [create_event_command]
