"""The small markup of messages to delegates, rendered to the HTML part and the plain-text part of a mail.

What organizers may write (listed beside the compose form):

- a blank line starts a new paragraph; a single line break is kept as it is;
- `**bold**`;
- a bare http:// or https:// address becomes a link;
- `[text](https://…)` is a link with its own text; the target must be an http(s) address or a placeholder that
  fills to one, such as `[your registration]({private_link})`; any other target (javascript:, data:, mailto:, …)
  stays plain text;
- `{placeholders}` (messages/texts.py PLACEHOLDERS), filled for each delegate.

Hand-written on purpose, not a Markdown library: the placeholders must be filled AFTER the text is parsed, each in
its own context and with that context's escaping (HTML-escaped in the text of the HTML part, percent-encoded inside
a link target, as they are in the plain-text part), so a delegate's name can never become markup, a link or bold
text, and the organizer's text can never become HTML. Markdown libraries parse the filled text or pass raw HTML
through; this one knows five constructs and escapes every character of the organizer's text and of every value.
"""

import re
from collections.abc import Mapping
from urllib.parse import quote

from markupsafe import Markup, escape

from ..placeholders import PLACEHOLDER, fill

# A link with its own text: [text](target). Neither part spans a line; the target has no spaces.
LINK = r"\[(?P<link_text>[^\[\]\n]+)\]\((?P<target>[^\s()]+)\)"
# Bold text: **text**, on one line, not empty and not starting or ending with a space.
BOLD = r"\*\*(?P<bold>\S(?:[^\n]*?\S)?)\*\*"
# A bare address. Braces, angle brackets, quotes and asterisks end it (a placeholder after an address, the end of
# a bold run); trailing punctuation is taken off below.
URL = r"(?P<url>https?://[^\s<>\"'{}*\[\]]+)"
INLINE = re.compile(f"{LINK}|{BOLD}|{URL}", re.IGNORECASE)
WEB_ADDRESS = re.compile(r"https?://[^\s<>\"]+\Z", re.IGNORECASE)
# Punctuation that ends a sentence rather than an address: "see https://example.org." links without the dot.
TRAILING = ".,;:!?"
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# Placeholders whose value is an address: written on their own in the text, they become a link to it.
ADDRESS_PLACEHOLDERS = ("private_link",)


def to_html(text: str, values: Mapping[str, str]) -> Markup:
    """The message as safe HTML: paragraphs, line breaks, bold and links, with every character of `text` and of
    the placeholder `values` escaped."""
    paragraphs = [_inline_html(paragraph, values) for paragraph in paragraphs_of(text)]
    return Markup("\n").join(Markup('<p dir="auto">%s</p>') % paragraph for paragraph in paragraphs)


def to_text(text: str, values: Mapping[str, str]) -> str:
    """The message as plain text: the same paragraphs and lines, bold without its asterisks, and a link with its
    own text as "text (address)"."""
    return "\n\n".join(_inline_text(paragraph, values) for paragraph in paragraphs_of(text))


def paragraphs_of(text: str) -> list[str]:
    """The paragraphs of `text` (Windows and old Mac line endings read as line breaks), without blank ones."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (paragraph.strip("\n") for paragraph in PARAGRAPH_BREAK.split(text))
    return [paragraph.rstrip() for paragraph in paragraphs if paragraph.strip()]


def _pieces(text: str):
    """The text split into (kind, match or text): "text" runs and the "link", "bold" and "url" constructs."""
    position = 0
    for match in INLINE.finditer(text):
        start, end = match.span()
        if match.group("url"):
            url = _trimmed(match.group("url"))
            end = start + len(url)
            if position < start:
                yield "text", text[position:start]
            yield "url", url
            position = end
            continue
        if position < start:
            yield "text", text[position:start]
        yield ("link" if match.group("link_text") is not None else "bold"), match
        position = end
    if position < len(text):
        yield "text", text[position:]


def _trimmed(url: str) -> str:
    """An address without the punctuation that ends its sentence, and without a closing parenthesis it did not
    open ("(see https://example.org/a)")."""
    while url and (url[-1] in TRAILING or (url[-1] == ")" and url.count(")") > url.count("("))):
        url = url[:-1]
    return url


def link_target(target: str, values: Mapping[str, str]) -> str | None:
    """Where `[text](target)` leads: an http(s) address, with the values of the placeholders inside it
    percent-encoded, or the value of a placeholder that is the whole target when that value is an http(s)
    address; None for anything else (javascript:, a relative path, a placeholder that is not an address)."""
    whole = PLACEHOLDER.fullmatch(target)
    if whole:
        value = str(values.get(whole.group(1), ""))
        return value if WEB_ADDRESS.match(value) else None
    if not WEB_ADDRESS.match(target):
        return None
    return fill(target, values, escape=lambda value: quote(value, safe=""))


def _unlinked(link: re.Match, values: Mapping[str, str]) -> str:
    """A link whose target is no web address, as the text to show instead (placeholders not yet filled): as
    written, but a placeholder target that fills to words (a preview's stand-in for the private link) after the
    link's text, in parentheses once: "Open (this delegate's private link)"."""
    label, target = link.group("link_text"), link.group("target")
    whole = PLACEHOLDER.fullmatch(target)
    if whole is None or whole.group(1) not in values:
        return link.group(0)
    value = str(values[whole.group(1)])
    return f"{label} {target}" if value.startswith("(") and value.endswith(")") else f"{label} ({target})"


def _inline_html(text: str, values: Mapping[str, str]) -> Markup:
    parts = []
    for kind, piece in _pieces(text):
        if kind == "text":
            parts.append(_text_html(piece, values))
        elif kind == "url":
            parts.append(Markup('<a href="%s">%s</a>') % (piece, piece))
        elif kind == "bold":
            parts.append(Markup("<strong>%s</strong>") % _inline_html(piece.group("bold"), values))
        else:
            target = link_target(piece.group("target"), values)
            label = _text_html(piece.group("link_text"), values)
            if target is None:  # not a web address: shown as text, filled and escaped
                parts.append(_text_html(_unlinked(piece, values), values))
            else:
                parts.append(Markup('<a href="%s">%s</a>') % (target, label))
    return Markup("").join(parts)


def _text_html(text: str, values: Mapping[str, str]) -> Markup:
    """A run of plain text: escaped, its placeholders filled with escaped values (the private link as a link to
    itself), its line breaks as <br>."""
    addresses = {str(values[name]) for name in ADDRESS_PLACEHOLDERS if name in values}

    def html_value(value: str) -> Markup:
        # Only a value that is an address by nature becomes a link: a name that looks like one stays text.
        if value in addresses and WEB_ADDRESS.match(value):
            return Markup('<a href="%s">%s</a>') % (value, value)
        return escape(value)

    # Safe: the line is escaped before the placeholders are filled, and each value is escaped as it goes in.
    lines = [Markup(fill(str(escape(line)), values, escape=html_value)) for line in text.split("\n")]  # noqa: S704
    return Markup("<br>\n").join(lines)


def _inline_text(text: str, values: Mapping[str, str]) -> str:
    parts = []
    for kind, piece in _pieces(text):
        if kind in ("text", "url"):
            parts.append(fill(piece, values))
        elif kind == "bold":
            parts.append(_inline_text(piece.group("bold"), values))
        else:
            target = link_target(piece.group("target"), values)
            label = fill(piece.group("link_text"), values)
            if target is None:
                parts.append(fill(_unlinked(piece, values), values))
            elif label == target:
                parts.append(target)
            else:
                parts.append(f"{label} ({target})")
    return "".join(parts)
