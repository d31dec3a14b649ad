"""Jinja helpers: times in an event's own timezone, country names and flags, percentages."""

from copy import copy
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import get_timezone_name
from flask import Flask
from jinja2 import StrictUndefined
from markupsafe import Markup

from . import static_files
from .audit import action_label, actor_label
from .categories.services import category_label_of
from .geo.countries import country_name
from .geo.flags import flag
from .locale_formats import current_locale, date_and_time, day, install_in_jinja
from .mail.addresses import default_sender_address
from .models import STATUS_LABELS, Right


def event_time(moment: datetime | None, event, style: str = "full") -> str:
    """A moment in the event's own timezone, as the reader's language writes it: 'Monday, 1 March 2027, 10:00
    (UTC+08:00)', '2027年3月1日星期一 10:00 (UTC+08:00)'; or with style "short" '1 Mar 2027, 10:00'.

    Abbreviations such as CST are left out on purpose: they name several zones.
    """
    if moment is None:
        return ""
    if style != "full":
        return date_and_time(moment, event.zone, "medium")
    offset = event.local(moment).strftime("%z")
    return f"{date_and_time(moment, event.zone)} (UTC{offset[:3]}:{offset[3:]})"


def utc_time(moment: datetime | None) -> str:
    """A moment in UTC, for times that belong to no event (an API token's use): '1 Mar 2027, 02:00'."""
    return "" if moment is None else date_and_time(moment, UTC, "medium")


def isolated(value) -> Markup:
    """A name or free text inside a sentence or a cell, in the direction of its own first letter (<bdi>), so a Latin
    or Chinese name reads right in an Arabic sentence and an Arabic one in an English sentence."""
    return Markup("<bdi>%s</bdi>") % value


def left_to_right(value) -> Markup:
    """A value that reads left to right in any page (an email address, a check-in code, a URL), isolated from the
    sentence around it: in an Arabic page the parts of an address or the groups of a code would change places."""
    return Markup('<span dir="ltr">%s</span>') % value


def has_own_contact(event) -> bool:
    """True when the event has a contact address of its own, not just the (often no-reply) sender's."""
    return event.contact_email.casefold() != default_sender_address().casefold()


def percent(share: float) -> str:
    """A share as a percentage, to one decimal, in the reader's language's own pattern: 50.0% in English, 50,0 %
    in French (a no-break space before the sign), 50,0 % in Russian."""
    # Rounded to a tenth of a percent as Babel rounds it (the float's shortest repr, half to even), so the text
    # can be remembered per locale and tenth: a dashboard writes 200 shares per request, 10 µs each through Babel.
    return _percent(current_locale(), Decimal(str(share)).scaleb(2).quantize(_TENTH))


_TENTH = Decimal("0.1")


@lru_cache(maxsize=4096)
def _percent(locale: Locale, percentage: Decimal) -> str:
    pattern = copy(locale.percent_formats[None])  # the locale's pattern, which has no decimals
    pattern.frac_prec = (1, 1)
    return pattern.apply(percentage.scaleb(-2), locale)


def zone_name(event) -> str:
    """The event's timezone as people name it, e.g. 'China Time'."""
    return get_timezone_name(event.zone, locale=current_locale())


def init_app(app: Flask) -> None:
    """Register the helpers with Jinja."""
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.globals["get_locale"] = current_locale
    app.jinja_env.globals["Right"] = Right  # templates show links by right: current_user.can(Right.MANAGE_EVENTS)
    install_in_jinja(app.jinja_env)  # numbers in translated sentences written for the reader (locale_formats.py)
    app.jinja_env.filters["event_time"] = event_time
    app.jinja_env.filters["utc_time"] = utc_time
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.filters["flag"] = flag
    app.jinja_env.globals["zone_name"] = zone_name
    app.jinja_env.globals["has_own_contact"] = has_own_contact
    app.jinja_env.globals["category_label"] = category_label
    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.globals["actor_label"] = actor_label
    app.jinja_env.globals["action_label"] = action_label
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["bdi"] = isolated
    app.jinja_env.filters["ltr"] = left_to_right
    static_files.init_app(app)  # url_for('static', ...) carries ?v=<content hash>


def category_label(value: str, event=None) -> str:
    """The label of a registration's category in the reader's language: the event's own (`event`: an Event or its
    id), else the catalog's label of a default code, else the code."""
    event_id = event if isinstance(event, int) or event is None else event.id
    return category_label_of(event_id, value)


def status_label(value: str) -> str:
    """The translated label of a registration status."""
    return str(STATUS_LABELS.get(value, value))
