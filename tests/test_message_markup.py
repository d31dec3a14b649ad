"""The small markup of messages: paragraphs, line breaks, bold and links, to HTML with every character of the
organizer's text and of the placeholder values escaped, and to plain text."""

import re

import pytest
from markupsafe import Markup

from eventreg.messages.markup import link_target, paragraphs_of, to_html, to_text

VALUES = {
    "given_name": "Marie",
    "family_name": "Curie",
    "private_link": "https://register.example.org/r/TOKEN",
}


# The tags the markup writes; anything else with "<" came from the organizer's text or a value.
OWN_TAGS = re.compile(r'<p dir="auto">|</p>|<br>|</?strong>|<a href="[^"<>]*">|</a>')
HREF = re.compile(r'href="([^"]*)"')


def p(*inner: str) -> str:
    return "\n".join(f'<p dir="auto">{html}</p>' for html in inner)


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("Hello", p("Hello")),
        ("One\n\nTwo", p("One", "Two")),
        ("One\n  \n\n\nTwo", p("One", "Two")),  # blank lines with spaces, several of them: one break
        ("Line one\nline two", p("Line one<br>\nline two")),
        ("One\r\n\r\nTwo\r\nthree", p("One", "Two<br>\nthree")),  # Windows line endings
        ("One\r\rTwo", p("One", "Two")),  # old Mac line endings
        ("\n\nHello\n\n", p("Hello")),
        ("Bring **your passport**.", p("Bring <strong>your passport</strong>.")),
        ("** not bold **", p("** not bold **")),
        ("a ** b", p("a ** b")),
        ("See https://example.org/a?b=1&c=2.", p('See <a href="https://example.org/a?b=1&amp;c=2">https://example.org/a?b=1&amp;c=2</a>.')),
        ("(see https://example.org/x)", p('(see <a href="https://example.org/x">https://example.org/x</a>)')),
        ("[the programme](https://example.org/p)", p('<a href="https://example.org/p">the programme</a>')),
        ("[your registration]({private_link})", p('<a href="https://register.example.org/r/TOKEN">your registration</a>')),  # noqa: E501
        ("Your link: {private_link}", p('Your link: <a href="https://register.example.org/r/TOKEN">https://register.example.org/r/TOKEN</a>')),
        ("**[bold link](https://example.org)**", p('<strong><a href="https://example.org">bold link</a></strong>')),
        ("Dear {given_name} {family_name},", p("Dear Marie Curie,")),
        ("Unknown {nobody} stays", p("Unknown {nobody} stays")),
        ("尊敬的{family_name}教授：\n\n请携带**护照**。", p("尊敬的Curie教授：", "请携带<strong>护照</strong>。")),
        ("عزيزي {given_name}،\n\nيرجى إحضار **جواز السفر**.", p("عزيزي Marie،", "يرجى إحضار <strong>جواز السفر</strong>.")),  # noqa: E501
    ],
)  # fmt: skip
def test_the_markup_becomes_html(text, html):
    rendered = to_html(text, VALUES)
    assert isinstance(rendered, Markup)
    assert rendered == html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(document.cookie))",
        "[click](data:text/html,<script>alert(1)</script>)",
        '[x](https://example.org/"onmouseover="alert(1))',
        "**<b>bold</b>**",
        "https://example.org/<script>",
        "<a href='javascript:alert(1)'>x</a>",
        "&lt;script&gt; already escaped",
    ],
)
def test_nothing_the_organizer_writes_becomes_html_or_a_script(text):
    html = str(to_html(text, VALUES))
    # Only the markup's own tags are left; every link leads to a web address, its attribute closed where it began.
    hrefs = HREF.findall(html)
    assert all(href.startswith(("https://", "http://")) and '"' not in href for href in hrefs)
    assert "<" not in OWN_TAGS.sub("", html)


@pytest.mark.parametrize(
    ("value", "escaped", "not_in_html"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;", "<script>"),
        ('"><img src=x onerror=alert(1)>', "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;", "<img"),
        ("**Eve**", "**Eve**", "<strong>"),
        ("[x](https://evil.example)", "[x](https://evil.example)", "<a "),
        ("https://evil.example", "https://evil.example", "<a "),  # a name that looks like an address stays text
        ("{family_name}", "{family_name}", "Curie"),  # a value is never filled again
    ],
)
def test_placeholder_values_are_escaped_and_never_read_as_markup(value, escaped, not_in_html):
    values = {**VALUES, "given_name": value}
    html = str(to_html("Dear **{given_name}**, [see]({private_link})", values))
    assert escaped in html
    assert not_in_html not in html.replace("<strong>", "", 1).replace('<a href="https://register', "", 1)
    assert f"Dear {value}, see (https://register.example.org/r/TOKEN)" == to_text(
        "Dear **{given_name}**, [see]({private_link})", values
    )


@pytest.mark.parametrize(
    ("target", "values", "expected"),
    [
        ("https://example.org/p", {}, "https://example.org/p"),
        ("HTTP://example.org", {}, "HTTP://example.org"),
        ("{private_link}", VALUES, "https://register.example.org/r/TOKEN"),
        ("https://example.org/?who={given_name}", {"given_name": "A&B <x>"}, "https://example.org/?who=A%26B%20%3Cx%3E"),
        ("{given_name}", VALUES, None),  # a placeholder that does not fill to an address
        ("{private_link}", {"private_link": "(this delegate's private link)"}, None),  # a preview's stand-in
        ("{private_link}", {"private_link": "javascript:alert(1)"}, None),
        ("javascript:alert(1)", {}, None),
        ("mailto:office@example.org", {}, None),
        ("/relative/path", {}, None),
        ("ftp://example.org", {}, None),
    ],
)  # fmt: skip
def test_a_link_leads_only_to_a_web_address(target, values, expected):
    assert link_target(target, values) == expected


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("Hello", "Hello"),
        ("One\r\n\r\n\r\nTwo\r\nthree", "One\n\nTwo\nthree"),
        ("Bring **your passport**.", "Bring your passport."),
        ("[the programme](https://example.org/p)", "the programme (https://example.org/p)"),
        ("[https://example.org](https://example.org)", "https://example.org"),
        ("[your registration]({private_link})", "your registration (https://register.example.org/r/TOKEN)"),
        ("[click](javascript:alert(1))", "[click](javascript:alert(1))"),
        ("See https://example.org.", "See https://example.org."),
        ("Dear {given_name} <b>{family_name}</b>", "Dear Marie <b>Curie</b>"),
        ("请携带**护照**。", "请携带护照。"),
    ],
)
def test_the_markup_becomes_plain_text(text, plain):
    assert to_text(text, VALUES) == plain


def test_a_stand_in_for_the_private_link_is_shown_as_text():
    values = {**VALUES, "private_link": "(this delegate's private link)"}
    assert str(to_html("[Open]({private_link})", values)) == p("Open (this delegate&#39;s private link)")
    assert to_text("[Open]({private_link})", values) == "Open (this delegate's private link)"
    assert to_text("[Hello]({given_name})", values) == "Hello (Marie)"
    assert to_text("Link: {private_link}", values) == "Link: (this delegate's private link)"


def test_paragraphs_of_blank_text_are_none():
    assert paragraphs_of(" \r\n \n\t") == []
    assert to_html("", VALUES) == ""
