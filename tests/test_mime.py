"""The mail writer (eventreg/mail/mime.py): what it writes is read back by the standard library's parser as meant."""

import email
import email.policy

import pytest

from eventreg.mail import mime

NAMES = [
    "Chunli Bai",
    "Prof. Ирина Петрова",
    "白春礼",
    "María José García Núñez de la Fuente y Castillo Martínez del Río",
    'Dr. "Amal" Haddad, PhD',
    "علي بن أبي طالب",
    "",
]


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


@pytest.mark.parametrize("name", NAMES)
def test_an_address_in_any_script_reads_back_the_same(name):
    line = mime.address_header("To", [(name, "delegate@example.org")])
    assert line.isascii() and line.endswith(b"\r\n")
    assert all(len(part) <= 78 for part in line.split(b"\r\n"))
    [address] = parse(line + b"\r\n")["To"].addresses
    assert (address.display_name, address.addr_spec) == (name, "delegate@example.org")


def test_several_addresses_read_back_in_order():
    line = mime.address_header("To", [("Ирина", "a@example.org"), ("Bai", "b@example.org")])
    assert [a.addr_spec for a in parse(line + b"\r\n")["To"].addresses] == ["a@example.org", "b@example.org"]


@pytest.mark.parametrize("value", ["a\r\nBcc: x@example.org", "a\nb", "a\rb"])
def test_a_line_break_never_reaches_a_header(value):
    with pytest.raises(ValueError):
        mime.header("Subject", value)
    with pytest.raises(ValueError):
        mime.plain_header("Message-ID", value)
    with pytest.raises(ValueError):
        mime.address_header("To", [(value, "a@example.org")])


def test_a_whole_mail_reads_back_part_by_part():
    text = "Dear Ирина,\nyour seat is confirmed.\n"
    html = "<p>" + "x" * 2000 + "</p>\n<p>Ирина</p>"  # one line longer than SMTP allows: base64
    png = bytes(range(256)) * 4
    tree = mime.Multipart(
        "mixed",
        [
            mime.Multipart(
                "related",
                [
                    mime.Multipart(
                        "alternative",
                        [
                            mime.Part('text/plain; charset="utf-8"', text.encode()),
                            mime.Part('text/html; charset="utf-8"', html.encode()),
                        ],
                    ),
                    mime.Part("image/png", png, text=False, ids=[("Content-ID", "<qr@example.org>")]),
                ],
                params='; type="multipart/alternative"',
            ),
            mime.Part(
                'text/calendar; charset="utf-8"; method="PUBLISH"',
                b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                headers=[("Content-Disposition", 'attachment; filename="event.ics"')],
            ),
        ],
    )
    data = mime.write([mime.header("Subject", "Ваша регистрация подтверждена: Inaugural Ceremony")], tree)
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line ends in CRLF
    message = parse(data)
    assert message["Subject"] == "Ваша регистрация подтверждена: Inaugural Ceremony"
    assert message["MIME-Version"] == "1.0"
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/related",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "image/png",
        "text/calendar",
    ]
    plain, rich, image, calendar = [part for part in message.walk() if not part.is_multipart()]
    assert plain.get_content() == text.replace("\n", "\r\n") or plain.get_content().replace("\r\n", "\n") == text
    assert plain["Content-Transfer-Encoding"] == "8bit"
    assert rich["Content-Transfer-Encoding"] == "base64"
    assert rich.get_content().replace("\r\n", "\n") == html
    assert image.get_content() == png and image["Content-ID"] == "<qr@example.org>"
    assert calendar["Content-Transfer-Encoding"] == "7bit" and calendar.get_filename() == "event.ics"
    assert calendar.get_param("method") == "PUBLISH"
    assert not message.defects and not any(part.defects for part in message.walk())


def test_a_boundary_is_never_a_line_of_a_body():
    part = mime.Part("text/plain", b"--=_eventreg_0000\r\nhello")
    headers, body = mime._node(mime.Multipart("mixed", [part, part]))
    boundary = headers[0].split(b'boundary="')[1].split(b'"')[0]
    assert body.count(b"--" + boundary) == 3  # two delimiters and the close, nothing from the bodies


@pytest.mark.parametrize(
    "addr_spec", ["a@example.org Bcc: c@example.org", "a@example.org, b@example.org", "a b@example.org"]
)
def test_a_malformed_address_is_refused_not_written(addr_spec):
    with pytest.raises(ValueError):
        mime.address_header("To", [("Ирина", addr_spec)])
