"""URL converters, so that only well-formed slugs and tokens ever reach a view (anything else is a 404)."""

from flask import Flask
from werkzeug.routing import BaseConverter, IntegerConverter

# The largest id either database stores in an INTEGER column (PostgreSQL's is 32-bit).
MAX_ID = 2**31 - 1


class SlugConverter(BaseConverter):
    """An event slug: lower-case ASCII letters, digits and hyphens."""

    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


class TokenConverter(BaseConverter):
    """A private-link token: URL-safe base64 characters."""

    regex = r"[A-Za-z0-9_-]{16,64}"


class IdConverter(IntegerConverter):
    """`<int:…>` for row ids: a number no column can hold is a 404 from the router, never a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Make <slug:…> and <token:…> available in routes, and bound every <int:…> to what an id column holds."""
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["token"] = TokenConverter
    app.url_map.converters["int"] = IdConverter
