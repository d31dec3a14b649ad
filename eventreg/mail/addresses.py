"""Mail addresses: the configured sender, and recipients in the form SMTP servers accept."""

import re
from email.utils import parseaddr

from flask import current_app


def default_sender_address() -> str:
    """The bare address of MAIL_DEFAULT_SENDER ('Office <office@example.org>' → 'office@example.org')."""
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]


def smtp_address(address: str) -> str:
    """The address as SMTP needs it: an internationalised domain in its ASCII (IDNA) form."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def masked_address(address: str) -> str:
    """The address with its local part hidden but for the first character ('wei.zhang@cas.cn' → 'w…@cas.cn'), to
    tell a person where a mail went without telling anyone else the address."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"


def mask_address_in(text: str, address: str) -> str:
    """`text` (a server's reply, an error) with `address` masked as masked_address() does wherever it appears, in
    any case and in its ASCII (IDNA) form: an SMTP refusal names the recipient, and logs must not."""
    if not address:
        return text
    for form in {address, smtp_address(address)}:
        text = re.sub(re.escape(form), masked_address(address), text, flags=re.IGNORECASE)
    return text
