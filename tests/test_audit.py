"""Who an audit entry names: the organizer of the request while it runs, the system outside requests."""

from sqlalchemy import select

from eventreg import audit
from eventreg.extensions import db
from eventreg.models import AuditEntry

PASSWORD = "correct horse battery"


def created_by(app) -> list[tuple[str, str, bool]]:
    """(account, actor, whether an organizer is linked) of each account.created entry, oldest first."""
    with app.app_context():
        query = select(AuditEntry).where(AuditEntry.action == "account.created").order_by(AuditEntry.id)
        return [(e.after["account"], e.actor, e.organizer_id is not None) for e in db.session.scalars(query)]


def test_the_organizer_of_a_request_is_named_only_while_it_runs(app, logged_in, runner):
    data = {"email": "web@example.org", "role": "organizer", "password": PASSWORD, "confirm_password": PASSWORD}
    assert logged_in.post("/admin/accounts/new", data=data).status_code == 302
    assert audit.acting_organizer.get() is None  # the request is over: nobody acts any more
    result = runner.invoke(args=["create-organizer", "cli@example.org", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert created_by(app) == [
        ("admin@example.org", "", False),  # the fixture's account, made without a request
        ("web@example.org", "admin@example.org", True),
        ("cli@example.org", "", False),  # the command after the request: the system
    ]
