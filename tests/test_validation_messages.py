"""email-validator's English reasons become our own messages, in the reader's language."""

import pytest
from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email

from eventreg.validation_messages import email_problem
from scripts.messages import read_catalog


def problem_with(address: str) -> str:
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        return email_problem(error)
    raise AssertionError(f"{address!r} was accepted")


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("not-an-address", "An email address needs an @ sign, as in name@example.org."),
        ("@example.org", "Something is missing before the @ sign."),
        ("chunli.bai@", "Something is missing after the @ sign."),
        (
            "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "." + "e" * 63 + ".org",
            "This email address is too long.",
        ),
        ("a..b@example.org", "An email address cannot have two dots in a row, or begin or end with a dot."),
        ("chunli.@example.org", "An email address cannot have two dots in a row, or begin or end with a dot."),
        ("白@example.org", "Please use only Latin letters, digits and . _ - + before the @ sign."),
        ("a b@example.org", "The part before the @ sign contains characters an email address cannot have."),
        ("bai@localhost", "The part after the @ sign needs a domain name with a dot, as in example.org."),
        ("bai@example.invalid", "The domain after the @ sign is reserved and cannot receive mail."),
        ("bai@-example.org", "The part after the @ sign is not a valid domain name."),
        ("bai＠example.org", "Please type the @ sign as a plain @, not a full-width ＠."),
    ],
)
def test_each_reason_gets_our_own_message(app, address, message):
    with app.test_request_context():
        assert problem_with(address) == message


def test_an_undeliverable_domain_is_named_as_such(app):
    with app.test_request_context():
        assert email_problem(EmailUndeliverableError("The domain name example.net does not accept email.")) == (
            "The domain of this email address does not receive mail. Please check the address."
        )


def test_no_english_explanation_is_appended_in_another_language(app):
    """The message is ours, translated, with nothing of email-validator's English after it."""
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        message = problem_with("chunli.bai@")
    assert message == read_catalog("ru")["Something is missing after the @ sign."].string
    assert "@-sign" not in message and message.isascii() is False
