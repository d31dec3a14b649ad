"""The attendee list's search, filters and sort, read from the query string so a view can be bookmarked
and exported exactly as it is shown."""

import re
import unicodedata
from dataclasses import asdict, dataclass, fields, replace

from flask_babel import gettext as _
from sqlalchemy import Select, case, exists, or_, select
from werkzeug.datastructures import MultiDict

from ..converters import MAX_ID
from ..forms import text_problem
from ..geo.countries import countries
from ..geo.regions import CONTINENTS, countries_in
from ..models import Event, Invitation, Registration, Status, casefold_key, search_key

YES_NO = ("yes", "no")
# The delegation filter's value for registrations of no delegation (else a delegation's id).
NO_DELEGATION = "none"
# An event's category codes (categories/services.py CODE_PATTERN); a code the event lacks simply matches nothing.
CATEGORY_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")

# sort value → ORDER BY; the id breaks ties so pages never overlap or skip a row.
SORTS = {
    "name": (Registration.name_key.asc(), Registration.id.asc()),
    "-name": (Registration.name_key.desc(), Registration.id.desc()),
    "date": (Registration.created_at.asc(), Registration.id.asc()),
    "-date": (Registration.created_at.desc(), Registration.id.desc()),
}
# By the names of countries and regions in the reader's language and order (_order_by), not by their codes.
COUNTRY_SORTS = ("country", "-country")
DEFAULT_SORT = "-date"
MAX_QUERY_LENGTH = 200
MAX_SEARCH_TERMS = 10  # more words than any name or institution; keeps the SQL small


@dataclass(frozen=True)
class AttendeeFilter:
    """What the organizer asked to see; empty strings mean "any"."""

    q: str = ""
    status: str = ""
    country: str = ""
    continent: str = ""
    category: str = ""
    delegation: str = ""
    accompanying: str = ""
    visa_letter: str = ""
    checked_in: str = ""
    invited: str = ""  # registered through a personal invitation (yes) or not (no)
    sort: str = DEFAULT_SORT

    @classmethod
    def from_args(cls, args: MultiDict) -> tuple["AttendeeFilter", list[str]]:
        """The filter in the query string, and a message for each value that was not understood.

        The attendee list shows the messages and leaves those values out; exports and the API refuse the request.
        """
        problems = []
        values = {}
        for field in fields(cls):
            given = [value for value in args.getlist(field.name) if str(value).strip()]
            if len(given) > 1:  # status=confirmed&status=cancelled: one value per filter, not a silent choice
                problems.append(_("The filter %(name)s is given %(count)d times.", name=field.name, count=len(given)))
                continue
            value = _normalise(field.name, " ".join(str(args.get(field.name, "")).split()))
            if value and not _is_allowed(field.name, value):
                problems.append(
                    _(
                        "The filter %(name)s=%(value)s is not understood.",
                        name=field.name,
                        value=_printable(value)[:40],
                    )
                )
                continue
            if value:
                values[field.name] = value
        return cls(**values), problems

    def query_args(self, **changes) -> dict[str, str]:
        """The non-empty values (after `changes`), for url_for: links to other pages, sorts and exports."""
        return {name: value for name, value in asdict(replace(self, **changes)).items() if value}

    @property
    def is_filtered(self) -> bool:
        """True when anything narrows the list (sorting does not)."""
        return any(value for name, value in asdict(self).items() if name != "sort")

    def where(self, event: Event) -> list:
        """The WHERE clauses for this filter on one event's registrations."""
        clauses = [Registration.event_id == event.id]
        # Every word must appear somewhere, so "Chunli Bai" finds "Bai Chunli" and "academy chinese" finds
        # "Chinese Academy of Sciences"; the keys are casefolded in Python, so any script matches alike everywhere,
        # and names and institutions ignore accents ("Jose" finds "José", "Cordoba" finds "Córdoba").
        for word in self.q.split()[:MAX_SEARCH_TERMS]:
            folded = search_key(word)
            clauses.append(
                or_(
                    Registration.name_key.contains(folded, autoescape=True),
                    # full-width letters typed on a CJK keyboard are folded as the form folds them
                    Registration.email_key.contains(casefold_key(unicodedata.normalize("NFKC", word)), autoescape=True),
                    Registration.institution_key.contains(folded, autoescape=True),
                )
            )
        if self.status:
            clauses.append(Registration.status == self.status)
        if self.country:
            clauses.append(Registration.country == self.country)
        if self.continent:
            clauses.append(Registration.country.in_(countries_in(self.continent)))
        if self.category:
            clauses.append(Registration.category == self.category)
        if self.delegation == NO_DELEGATION:
            clauses.append(Registration.delegation_id.is_(None))
        elif self.delegation:
            clauses.append(Registration.delegation_id == int(self.delegation))
        if self.accompanying:
            has = Registration.accompanying > 0
            clauses.append(has if self.accompanying == "yes" else ~has)
        if self.visa_letter:
            clauses.append(Registration.visa_letter.is_(self.visa_letter == "yes"))
        if self.checked_in:
            checked = Registration.checked_in_at.is_not(None)
            clauses.append(checked if self.checked_in == "yes" else ~checked)
        if self.invited:
            through_invitation = exists().where(Invitation.registration_id == Registration.id)
            clauses.append(through_invitation if self.invited == "yes" else ~through_invitation)
        return clauses

    def select(self, event: Event, language: str | None = None) -> Select:
        """SELECT of the event's registrations matching this filter, in its sort order (countries and regions by
        their names in `language`, by default the reader's)."""
        return select(Registration).where(*self.where(event)).order_by(*_order_by(self.sort, language))


def _order_by(sort: str, language: str | None = None) -> tuple:
    """The ORDER BY of a sort. Countries and regions go by the place of their names in the reader's order (a CASE
    over the codes: in Chinese 巴西 BR, 日本 JP, 中国 CN, in pinyin), then by the delegate's name."""
    if sort not in COUNTRY_SORTS:
        return SORTS[sort]
    names = countries(language)
    place = case(dict(names.rank), value=Registration.country, else_=len(names.rank))
    return (place.desc() if sort.startswith("-") else place.asc(), Registration.name_key.asc(), Registration.id.asc())


def _normalise(name: str, value: str) -> str:
    """Spellings that mean the same filter: country codes in either case."""
    return value.upper() if name == "country" else value


def _printable(value: str) -> str:
    """A refused value as it can be shown in a message: without control or invisible characters."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in value)


def _is_allowed(name: str, value: str) -> bool:
    if name == "q":
        # PostgreSQL refuses text with NUL bytes, and control characters are in no name or address.
        return len(value) <= MAX_QUERY_LENGTH and text_problem(value) is None
    if name == "status":
        return value in {status.value for status in Status}
    if name == "country":
        return len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()
    if name == "continent":
        return value in CONTINENTS
    if name == "category":
        return len(value) <= 20 and CATEGORY_CODE.match(value) is not None
    if name == "delegation":
        return value == NO_DELEGATION or (value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID)
    if name in ("accompanying", "visa_letter", "checked_in", "invited"):
        return value in YES_NO
    if name == "sort":
        return value in SORTS or value in COUNTRY_SORTS
    return False
