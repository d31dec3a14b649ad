"""The audit log reads as words: every action code the code base records has a label, and /admin/audit shows each
entry's time in its event's time zone with the zone named (UTC, named so, for entries of no event)."""

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from eventreg.audit import ACTION_LABELS
from eventreg.extensions import db
from eventreg.models import AuditEntry, Registration

PACKAGE = Path(__file__).resolve().parent.parent / "eventreg"
ACTION_CODE = re.compile(r"[a-z]+\.[a-z_]+")


def _strings(node: ast.AST) -> set[str]:
    """The string constants in an expression (an action may be chosen: `"a.b" if x else "a.c"`)."""
    return {
        child.value
        for child in ast.walk(node)
        if isinstance(child, ast.Constant) and isinstance(child.value, str) and ACTION_CODE.fullmatch(child.value)
    }


def recorded_actions() -> dict[str, str]:
    """Every action code the package records, with where: the first argument of audit.record(), a status
    transition's audit_action, and the "action" of an entry written as a row (the delegate's registration)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            codes: set[str] = set()
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name == "record" and node.args:
                    codes |= _strings(node.args[0])
                if name == "Transition" and len(node.args) >= 4:
                    codes |= _strings(node.args[3])
                for keyword in node.keywords:
                    if keyword.arg in {"action", "audit_action"}:
                        codes |= _strings(keyword.value)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "action":
                        codes |= _strings(value)
            for code in codes:
                found.setdefault(code, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def test_every_recorded_action_has_a_label():
    actions = recorded_actions()
    # The walk finds each way an entry is written: record(), a transition, and the registration's own row.
    assert {"account.created", "registration.cancelled", "registration.created", "registration.erased"} <= set(actions)
    unlabelled = {code: where for code, where in actions.items() if code not in ACTION_LABELS}
    assert not unlabelled, f"give these audit actions a label in eventreg/audit.py ACTION_LABELS: {unlabelled}"
    stale = set(ACTION_LABELS) - set(actions)
    assert not stale, f"these labels name actions nothing records any more: {stale}"


MOMENT = datetime(2027, 3, 1, 2, 0, 5, tzinfo=UTC)


@pytest.fixture
def audit_page(app, make_event, make_registration, make_organizer, client):
    """An admin's /admin/audit with three entries at known moments: a registration in Beijing, one in New York,
    and the admin's own account (no event)."""
    beijing = make_event(title="Beijing Ceremony", timezone="Asia/Shanghai")
    new_york = make_event(title="New York Ceremony", timezone="America/New_York")
    make_registration(beijing, email="bai@example.org")
    make_registration(new_york, email="smith@example.org", given_name="Ann", family_name="Smith", native_name="")
    email, password = make_organizer()
    with app.app_context():
        moments = {
            "Beijing Ceremony": MOMENT,
            "New York Ceremony": MOMENT + timedelta(seconds=1),
        }
        for entry in db.session.scalars(select(AuditEntry)):
            if entry.action == "registration.created":
                entry.created_at = moments[entry.event.title]
            else:  # event.created, account.created
                entry.created_at = MOMENT - timedelta(seconds=1)
        db.session.execute(update(Registration).values(created_at=MOMENT))
        db.session.commit()
    assert client.post("/auth/login", data={"email": email, "password": password}).status_code == 302
    return client.get("/admin/audit").text


def rows(page: str) -> dict[str, str]:
    """The text of each row of the log, keyed by its action code and event title, tags removed."""
    found = {}
    for row in re.findall(r"<tr data-entry=.*?</tr>", page, re.S):
        action = re.search(r'data-action="([^"]+)"', row).group(1)
        text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
        found[f"{action} {'Beijing' if 'Beijing' in text else 'New York' if 'New York' in text else '-'}"] = text
    return found


def test_the_audit_log_shows_new_registrations_with_labels_in_the_events_time(audit_page):
    shown = rows(audit_page)
    beijing = shown["registration.created Beijing"]
    assert beijing.startswith("1 Mar 2027, 10:00:05 China Time (UTC+08:00) the delegate Registered"), beijing
    new_york = shown["registration.created New York"]
    assert new_york.startswith("28 Feb 2027, 21:00:06 Eastern Time (UTC-05:00) the delegate Registered"), new_york
    account = shown["account.created -"]
    assert account.startswith("1 Mar 2027, 02:00:04 UTC the system Account created"), account
    assert '<time datetime="2027-03-01T02:00:05Z">1 Mar 2027, 10:00:05</time>' in audit_page


def test_no_action_code_is_shown_as_such(audit_page):
    visible = re.sub(r"<[^>]+>", " ", audit_page)
    assert not re.search(r"\b(account|event|registration|token|mail)\.[a-z_]+\b", visible)
    assert "Times are in UTC" not in visible and "When (UTC)" not in visible


def test_a_registrations_history_names_its_actions_and_its_time_zone(app, logged_in, make_event, make_registration):
    event = make_event(timezone="Asia/Shanghai")
    registration_id, _token = make_registration(event)
    logged_in.post(f"/organizer/events/{event.slug}/registrations/{registration_id}/cancel")
    page = logged_in.get(f"/organizer/events/{event.slug}/registrations/{registration_id}").text
    history = page.split('id="history-heading"', 1)[1].split("</ol>", 1)[0]
    assert 'History <span class="hint">(China Time)</span>' in page
    assert "Registration cancelled" in history
    visible = re.sub(r"<[^>]+>", " ", history)
    assert not re.search(r"\b(account|event|registration|token|mail)\.[a-z_]+\b", visible), visible
