"""A registration and its confirmation mail are saved together or not at all: a registration whose mail could not be
queued would never tell the delegate their link, and a mail without its registration would announce a place that
does not exist."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, OutboxMessage, Registration
from eventreg.registration.services import register_delegate
from tests.conftest import delegate
from tests.test_registration import form


class MailInsertFailed(Exception):
    """What the database says when the outbox cannot take the mail (a full disk, a lost connection…)."""


@contextmanager
def failing_mail_insert(app):
    """Inside the block, every INSERT into the outbox fails; yields the statements run before, in order."""
    seen = []

    def refuse(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
        if statement.lstrip().upper().startswith(f"INSERT INTO {OutboxMessage.__tablename__.upper()} "):
            raise MailInsertFailed(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", refuse)


def saved(event_id: int) -> dict:
    """What the database holds (the test's own): registrations, mails, audit entries, and the event's counter."""
    count = select(func.count())
    rows = {
        "registrations": db.session.scalar(count.select_from(Registration)),
        "mails": db.session.scalar(count.select_from(OutboxMessage)),
        # The event's own creation is audited too; only the registration's entries count here.
        "audit entries": db.session.scalar(count.where(AuditEntry.registration_id.is_not(None))),
    }
    event = db.session.get(Event, event_id, populate_existing=True)
    rows["seats taken"] = event.seats_taken
    return rows


NOTHING = {"registrations": 0, "mails": 0, "audit entries": 0, "seats taken": 0}


def inserted_registration_first(statements: list[str]) -> bool:
    """The registration's INSERT ran, and before the failed mail's: the failure came after the registration."""
    table = f"INSERT INTO {Registration.__tablename__.upper()} "
    return any(statement.lstrip().upper().startswith(table) for statement in statements[:-1])


def test_a_registration_whose_confirmation_mail_fails_to_queue_is_not_saved(app, make_event):
    event = make_event(capacity=10)
    with failing_mail_insert(app) as statements, app.app_context():
        with pytest.raises(MailInsertFailed):
            register_delegate(event.id, delegate(), language="en")
        assert inserted_registration_first(statements)
        # The service rolled back: not even its own session still holds the registration.
        assert saved(event.id) == NOTHING
    with app.app_context():
        assert saved(event.id) == NOTHING


def test_the_delegate_sees_an_error_and_can_register_once_the_mail_can_be_queued(app, client, make_event):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production: the error page, not the traceback
    event = make_event(capacity=10)
    with failing_mail_insert(app) as statements:
        response = client.post(f"/e/{event.slug}/register", data=form())
    assert inserted_registration_first(statements)
    assert response.status_code == 500 and "Location" not in response.headers
    assert "Something went wrong on our side. Please try again in a moment." in response.text
    with app.app_context():
        assert saved(event.id) == NOTHING

    # Nothing half-saved stands in the way: the same submission, once the outbox works, registers as usual.
    response = client.post(f"/e/{event.slug}/register", data=form())
    assert response.status_code == 303 and response.headers["Location"] == f"/e/{event.slug}/submitted"
    with app.app_context():
        assert saved(event.id) == {"registrations": 1, "mails": 1, "audit entries": 1, "seats taken": 2}
        assert db.session.scalar(select(OutboxMessage.kind)) == "confirmation"
