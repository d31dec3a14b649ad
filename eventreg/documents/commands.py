"""`flask badges`: a run of badges written to a file, for scripts and printers."""

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from ..attendees.filters import AttendeeFilter
from ..categories.services import category_infos
from ..events.services import event_by_slug
from ..extensions import db
from ..languages import offered_languages
from ..models import Registration, Status
from .badges import CHUNK_BADGES, badge_pdf, badge_selection, count_of, layout_keys


@click.command("badges")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF to write.")
@click.option(
    "--layout", default="a6", show_default=True, help="a6, a7, card, single, avery-l7418, avery-5395 or custom."
)
@click.option(
    "--status", default=Status.CONFIRMED.value, show_default=True, type=click.Choice([s.value for s in Status])
)
@click.option("--category", "categories", multiple=True, help="A category code; repeat for several.")
@click.option("--language", default=None, help="Print every badge in this language (default: each delegate's).")
@click.option("--crop-marks", is_flag=True, help="Draw crop marks around each badge.")
@with_appcontext
def badges_command(slug, output, layout, status, categories, language, crop_marks):
    """Write the name badges of an event's delegates to a PDF."""
    event = event_by_slug(slug)
    if event is None:
        raise click.UsageError(_("No event has the address %(slug)s.", slug=repr(slug)))
    if layout not in layout_keys(event):
        raise click.UsageError(
            _(
                "Unknown layout %(layout)s; choose one of %(layouts)s.",
                layout=repr(layout),
                layouts=", ".join(layout_keys(event)),
            )
        )
    known = {info.code for info in category_infos(event.id)}
    unknown = [code for code in categories if code not in known]
    if unknown:
        raise click.UsageError(
            _(
                "The event has no category %(unknown)s; it has %(known)s.",
                unknown=", ".join(unknown),
                known=", ".join(sorted(known)),
            )
        )
    if language is not None and language not in offered_languages():
        raise click.UsageError(
            _(
                "Language %(language)s is not offered; choose one of %(languages)s.",
                language=repr(language),
                languages=", ".join(offered_languages()),
            )
        )
    query = badge_selection(event, AttendeeFilter(status=status, sort="name"))
    if categories:
        query = query.where(Registration.category.in_(categories))
    count = count_of(query)
    if count == 0:
        raise click.ClickException(_("No registration matches: no file was written."))
    rows = db.session.scalars(query.execution_options(yield_per=CHUNK_BADGES))
    try:
        pdf = badge_pdf(event, rows, layout=layout, language=language, crop_marks=crop_marks)
    finally:
        rows.close()  # a server-side cursor on PostgreSQL
    output.write_bytes(pdf)
    click.echo(
        ngettext("%(num)d badge written to %(file)s.", "%(num)d badges written to %(file)s.", count, file=str(output))
    )


commands = [badges_command]
