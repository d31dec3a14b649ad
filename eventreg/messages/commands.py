"""`flask send-message`: a message to an event's delegates from the command line, for scripts and tests. It takes the
same audience (the attendee list's filters), the same rules and the same path as the compose page: a draft, then a
confirmation that fixes the recipients and hands their mails to the outbox worker."""

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.datastructures import MultiDict

from ..events.services import event_by_slug
from ..geo.countries import country_names
from ..languages import offered_languages
from ..models import Status
from .audience import audience_from_filter, reach
from .services import confirm_message, new_idempotency_key, save_draft
from .texts import MessageRefused, MessageTexts, check_texts

# --status's value for delegates of any status (the attendee list without a status filter).
ANY_STATUS = "any"
# The optional first line of a language file that gives that version its own subject.
SUBJECT_PREFIX = "Subject:"


def _read_text(path: Path) -> str:
    """The text of a file (UTF-8, a byte-order mark dropped); ClickException when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(_("The file %(file)s is not UTF-8 text.", file=str(path))) from None
    except OSError as error:
        raise click.ClickException(
            _("The file %(file)s cannot be read: %(reason)s", file=str(path), reason=error.strerror or str(error))
        ) from None


def _language_version(spec: str, default_subject: str) -> tuple[str, tuple[str, str]]:
    """(language, (subject, body)) of a --language-file LANG=FILE: the file's first line "Subject: …" gives the
    version's subject (else it keeps the default one), the rest is its body."""
    language, separator, filename = spec.partition("=")
    language = language.strip().replace("-", "_")  # zh-Hans as the web writes it, zh_Hans as Babel does
    if not separator or not language or not filename:
        raise click.ClickException(_("Please give a language file as LANG=FILE, e.g. fr=shuttle-fr.txt."))
    if language not in offered_languages():
        raise click.ClickException(
            _(
                "Language %(language)s is not offered; choose one of %(languages)s.",
                language=repr(language),
                languages=", ".join(offered_languages()),
            )
        )
    text = _read_text(Path(filename))
    first, _newline, rest = text.partition("\n")
    if first[: len(SUBJECT_PREFIX)].lower() == SUBJECT_PREFIX.lower():
        return language, (first[len(SUBJECT_PREFIX) :].strip(), rest.strip("\n"))
    return language, (default_subject, text)


def _versions(specs: tuple[str, ...], default_subject: str) -> dict[str, tuple[str, str]]:
    """The versions per language of the --language-file options, each language once."""
    versions = {}
    for spec in specs:
        language, version = _language_version(spec, default_subject)
        if language in versions:
            raise click.ClickException(_("Language %(language)s is given twice.", language=repr(language)))
        versions[language] = version
    return versions


def _source(field_name: str) -> str:
    """The option a refused field of MessageTexts came from, for the message that names it."""
    if field_name.startswith(("subject_", "body_")):
        return f"--language-file {field_name.partition('_')[2]}"
    return {"subject": "--subject", "body": "--body-file"}.get(field_name, "")


def _refused(refusal: MessageRefused) -> click.ClickException:
    """A refusal of the rules as the command's error, naming the option it belongs to."""
    source = _source(refusal.field)
    if not source:
        return click.ClickException(refusal.message)
    return click.ClickException(_("%(option)s is refused: %(reason)s", option=source, reason=refusal.message))


def _print_reach(event, audience) -> int:
    """Print how many delegates the audience reaches now (and the erased and failed addresses among those
    matching); the number of recipients."""
    counts = reach(event, audience)
    click.echo(
        ngettext(
            "%(num)d delegate will receive this message.",
            "%(num)d delegates will receive this message.",
            counts.recipients,
        )
    )
    if counts.erased:
        click.echo(
            ngettext(
                "%(num)d matching delegate is erased and gets nothing.",
                "%(num)d matching delegates are erased and get nothing.",
                counts.erased,
            )
        )
    if counts.failed_addresses:
        click.echo(
            ngettext(
                "%(num)d of the recipients has an address whose last mail failed; it is tried again.",
                "%(num)d of the recipients have an address whose last mail failed; they are tried again.",
                counts.failed_addresses,
            )
        )
    return counts.recipients


@click.command("send-message")
@click.argument("slug")
@click.option("--subject", required=True, help="The subject (one line), for delegates whose language has no version.")
@click.option(
    "--body-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A UTF-8 text file with the message (the compose page's markup and {placeholders}).",
)
@click.option(
    "--status",
    default=Status.CONFIRMED.value,
    show_default=True,
    help=f"Only delegates in this status ({', '.join(s.value for s in Status)}), or {ANY_STATUS!r} for all.",
)
@click.option("--country", default="", help="Only delegates from this country (a code such as CN).")
@click.option("--category", default="", help="Only delegates of this category (its code).")
@click.option(
    "--language-file",
    "language_files",
    multiple=True,
    metavar="LANG=FILE",
    help=(
        "The version for delegates writing LANG (e.g. fr, zh_Hans); repeat for several. If the file's first line "
        "is 'Subject: …', that line is the version's subject and the rest its body; otherwise the whole file is "
        "the body and --subject its subject."
    ),
)
@click.option("--attach-ticket", is_flag=True, help="Attach each delegate's ticket and calendar entry.")
@click.option("--dry-run", is_flag=True, help="Only print how many delegates it would reach; queue nothing.")
@with_appcontext
def send_message_command(slug, subject, body_file, status, country, category, language_files, attach_ticket, dry_run):
    """Send a message to the delegates of the event at SLUG, each in their language: print how many it reaches,
    then fix its recipients and queue one mail to each for the outbox worker (the event's daily cap applies)."""
    event = event_by_slug(slug)
    if event is None:
        raise click.ClickException(_("There is no event at %(slug)s.", slug=repr(slug)))
    texts = MessageTexts(
        subject=subject,
        body=_read_text(body_file),
        versions=_versions(language_files, subject),
        attach_ticket=attach_ticket,
    )
    if country and country.upper() not in country_names():  # the list's filter takes any two letters: no typo here
        raise click.ClickException(_("No country has the code %(code)s.", code=repr(country)))
    filters = {"status": "" if status == ANY_STATUS else status, "country": country, "category": category}
    try:
        check_texts(texts)
        audience = audience_from_filter(MultiDict({name: value for name, value in filters.items() if value}), event)
    except MessageRefused as refusal:
        raise _refused(refusal) from None
    if not _print_reach(event, audience):
        raise click.ClickException(_("No delegate matches: nothing was sent."))
    if dry_run:
        click.echo(_("Dry run: nothing was queued."))
        return
    try:
        draft = save_draft(event, texts, audience, new_idempotency_key(), organizer=None)
        confirmation = confirm_message(event.id, draft.id, organizer=None)
    except MessageRefused as refusal:
        raise _refused(refusal) from None
    click.echo(
        ngettext(
            "Message %(id)d sent: %(num)d mail will be queued by the outbox worker.",
            "Message %(id)d sent: %(num)d mails will be queued by the outbox worker.",
            confirmation.message.recipient_count,
            id=confirmation.message.id,
        )
    )


commands = [send_message_command]
