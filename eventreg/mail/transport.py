"""Where composed messages go: an SMTP server through Flask-Mail, or .eml files when none is configured."""

import os
import smtplib
import tempfile
import time
from pathlib import Path

import flask_mail
from flask import current_app


class TimeoutConnection(flask_mail.Connection):
    """Flask-Mail's connection with a socket timeout (Flask-Mail 0.10 has none), so a hung server cannot block."""

    def __init__(self, state, timeout: float):
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self):
        """Open, secure and log in to the SMTP server like Flask-Mail does, but with a timeout."""
        state = self.mail
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=self.timeout)
        host.set_debuglevel(int(state.debug))
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


class SmtpTransport:
    """One SMTP connection, opened on first use, kept for the messages that follow, reopened if it drops."""

    def __init__(self):
        self.connection: TimeoutConnection | None = None

    def send(self, message: flask_mail.Message, name: str) -> None:
        """Send one message; a connection the server closed while it was idle is reopened once."""
        if self.connection is None:
            self.connection = self._open()
        try:
            try:
                self.connection.send(message)
            except smtplib.SMTPServerDisconnected as error:
                if isinstance(error.__context__, TimeoutError):
                    # The server went silent mid-conversation, maybe after taking the message: sending it again
                    # at once could repeat it and hang as long again; the outbox retries it later instead.
                    raise
                self.close()
                self.connection = self._open()
                self.connection.send(message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            raise  # the server answered: the session is still usable for the next message
        except OSError:
            # A timeout or broken connection leaves the session in an unknown state: start afresh next time,
            # without the QUIT a silent server would leave unanswered for another MAIL_TIMEOUT.
            self._drop()
            raise

    def close(self) -> None:
        """Say goodbye to the server if it still listens."""
        connection, self.connection = self.connection, None
        if connection is not None and connection.host is not None:
            try:
                connection.host.quit()
            except OSError:
                connection.host.close()

    def _drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and connection.host is not None:
            connection.host.close()

    def _open(self) -> TimeoutConnection:
        state = current_app.extensions["mail"]
        connection = TimeoutConnection(state, current_app.config["MAIL_TIMEOUT"])
        return connection.__enter__()


class FileTransport:
    """Writes each message as an .eml file, for development runs without a mail server."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, message: flask_mail.Message, name: str) -> None:
        """Write the message atomically as `name`.eml."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if message.date is None:
            message.date = time.time()
        fd, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        os.replace(temp, self.directory / f"{name}.eml")
        flask_mail.email_dispatched.send(current_app._get_current_object(), message=message)

    def close(self) -> None:
        """Nothing to close."""


def open_transport() -> SmtpTransport | FileTransport:
    """The transport the configuration asks for."""
    if current_app.config.get("MAIL_SERVER"):
        return SmtpTransport()
    return FileTransport(current_app.config["MAIL_FILE_DIR"])
