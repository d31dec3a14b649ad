"""Who a message goes to: the attendee list's filter or the rows ticked on it, kept as the message's audience and
read as the list reads them; and how many delegates that reaches, and how many of them are erased (no address
left: they get nothing) or have an address whose last mail failed (tried again, but likely to fail)."""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from werkzeug.datastructures import MultiDict

from ..attendees.filters import AttendeeFilter
from ..categories.services import category_labels
from ..converters import MAX_ID
from ..extensions import db
from ..models import Event, OutboxMessage, OutboxState, Registration
from .texts import MessageRefused

# The most rows a message to a ticked selection may name (a bounded IN list, as the list's own bulk actions).
MAX_CHOSEN = 1000


@dataclass(frozen=True)
class Reach:
    """How many delegates an audience reaches now."""

    recipients: int  # who would get the message (matching, not erased)
    erased: int  # matching, but erased: they get nothing
    failed_addresses: int  # among the recipients, those whose latest mail failed


def audience_from_filter(args: MultiDict, event: Event) -> dict:
    """The audience of the attendee list's filter in `args` (its sort ignored); MessageRefused when a value is not
    understood, as exports refuse it: a message must not reach more delegates than the organizer meant."""
    attendee_filter, problems = AttendeeFilter.from_args(args)
    if attendee_filter.category and attendee_filter.category not in category_labels(event.id):
        problems.append(
            _("The filter %(name)s=%(value)s is not understood.", name="category", value=attendee_filter.category)
        )
    if problems:
        raise MessageRefused("", " ".join(problems))
    return {"filter": attendee_filter.query_args(sort="")}


def audience_from_ids(ids: list[int]) -> dict:
    """The audience of rows ticked on the list; MessageRefused for none, too many, or an implausible id."""
    if not ids:
        raise MessageRefused("", _("Please tick at least one delegate."))
    if len(ids) > MAX_CHOSEN:
        raise MessageRefused("", _("Please choose at most %(max)d delegates at a time.", max=MAX_CHOSEN))
    if any(not 0 < number <= MAX_ID for number in ids):
        raise MessageRefused("", _("The selection was not understood. Please tick the delegates again."))
    return {"ids": sorted(set(ids))}


def audience_filter(audience: dict) -> AttendeeFilter:
    """The attendee filter an audience holds (no filter for ticked rows)."""
    attendee_filter, _problems = AttendeeFilter.from_args(MultiDict(audience.get("filter") or {}))
    return attendee_filter


def matching(event: Event, audience: dict) -> list:
    """WHERE clauses on Registration: the event's registrations the audience names, erased or not."""
    clauses = audience_filter(audience).where(event)
    if "ids" in audience:
        clauses.append(Registration.id.in_(audience["ids"]))
    return clauses


def recipients_clauses(event: Event, audience: dict) -> list:
    """WHERE clauses on Registration: who a message to `audience` goes to now (matching and not erased)."""
    return [*matching(event, audience), Registration.erased_at.is_(None)]


def failed_address():
    """A clause on Registration: its latest mail that was sent or given up failed (the address bounced)."""
    later = aliased(OutboxMessage)
    return exists().where(
        OutboxMessage.registration_id == Registration.id,
        OutboxMessage.state == OutboxState.FAILED,
        ~exists().where(
            and_(
                later.registration_id == Registration.id,
                later.state == OutboxState.SENT,
                later.id > OutboxMessage.id,
            )
        ),
    )


def reach(event: Event, audience: dict) -> Reach:
    """How many delegates a message to `audience` reaches now, with the erased and failed addresses among them."""
    erased = Registration.erased_at.is_not(None)
    query = select(
        func.count().filter(~erased),
        func.count().filter(erased),
        func.count().filter(~erased & failed_address()),
    ).where(*matching(event, audience))
    recipients, erased_count, failed = db.session.execute(query).one()
    return Reach(recipients or 0, erased_count or 0, failed or 0)
