"""The rules an event's details follow, for creating and editing alike, and its wall-clock times."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from flask_babel import format_number
from flask_babel import gettext as _

from ..forms import column_length, one_newline_style, strip, text_problem
from ..locale_formats import day, wall_clock
from ..mail.addresses import default_sender_address
from ..models import Event
from ..validation_messages import email_problem

# Dates outside these are typing mistakes (and year 9999 would overflow when shown in a timezone).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, tzinfo=UTC)
MAX_CAPACITY = 1_000_000
MAX_LONG_TEXT = 5000  # the description and the confirmation note: a few paragraphs, not a book
MAX_MIN_COUNTRY_COUNT = 1000  # the public counter's threshold; more would hide every country of any ceremony

# Everything an organizer sets about an event; the slug is not among them: it never changes.
EVENT_FIELDS = (
    "title",
    "description",
    "venue",
    "city",
    "timezone",
    "starts_at",
    "ends_at",
    "capacity",
    "registration_opens_at",
    "registration_closes_at",
    "requires_approval",
    "contact_email",
    "confirmation_note",
    "show_seats_left",
    "public_min_country_count",
)

TIME_FIELDS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")


class EventError(ValueError):
    """An event that cannot be created or changed as asked; `field` names the detail at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def local_time(moment: datetime, timezone: str, field: str | None = None) -> datetime:
    """A wall-clock time in the event's timezone as an aware datetime; refuses times the clocks skip or repeat."""
    zone = _zone(timezone)
    if moment.tzinfo is not None:
        return moment
    if not EARLIEST.replace(tzinfo=None) <= moment <= LATEST.replace(tzinfo=None):
        raise EventError(_("%(date)s is not a plausible date for an event.", date=day(moment.date())), field)
    local = moment.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise EventError(
            _(
                "%(time)s does not exist in %(zone)s: the clocks skip it.",
                time=wall_clock(moment),  # as typed: a time that may not exist in the zone
                zone=timezone,
            ),
            field,
        )
    if local.replace(fold=1).utcoffset() != local.utcoffset():
        raise EventError(
            _(
                "%(time)s happens twice in %(zone)s: the clocks go back. Please choose another time.",
                time=wall_clock(moment),  # as typed: a time that may not exist in the zone
                zone=timezone,
            ),
            field,
        )
    return local


def utc_offset(local: datetime) -> str:
    """The offset of an aware time from UTC as people write it: 'UTC+08:00', 'UTC-03:30'."""
    offset = local.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def with_local_times(details: dict) -> dict:
    """The details with their naive times read as wall-clock times in details["timezone"] (as a form sends them).

    Raises EventError naming the time that does not exist, happens twice or is implausible there.
    """
    result = dict(details)
    for name in TIME_FIELDS:
        if isinstance(result.get(name), datetime):
            result[name] = local_time(result[name], details["timezone"], field=name)
    return result


def default_end(starts_at: datetime) -> datetime:
    """Three hours after the start, in real time (across a daylight-saving change too)."""
    return starts_at.astimezone(UTC) + timedelta(hours=3)


def check_event_details(
    *,
    title: str,
    venue: str,
    city: str,
    timezone: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    capacity: int | None = None,
    registration_opens_at: datetime | None = None,
    registration_closes_at: datetime | None = None,
    requires_approval: bool = False,
    contact_email: str | None = None,
    confirmation_note: str = "",
    show_seats_left: bool = True,
    public_min_country_count: int = 1,
) -> dict:
    """Every rule an event's details must follow, for creating and editing alike.

    Returns the cleaned values keyed by column name (times in UTC); raises EventError naming the field at fault.
    """
    title, venue, city = strip(title), strip(venue), strip(city)
    labels = {"title": _("title"), "venue": _("venue"), "city": _("city")}
    for name, value, column in (
        ("title", title, Event.title),
        ("venue", venue, Event.venue),
        ("city", city, Event.city),
    ):
        if not any(ch.isalnum() for ch in value):
            raise EventError(_("The %(label)s is empty or has no letter or digit.", label=labels[name]), name)
        if len(value) > column_length(column):
            limit = column_length(column)
            raise EventError(_("The %(label)s is longer than %(max)d characters.", label=labels[name], max=limit), name)
        if problem := text_problem(value):
            raise EventError(f"{labels[name].capitalize()}: {problem}", name)
    description = one_newline_style(strip(description or ""))
    confirmation_note = one_newline_style(strip(confirmation_note or ""))
    for name, value in (("description", description), ("confirmation_note", confirmation_note)):
        if problem := text_problem(value, multiline=True):
            raise EventError(str(problem), name)
        if len(value) > MAX_LONG_TEXT:
            raise EventError(_("At most %(max)d characters, please.", max=MAX_LONG_TEXT), name)
    _zone(timezone)
    moments = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "registration_opens_at": registration_opens_at,
        "registration_closes_at": registration_closes_at,
    }
    for name, moment in moments.items():
        if moment is not None and not EARLIEST <= moment <= LATEST:
            raise EventError(_("%(date)s is not a plausible date for an event.", date=day(moment.date())), name)
    if ends_at <= starts_at:
        raise EventError(_("The event must end after it starts."), "ends_at")
    if registration_opens_at and registration_opens_at >= starts_at:
        raise EventError(_("Registration must open before the event starts."), "registration_opens_at")
    if registration_closes_at and registration_closes_at > ends_at:
        raise EventError(_("Registration must close by the end of the event."), "registration_closes_at")
    if registration_opens_at and registration_closes_at and registration_closes_at <= registration_opens_at:
        raise EventError(_("Registration must close after it opens."), "registration_closes_at")
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise EventError(_("The capacity must be between 1 and %(max)s.", max=format_number(MAX_CAPACITY)), "capacity")
    if not 1 <= public_min_country_count <= MAX_MIN_COUNTRY_COUNT:
        raise EventError(
            _("Please give a number from 1 to %(max)s.", max=format_number(MAX_MIN_COUNTRY_COUNT)),
            "public_min_country_count",
        )
    return {
        "title": title,
        "description": description,
        "venue": venue,
        "city": city,
        "timezone": timezone,
        **{name: None if moment is None else moment.astimezone(UTC) for name, moment in moments.items()},
        "capacity": capacity,
        "requires_approval": bool(requires_approval),
        "contact_email": _mail_address(strip(contact_email or "") or default_sender_address()),
        "confirmation_note": confirmation_note,
        "show_seats_left": bool(show_seats_left),
        "public_min_country_count": public_min_country_count,
    }


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise EventError(
            _("%(zone)r is not an IANA timezone such as Asia/Shanghai.", zone=timezone), "timezone"
        ) from None


def _mail_address(address: str) -> str:
    """The contact address, checked: every mail of the event carries it as Reply-To."""
    try:
        return validate_email(address, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as error:
        raise EventError(
            _("The contact address %(address)s is not valid: %(reason)s", address=address, reason=email_problem(error)),
            "contact_email",
        ) from None
