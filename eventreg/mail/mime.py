"""The bytes of an outgoing mail, written straight from its parts.

Every mail of the outbox has one of a few fixed shapes (see tickets/mail.py for the ticket's), so the MIME tree is
written here directly instead of being built as `email.message` objects and flattened by the email package's
generator: that took about half of the time it took to render a ticket mail (5 of 10 ms), mostly refolding the
same headers. Header values are still encoded and folded by the standard library's SMTP policy (RFC 2047 for names
and subjects in any script), once per distinct value.

A body goes as 7bit when it is ASCII, as 8bit when it is UTF-8 with every line within the 998 octets SMTP allows,
and as base64 otherwise (a very long line in an HTML body, say); binary parts always as base64.
"""

import base64
import email.policy
import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import formataddr, formatdate

CRLF = b"\r\n"
SMTP_POLICY = email.policy.SMTP  # CRLF line ends, RFC 2047 encoded words for what is not ASCII
MAX_LINE_OCTETS = 998  # RFC 5321 4.5.3.1.6, without the CRLF


@dataclass
class Part:
    """A leaf of the MIME tree: its content type with parameters, its bytes and any further headers."""

    content_type: str
    data: bytes
    text: bool = True  # text is sent as 7bit or 8bit where it can be; anything else as base64
    headers: list[tuple[str, str]] = field(default_factory=list)  # encoded by header(): constant values
    ids: list[tuple[str, str]] = field(default_factory=list)  # written by plain_header(): e.g. Content-ID


@dataclass
class Multipart:
    """An inner node of the MIME tree: multipart/<subtype> with its parts in order."""

    subtype: str
    parts: list["Part | Multipart"]
    params: str = ""  # further Content-Type parameters, e.g. '; type="multipart/alternative"'


@functools.lru_cache(maxsize=4096)
def header(name: str, value: str) -> bytes:
    """`Name: value` as it goes on the wire: encoded and folded by the SMTP policy, ending in CRLF.

    Raises ValueError for a value holding CR or LF, which would end the header and start another one.
    """
    if "\r" in value or "\n" in value:
        raise ValueError(f"line break in the {name} header")
    return SMTP_POLICY.fold_binary(name, SMTP_POLICY.header_factory(name, value))


def plain_header(name: str, value: str) -> bytes:
    """`Name: value` for a value this code made itself (an id, a date): ASCII, on one line, written as it is."""
    line = f"{name}: {value}"
    if not line.isascii() or len(line) > MAX_LINE_OCTETS or "\r" in line or "\n" in line:
        raise ValueError(f"the {name} header must be one line of ASCII")
    return line.encode("ascii") + CRLF


def address(name: str, addr_spec: str) -> str:
    """One address as a header value: the display name quoted where it needs to be."""
    return str(Address(display_name=name, addr_spec=addr_spec))


def address_header(name: str, addresses: list[tuple[str, str]]) -> bytes:
    """`Name: address, …` for (display name, address) pairs. A short one is written as `formataddr` encodes it (one
    RFC 2047 encoded word for a name not in ASCII): every mail has a different To, and the policy's folding
    took ~0.6 ms of it. A longer one is encoded and folded by the policy."""
    for display_name, addr_spec in addresses:
        Address(display_name=display_name, addr_spec=addr_spec)  # ValueError for a malformed address or a line break
    line = f"{name}: " + ", ".join(formataddr(pair, charset="utf-8") for pair in addresses)
    if line.isascii() and "\r" not in line and "\n" not in line:
        limit = SMTP_POLICY.max_line_length
        if len(line) <= limit:
            return line.encode("ascii") + CRLF
        display, _, addr_spec = line.rpartition(" <")
        if len(addresses) == 1 and display and len(display) <= limit and len(addr_spec) + 2 <= limit:
            return f"{display}\r\n <{addr_spec}".encode("ascii") + CRLF  # folded before the address, as the policy does
    return header(name, ", ".join(address(*pair) for pair in addresses))


def _encoded(part: Part) -> tuple[str, bytes]:
    """The Content-Transfer-Encoding a part needs and its body in it, with CRLF line ends."""
    if part.text:
        lines = part.data.replace(b"\r\n", b"\n").split(b"\n")
        if all(len(line) <= MAX_LINE_OCTETS for line in lines):
            return ("7bit" if part.data.isascii() else "8bit"), CRLF.join(lines)
    return "base64", base64.encodebytes(part.data).replace(b"\n", CRLF).rstrip(CRLF)


def _boundary(bodies: Iterable[bytes]) -> str:
    """A boundary that no line of the bodies starts with (base64 and ordinary text cannot hold "=_")."""
    while True:
        boundary = f"=_eventreg_{secrets.token_hex(12)}"
        marker = b"--" + boundary.encode("ascii")
        if not any(marker in body for body in bodies):
            return boundary


def _node(node: Part | Multipart) -> tuple[list[bytes], bytes]:
    """A node's own headers and its body."""
    if isinstance(node, Part):
        encoding, body = _encoded(node)
        headers = [header("Content-Type", node.content_type), header("Content-Transfer-Encoding", encoding)]
        headers += [header(name, value) for name, value in node.headers]
        headers += [plain_header(name, value) for name, value in node.ids]
        return headers, body
    children = [_node(child) for child in node.parts]
    chunks = [b"".join(child_headers) + CRLF + child_body for child_headers, child_body in children]
    boundary = _boundary(chunks)
    delimiter = b"--" + boundary.encode("ascii")
    body = b"".join(delimiter + CRLF + chunk + CRLF for chunk in chunks) + delimiter + b"--"
    # Written directly (the boundary is new each time): the boundary on a line of its own keeps every line short.
    content_type = f'Content-Type: multipart/{node.subtype}{node.params};\r\n boundary="{boundary}"\r\n'
    return [content_type.encode("ascii")], body


def write(headers: list[bytes], tree: Part | Multipart) -> bytes:
    """The whole mail: its top headers (from header() and plain_header()), MIME-Version, then the tree."""
    tree_headers, body = _node(tree)
    return b"".join([*headers, b"MIME-Version: 1.0" + CRLF, *tree_headers]) + CRLF + body + CRLF


def date_header(date: float) -> bytes:
    """The Date header for a time (seconds since the epoch), in the server's zone as Flask-Mail writes it."""
    return plain_header("Date", formatdate(date, localtime=True))
