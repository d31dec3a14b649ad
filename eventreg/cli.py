"""Flask commands: organizers, events, demo data, the outbox worker, the purge of past events' personal data and the
rotation of the data keys."""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext

from .auth.services import ROLES, AccountError, create_organizer
from .data_keys import reseal_column
from .events import MAX_CAPACITY, EventError, create_event, default_end, local_time
from .models import SEALED_COLUMNS, utcnow


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
    click.echo(f"Created {organizer.role} {organizer.email}.")


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
        raise click.BadParameter(f"{value!r} is not an IANA timezone such as Asia/Shanghai") from None
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
        click.echo("Note: this event has already started; registration for it is closed.", err=True)
    click.echo(_public_url(event.slug))


def _public_url(slug: str) -> str:
    if current_app.config.get("SERVER_NAME"):
        return url_for("registration.show_event", slug=slug, _external=True)
    return f"/e/{slug}"


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds an event already.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Create a demo ceremony with 700 fictitious delegates and an organizer account."""
    from .demo import DemoExists, load_demo

    try:
        result = load_demo(if_empty=if_empty)
    except DemoExists as error:
        click.echo(str(error))
        return
    click.echo(f"Demo event: {_public_url(result.event.slug)} ({result.delegates} delegates)")
    click.echo(f"Organizer login: {result.email} / {result.password}  (saved in {result.saved_to})")


@click.command("outbox-worker")
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
@with_appcontext
def outbox_worker_command(once: bool) -> None:
    """Send queued mail until stopped (SIGTERM finishes the message in hand)."""
    from .mail.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        run_worker(once=once)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None


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
    from .privacy import purge_candidates, purge_event

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


@click.command("rotate-data-keys")
@with_appcontext
def rotate_data_keys_command() -> None:
    """Encrypt every sealed value (private-link tokens) anew under the first key of FLASK_DATA_KEYS."""
    done = sum(reseal_column(column) for column in SEALED_COLUMNS)
    click.echo(f"Re-encrypted {done} values under the first data key. Keys after the first can now be removed.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (
        create_organizer_command,
        create_event_command,
        demo_command,
        outbox_worker_command,
        purge_command,
        rotate_data_keys_command,
    ):
        app.cli.add_command(command)
