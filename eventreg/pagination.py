"""Page numbers from query strings and forms: read and clamped in one place, for every paginated page and API list."""

import re

from flask_sqlalchemy.pagination import Pagination

MAX_PAGE = 1_000_000  # far beyond any event; keeps OFFSET (page × per page) well within a 64-bit integer
WHOLE_NUMBER = re.compile(r"([+-]?)0*([0-9]+)")  # ASCII digits only: int() would take "٣" and "1_000" too


def page_number(raw: object) -> int:
    """The page a query string or form asks for, clamped to 1..MAX_PAGE; 1 when it is no whole number."""
    match = WHOLE_NUMBER.fullmatch(str(raw or "").strip())
    if match is None or match[1] == "-":
        return 1
    digits = match[2]
    if len(digits) > len(str(MAX_PAGE)):  # not converted: a number of any length is merely too large
        return MAX_PAGE
    return min(max(int(digits), 1), MAX_PAGE)


def requested_page(args) -> int:
    """The `page` argument of a query string (or form), clamped as page_number() does."""
    return page_number(args.get("page"))


def last_page_if_beyond(result: Pagination) -> int | None:
    """The number of the last page when `result` is a page past it (a bookmark from a longer list), else None."""
    last = max(result.pages, 1)
    return last if result.page > last else None
