"""Numbers, dates and times the way the reader's language writes them, by Babel.

Whole numbers inside translated sentences: 1,234 in English, 1 234 in French (a narrow no-break space), 1.234 in
Spanish, 1 234 in Russian (a no-break space). A msgid marks a whole number with `%(name)d` ("%(num)d confirmed
participants"). Python's `%d` cannot group digits, so before the `%` is applied every such placeholder whose value
is an int is turned into `%(name)s` and the value into `format_number(value)` for the current locale; ngettext still
chooses the plural form from the int itself. The msgids and the catalogs keep `%(num)d`, so nothing is translated
twice and the placeholder checks of the catalog test still hold. A `%(name)s` is never touched: a value there is
text (or an identifier), as given.

One rule for every message: Flask-Babel's gettext, ngettext, pgettext, npgettext and their lazy forms in Python go
through the app's domain (`NumberFormattingBabel`, the `babel` extension), and the same four in templates, `_()`
included, through `install_in_jinja()`.

Dates and times (`date_and_time()`, `day()`): the locale's own date formats (2031年3月17日星期一, lundi 17 mars 2031,
17 марта 2031 г.) with a 24-hour time joined by the locale's own pattern. English is written as CLDR's World English
(en_001): day before month, as an international ceremony writes it ("Monday, 17 March 2031, 09:30").
"""

import re
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_skeleton, get_datetime_format
from babel.numbers import format_decimal
from flask import g
from flask_babel import Babel, Domain, format_number, get_locale, get_translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.utils import cached_property

# "%(name)d", or "%%" (a literal percent sign, matched so that "%%(name)d" is not taken for a placeholder).
_PERCENT = re.compile(r"%(?:%|\((\w+)\)d)")


def _is_whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def current_locale() -> Locale | None:
    """The locale of this request (or of the mail being written, under force_locale): what flask_babel.get_locale()
    returns, at a fifth of its cost once the request has chosen it.

    Flask-Babel 4 keeps the chosen or forced locale on `g._flask_babel.babel_locale`, and get_locale() reaches it
    through four context-local lookups, a few microseconds each; a dashboard asks a few thousand times (every
    count, share and flag), which cost it 10-20 ms. This reads the same attribute through one lookup and leaves
    the choosing (and everything else) to Flask-Babel, so force_locale() is followed as before
    (tests/test_locale_formats.py holds both to the same answers)."""
    try:
        chosen = g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):  # not chosen yet in this context, or no app context at all
        return get_locale()
    return chosen if chosen is not None else get_locale()


@lru_cache(maxsize=4096)
def _whole_number(locale: Locale, value: int) -> str:
    return format_decimal(value, locale=locale)


def whole_number(value: int) -> str:
    """`value` written for the current locale, as flask_babel.format_number writes it, remembered per locale and
    value: a dashboard writes a thousand counts (Babel takes about 7 µs for each, the cache 0.1 µs)."""
    locale = current_locale()
    return format_decimal(value) if locale is None else _whole_number(locale, value)


def number(value) -> str:
    """flask_babel.format_number, with whole numbers remembered (whole_number): the templates' `numberformat`
    filter, the charts and the counters write every figure through it."""
    return whole_number(value) if _is_whole_number(value) else format_number(value)


def fill(text: str, variables: Mapping, *, markup: bool = False) -> str:
    """`text % variables`, each int of a `%(name)d` written by Babel for the current locale. With `markup`, the
    text is trusted markup and the variables are escaped into it (as Jinja does when autoescaping)."""
    names = {name for name in _PERCENT.findall(text) if name and _is_whole_number(variables.get(name))}
    if names:
        text = _PERCENT.sub(lambda match: f"%({match[1]})s" if match[1] in names else match[0], text)
        variables = {**variables, **{name: whole_number(variables[name]) for name in names}}
    # With `markup`, `text` is a message of our catalogs, trusted as Jinja trusts it; the variables are escaped.
    return (Markup(text) if markup else text) % variables  # noqa: S704


class NumberFormattingDomain(Domain):
    """Flask-Babel's message domain, with whole numbers written for the locale (see `fill`)."""

    def gettext(self, string, **variables):
        text = self.get_translations().ugettext(string)
        return fill(text, variables) if variables else text

    def ngettext(self, singular, plural, num, **variables):
        variables.setdefault("num", num)
        return fill(self.get_translations().ungettext(singular, plural, num), variables)

    def pgettext(self, context, string, **variables):
        text = self.get_translations().upgettext(context, string)
        return fill(text, variables) if variables else text

    def npgettext(self, context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        return fill(self.get_translations().unpgettext(context, singular, plural, num), variables)


class NumberFormattingBabel(Babel):
    """Flask-Babel whose messages write whole numbers for the locale: `flask_babel.gettext()` and its kin ask the
    extension for its domain, so every call in the code follows the rule without importing anything else."""

    @cached_property
    def domain_instance(self):
        return NumberFormattingDomain(domain=self.domain)


# The template versions follow Jinja's "newstyle" gettext: the message is always a format string ("%%" is a percent
# sign even without variables) and, when autoescaping, markup into which the variables are escaped.


def _in_template(context: Context, text: str, variables: Mapping) -> str:
    return fill(text, variables, markup=context.eval_ctx.autoescape)


@pass_context
def _gettext(context: Context, string: str, /, **variables) -> str:
    return _in_template(context, get_translations().ugettext(string), variables)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, num: int, /, **variables) -> str:
    variables.setdefault("num", num)
    return _in_template(context, get_translations().ungettext(singular, plural, num), variables)


@pass_context
def _pgettext(context: Context, message_context: str, string: str, /, **variables) -> str:
    variables.setdefault("context", message_context)
    return _in_template(context, get_translations().upgettext(message_context, string), variables)


@pass_context
def _npgettext(context: Context, message_context: str, singular: str, plural: str, num: int, /, **variables) -> str:
    variables.setdefault("context", message_context)
    variables.setdefault("num", num)
    text = get_translations().unpgettext(message_context, singular, plural, num)
    return _in_template(context, text, variables)


def install_in_jinja(environment: Environment) -> None:
    """Replace the gettext functions Flask-Babel gave the templates by the ones that write numbers for the locale
    (`_()` and `{% trans %}` call them too), and its `numberformat` filter by `number`."""
    environment.globals.update(gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext)
    environment.filters["numberformat"] = number


# ---- dates and times


def date_locale() -> Locale:
    """The locale dates are written in: the reader's, with English as World English (en_001, day before month)."""
    return _dates_written_in(current_locale() or Locale("en"))


@lru_cache(maxsize=64)
def _dates_written_in(locale: Locale) -> Locale:
    return Locale.parse("en_001") if str(locale) == "en" else locale


def date_and_time(moment: datetime, zone: tzinfo, style: str = "full", *, seconds: bool = False) -> str:
    """`moment` on the clocks of `zone`, as the reader's language writes a date and a 24-hour time: the locale's
    "full" date ("Monday, 17 March 2031, 09:30", "2031年3月17日星期一 09:30") or its "medium" one ("17 Mar 2031,
    09:30"), to the second with `seconds`."""
    return wall_clock(moment.astimezone(zone), style, seconds=seconds)


def wall_clock(local: datetime, style: str = "medium", *, seconds: bool = False) -> str:
    """A date and time as a clock shows it, with no zone converted (a time that may not exist in its zone, or one
    already local): the date in the locale's `style` and the 24-hour time, joined by the locale's own pattern."""
    locale = date_locale()
    # As Babel's format_datetime joins a date and a time: the locale's pattern, its quotes dropped.
    pattern = get_datetime_format(style, locale=locale).replace("'", "")
    return pattern.replace("{0}", time_of_day(local, seconds=seconds)).replace(
        "{1}", format_date(local.date(), style, locale=locale)
    )


def time_of_day(local: datetime, *, seconds: bool = False) -> str:
    """The 24-hour time of a local datetime as the reader's language writes it: "09:30", "9:30" in Spanish."""
    return format_skeleton("Hms" if seconds else "Hm", local.replace(tzinfo=None), locale=date_locale())


def day(value: date | str, style: str = "medium") -> str:
    """A calendar day (a date or an ISO 8601 "2031-03-17") as the reader's language writes it: "17 Mar 2031",
    "2031年3月17日"; style "short_month" gives the day and month only ("17 Mar", "3月17日")."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return _day(date_locale(), value, style)


@lru_cache(maxsize=4096)
def _day(locale: Locale, value: date, style: str) -> str:
    """day(), remembered per locale: a dashboard writes each day of the registration window twice (table, chart)
    on every request, about 30 µs each through Babel."""
    if style == "short_month":
        return format_skeleton("MMMd", value, locale=locale)
    return format_date(value, style, locale=locale)
