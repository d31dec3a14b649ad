"""The bytes of a ticket mail: eventreg/mail/mime.py against the standard library's email package, per mail.

    .venv/bin/python -m bench.mime_writer [--database-url URL] [--messages 500] [--passes 3] [--json FILE]

Queues `--messages` confirmation mails as bench.mail_drain does (a fresh schema: never point it at a database you
care about; the default is an SQLite file under the benchmark folder) and composes each once, as the worker does.
Then, mail by mail and alternately, it writes each composed mail's bytes both ways and takes the CPU time of each:

- ours: `EncodedMessage.as_bytes()` (mail/mime.py, the writer the worker uses);
- the email package: the same headers and the same MIME tree (`mime_tree()`, each part with the transfer encoding
  mime.py chose for it) built as `email.message.EmailMessage` and `MIMEPart` objects and written by
  `as_bytes(policy=email.policy.SMTP)`.

Both results are read back with the email package and compared (headers, and each part's type, parameters,
disposition, Content-ID and decoded content, a text's final line break aside), so both wrote the same mail. The
figure is the median per mail of the best of `--passes` passes; its floor is the email package's time in the same
run.
"""

import argparse
import email
import email.policy
import json
import statistics
import time
from email.message import EmailMessage, MIMEPart
from email.utils import formatdate, parseaddr

from sqlalchemy import select

from eventreg.extensions import db
from eventreg.mail import mime
from eventreg.mail.compose import compose
from eventreg.models import OutboxMessage

from .common import BENCH_DIR, environment
from .mail_drain import bench_app, queue_confirmations
from .seed import create_schema, empty_database

SMTP = email.policy.SMTP


def _pair(value) -> tuple[str, str]:
    return value if isinstance(value, tuple) else parseaddr(value)


def _email_part(node: mime.Part | mime.Multipart, part: MIMEPart) -> MIMEPart:
    """`node` built into `part` with the email package's API."""
    if isinstance(node, mime.Multipart):
        part["Content-Type"] = f"multipart/{node.subtype}{node.params}"
        for child in node.parts:
            part.attach(_email_part(child, MIMEPart(policy=SMTP)))
        return part
    kind, *parameters = (piece.strip() for piece in node.content_type.split(";"))
    maintype, subtype = kind.split("/")
    params = dict(piece.split("=", 1) for piece in parameters)
    params = {name: value.strip('"') for name, value in params.items() if name != "charset"}
    encoding, _body = mime._encoded(node)  # the same transfer encoding, so both write the same mail
    if node.text:
        part.set_content(node.data.decode("utf-8"), subtype=subtype, cte=encoding, params=params)
    else:
        part.set_content(node.data, maintype, subtype, cte=encoding, params=params)
    for name, value in [*node.headers, *node.ids]:
        part[name] = value
    return part


def email_package_bytes(mail) -> bytes:
    """The mail `mail.as_bytes()` writes, built and written by the standard library's email package."""
    message = EmailMessage(policy=SMTP)
    message["From"] = mime.address(*_pair(mail.sender))
    message["To"] = ", ".join(mime.address(*_pair(recipient)) for recipient in mail.recipients)
    if mail.reply_to:
        message["Reply-To"] = mime.address(*_pair(mail.reply_to))
    if mail.subject:
        message["Subject"] = mail.subject
    message["Date"] = formatdate(mail.date, localtime=True)
    message["Message-ID"] = mail.msgId
    message["MIME-Version"] = "1.0"
    _email_part(mail.mime_tree(), message)
    return message.as_bytes(policy=SMTP)


def described(data: bytes) -> list:
    """What a reader of the mail gets: the headers and, per part, its type, parameters and decoded content."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    headers = [(name, str(message[name])) for name in ("From", "To", "Subject", "Date", "Message-ID")]
    parts = []
    for part in message.walk():
        params = dict(part.get_params() or [])
        params.pop("boundary", None)
        content = None if part.is_multipart() else part.get_content()
        if isinstance(content, str):  # the email package ends a text with a line break, mime.py does not
            content = content.replace("\r\n", "\n").rstrip("\n")
        parts.append((part.get_content_type(), params, part["Content-Disposition"], part["Content-ID"], content))
    return [headers, parts]


def cpu_ms(write, mail) -> float:
    """CPU milliseconds of one write."""
    started = time.process_time()
    write(mail)
    return 1000 * (time.process_time() - started)


def main() -> None:
    """Queue, compose, write both ways, compare, report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_url = f"sqlite:///{BENCH_DIR / 'mime-writer.sqlite'}"
    parser.add_argument("--database-url", default=default_url, help="SQLAlchemy URL (default: %(default)s)")
    parser.add_argument("--messages", type=int, default=500, help="confirmation mails to queue (default 500)")
    parser.add_argument("--passes", type=int, default=3, help="passes over the mails; the best of each is kept")
    parser.add_argument("--json", help="also write the numbers to this file")
    options = parser.parse_args()

    app = bench_app(options.database_url, smtp_port=25)
    empty_database(app)
    create_schema(app, migrate=False)
    queue_confirmations(app, options.messages)
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        mails = [compose(message) for message in messages]
        for mail in mails:
            mail.date = time.time()
            if described(mail.as_bytes()) != described(email_package_bytes(mail)):
                raise SystemExit(f"the two writers differ on the mail to {mail.recipients}")
        writers = {"ours": lambda mail: mail.as_bytes(), "email": email_package_bytes}
        best = {name: [float("inf")] * len(mails) for name in writers}
        for _ in range(options.passes):
            for index, mail in enumerate(mails):
                for name, write in writers.items():
                    best[name][index] = min(best[name][index], cpu_ms(write, mail))
    result = {
        "messages": len(mails),
        "mail_bytes": len(mails[0].as_bytes()),
        **{f"{name}_ms_per_mail": statistics.median(times) for name, times in best.items()},
    }
    result["ours_share_of_email"] = result["ours_ms_per_mail"] / result["email_ms_per_mail"]
    print(f"{len(mails)} ticket mails of about {result['mail_bytes']:,} bytes, both writers give the same mail")
    print(f"mail/mime.py (EncodedMessage.as_bytes): {result['ours_ms_per_mail']:.2f} ms CPU per mail (median)")
    print(f"the email package, same tree:           {result['email_ms_per_mail']:.2f} ms CPU per mail (median)")
    print(f"ours / the email package: {100 * result['ours_share_of_email']:.0f} %")
    print(f"# {environment(app)}")
    if options.json:
        with open(options.json, "w") as handle:
            json.dump({"environment": environment(app), **result}, handle, indent=1)


if __name__ == "__main__":
    main()
