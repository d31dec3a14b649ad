"""Administrators manage organizer accounts; everyone manages their own password; the audit log shows it all."""

import re

import pytest
from sqlalchemy import select

from eventreg.admin import services as admin_services
from eventreg.admin.audit_log import PER_PAGE
from eventreg.auth.services import AccountError
from eventreg.extensions import db
from eventreg.models import AuditEntry, Organizer

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a new and longer password"


def log_in(client, email, password=PASSWORD):
    """Log the client in; returns the login response."""
    return client.post("/auth/login", data={"email": email, "password": password})


def account_id(app, email) -> int:
    with app.app_context():
        return db.session.scalar(select(Organizer.id).where(Organizer.email == email))


def account(app, email) -> Organizer:
    with app.app_context():
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == email))
        db.session.expunge(organizer)
        return organizer


def audit_entries(app, action) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        entries = entries.all()
        db.session.expunge_all()
        return entries


@pytest.fixture
def admin(app, make_organizer):
    """A client logged in as the only administrator."""
    make_organizer("admin@example.org", PASSWORD, role="admin")
    client = app.test_client()
    assert log_in(client, "admin@example.org").status_code == 302
    return client


@pytest.fixture
def organizer(app, make_organizer):
    """A client logged in as an organizer."""
    make_organizer("org@example.org", PASSWORD, role="organizer")
    client = app.test_client()
    assert log_in(client, "org@example.org").status_code == 302
    return client


def test_an_admin_adds_an_account_that_can_log_in(app, admin):
    assert admin.get("/admin/accounts").status_code == 200
    response = admin.post(
        "/admin/accounts/new",
        data={
            "email": "New.Person@Example.org",
            "role": "organizer",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    new_id = account_id(app, "New.Person@example.org")
    assert response.headers["Location"] == f"/admin/accounts/{new_id}"
    listing = admin.get("/admin/accounts").text
    assert "New.Person@example.org" in listing and "Organizer" in listing
    entry = audit_entries(app, "account.created")[-1]
    assert (entry.actor, entry.after) == (
        "admin@example.org",
        {"account": "New.Person@example.org", "role": "organizer"},
    )
    response = log_in(app.test_client(), "new.person@example.org")
    assert response.headers["Location"] == "/organizer/"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": ""}, "email", "Please fill in this field."),
        ({"email": "not an address"}, "email", "An email address needs an @ sign, as in name@example.org."),
        ({"email": "admin@example.org"}, "email", "An organizer with the address admin@example.org exists already."),
        ({"role": "superuser"}, "role", "Not a valid choice"),
        ({"password": "short", "confirm_password": "short"}, "password", "Between 12 and 1,024 characters"),
        ({"password": "   abcd      ", "confirm_password": "   abcd      "}, "password", "at least 12 characters"),
        ({"confirm_password": "something else"}, "confirm_password", "The two passwords differ."),
    ],
)
def test_a_new_account_is_refused_with_a_reason(app, admin, changes, field, message):
    data = {"email": "new@example.org", "role": "organizer", "password": PASSWORD, "confirm_password": PASSWORD}
    response = admin.post("/admin/accounts/new", data=data | changes)
    assert response.status_code == 200
    assert message in response.text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    with app.app_context():
        assert db.session.scalar(select(Organizer).where(Organizer.email == "new@example.org")) is None


def test_a_role_change_applies_to_running_sessions(app, admin, organizer):
    org_id = account_id(app, "org@example.org")
    page = admin.get(f"/admin/accounts/{org_id}")
    assert page.status_code == 200 and "org@example.org" in page.text
    response = admin.post(f"/admin/accounts/{org_id}/role", data={"role-role": "checkin"})
    assert response.headers["Location"] == f"/admin/accounts/{org_id}"
    assert "org@example.org is now: Check-in staff." in admin.get(response.headers["Location"]).text
    assert organizer.get("/organizer/").status_code == 403
    assert organizer.get("/auth/account").status_code == 200
    [entry] = audit_entries(app, "account.role_changed")
    assert entry.before == {"account": "org@example.org", "role": "organizer"}
    assert entry.after == {"role": "checkin"}


def test_deactivation_ends_sessions_and_logins_until_reactivated(app, admin, organizer):
    org_id = account_id(app, "org@example.org")
    assert admin.post(f"/admin/accounts/{org_id}/deactivate").status_code == 302
    assert organizer.get("/organizer/").headers["Location"].startswith("/auth/login")
    refused = log_in(app.test_client(), "org@example.org")
    assert "The email address or the password is not right." in refused.text
    assert "Deactivated" in admin.get("/admin/accounts").text  # never deleted
    assert admin.post(f"/admin/accounts/{org_id}/reactivate").status_code == 302
    assert log_in(app.test_client(), "org@example.org").status_code == 302
    assert [e.after for e in audit_entries(app, "account.deactivated")] == [{"active": False}]
    assert [e.after for e in audit_entries(app, "account.reactivated")] == [{"active": True}]


def test_a_password_reset_ends_the_accounts_sessions(app, admin, organizer):
    org_id = account_id(app, "org@example.org")
    data = {"password-password": NEW_PASSWORD, "password-confirm_password": NEW_PASSWORD}
    response = admin.post(f"/admin/accounts/{org_id}/password", data=data)
    assert response.status_code == 302
    assert organizer.get("/organizer/").status_code == 302
    assert log_in(app.test_client(), "org@example.org").status_code == 200  # the old password no longer works
    assert log_in(app.test_client(), "org@example.org", NEW_PASSWORD).status_code == 302
    [entry] = audit_entries(app, "account.password_reset")
    assert entry.after == {"account": "org@example.org"}  # never the password
    short = admin.post(
        f"/admin/accounts/{org_id}/password", data={"password-password": "x", "password-confirm_password": "x"}
    )
    assert short.status_code == 200 and "Between 12 and 1,024 characters" in short.text


def test_an_admin_resetting_their_own_password_stays_logged_in(app, admin):
    admin_id = account_id(app, "admin@example.org")
    data = {"password-password": NEW_PASSWORD, "password-confirm_password": NEW_PASSWORD}
    assert admin.post(f"/admin/accounts/{admin_id}/password", data=data).status_code == 302
    assert admin.get("/admin/accounts").status_code == 200


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, admin, make_organizer):
    admin_id = account_id(app, "admin@example.org")
    response = admin.post(f"/admin/accounts/{admin_id}/role", data={"role-role": "organizer"})
    assert response.status_code == 200
    message = "admin@example.org is the last active administrator. Make another account an administrator first."
    assert message in response.text
    response = admin.post(f"/admin/accounts/{admin_id}/deactivate", follow_redirects=True)
    assert message in response.text
    assert account(app, "admin@example.org").role == "admin" and account(app, "admin@example.org").active

    # An inactive administrator does not count; an active second one does.
    make_organizer("dormant@example.org", PASSWORD, role="admin")
    with app.app_context():
        admin_services.set_active(account_id(app, "dormant@example.org"), False)
        with pytest.raises(AccountError, match="last active administrator"):
            admin_services.change_role(admin_id, "checkin")
    make_organizer("second@example.org", PASSWORD, role="admin")
    response = admin.post(f"/admin/accounts/{admin_id}/role", data={"role-role": "organizer"})
    assert response.headers["Location"] == "/organizer/"  # no longer an administrator: off the admin pages
    assert admin.get("/admin/accounts").status_code == 403


def test_an_admin_deactivating_themselves_is_logged_out(app, admin, make_organizer):
    make_organizer("second@example.org", PASSWORD, role="admin")
    response = admin.post(f"/admin/accounts/{account_id(app, 'admin@example.org')}/deactivate")
    assert response.headers["Location"] == "/auth/login"
    assert admin.get("/admin/accounts").headers["Location"].startswith("/auth/login")


def test_assigning_events_decides_what_an_organizer_runs(app, admin, organizer, make_event):
    first, second = make_event(title="First Ceremony"), make_event(title="Second Ceremony")
    org_id = account_id(app, "org@example.org")
    assert organizer.get(f"/organizer/events/{first.slug}").status_code == 403
    page = admin.get(f"/admin/accounts/{org_id}").text
    assert 'type="checkbox"' in page and "First Ceremony" in page

    admin.post(f"/admin/accounts/{org_id}/events", data={"assign-events": [str(first.id), str(second.id)]})
    assert organizer.get(f"/organizer/events/{first.slug}").status_code == 200
    assert organizer.get(f"/organizer/events/{second.slug}").status_code == 200
    assert re.search(
        rf'<input checked id="assign-events-\d" name="assign-events" type="checkbox" value="{first.id}">',
        admin.get(f"/admin/accounts/{org_id}").text,
    )

    response = admin.post(f"/admin/accounts/{org_id}/events", data={"assign-events": [str(second.id)]})
    assert "1 removed" in admin.get(response.headers["Location"]).text
    assert organizer.get(f"/organizer/events/{first.slug}").status_code == 403
    assert organizer.get(f"/organizer/events/{second.slug}").status_code == 200
    added = audit_entries(app, "event.organizer_added")
    assert sorted(e.event_id for e in added) == sorted([first.id, second.id])
    assert all(e.after == {"organizer": "org@example.org"} for e in added)
    [removed] = audit_entries(app, "event.organizer_removed")
    assert (removed.event_id, removed.before) == (first.id, {"organizer": "org@example.org"})

    refused = admin.post(f"/admin/accounts/{org_id}/events", data={"assign-events": ["999999"]})
    assert refused.status_code == 200 and "One of the chosen events no longer exists." in refused.text


def test_the_check_in_role_is_told_that_its_events_decide_its_desk(app, admin, make_organizer, make_event):
    event = make_event(title="First Ceremony")
    make_organizer("desk@example.org", PASSWORD, role="checkin")
    desk_id = account_id(app, "desk@example.org")
    admin.post(f"/admin/accounts/{desk_id}/events", data={"assign-events": [str(event.id)]})
    page = admin.get(f"/admin/accounts/{desk_id}").text
    assert "Check-in staff work the check-in desk of the events ticked here" in page
    assert "count if the role becomes organizer" not in page
    assert "check-in staff use only the check-in desk of the events assigned to them" in page
    desk = app.test_client()
    log_in(desk, "desk@example.org")
    assert "First Ceremony" in desk.get("/checkin/").text  # as the hint says: the ticked event is at the desk


@pytest.mark.parametrize("path", ["/admin/accounts/999999", "/admin/accounts/999999/role"])
def test_unknown_accounts_are_a_404(admin, path):
    response = admin.get(path) if path.endswith("999999") else admin.post(path, data={"role-role": "admin"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        lambda: admin_services.change_role(999999, "organizer"),
        lambda: admin_services.set_active(999999, False),
        lambda: admin_services.reset_password(999999, NEW_PASSWORD),
        lambda: admin_services.assign_events(999999, set()),
    ],
)
def test_the_services_refuse_unknown_accounts_with_their_own_error(app, change):
    with app.app_context():
        with pytest.raises(admin_services.AccountNotFound):
            change()
        assert not db.session().in_transaction()  # the write transaction ended with the refusal


def test_changing_ones_own_password_ends_every_other_session(app, organizer):
    other_browser = app.test_client()
    log_in(other_browser, "org@example.org")
    page = organizer.get("/auth/account")
    assert "org@example.org" in page.text and "Organizer" in page.text
    data = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    response = organizer.post("/auth/account", data=data)
    assert response.headers["Location"] == "/auth/account"
    assert (
        "Every other session of this account has ended, and its API tokens are revoked."
        in organizer.get("/auth/account").text
    )
    assert organizer.get("/organizer/").status_code == 200  # this browser stays logged in
    assert other_browser.get("/organizer/").headers["Location"].startswith("/auth/login")
    assert log_in(app.test_client(), "org@example.org", NEW_PASSWORD).status_code == 302
    [entry] = audit_entries(app, "account.password_changed")
    assert entry.actor == "org@example.org" and entry.after == {"account": "org@example.org"}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"current_password": "wrong password"}, "current_password", "The current password is not right."),
        ({"new_password": "short", "confirm_password": "short"}, "new_password", "Between 12 and 1,024 characters"),
        ({"confirm_password": "something else"}, "confirm_password", "The two new passwords differ."),
        ({"new_password": PASSWORD, "confirm_password": PASSWORD}, "new_password", "the same as the current one"),
    ],
)
def test_a_wrong_own_password_change_explains_itself(app, organizer, data, field, message):
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD} | data
    response = organizer.post("/auth/account", data=form)
    assert response.status_code == 200
    assert message in response.text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert log_in(app.test_client(), "org@example.org").status_code == 302  # unchanged


@pytest.mark.parametrize(
    ("role", "landing"), [("admin", "/organizer/"), ("organizer", "/organizer/"), ("checkin", "/checkin/")]
)
def test_login_lands_where_the_role_can_work(app, make_organizer, role, landing):
    make_organizer("someone@example.org", PASSWORD, role=role)
    client = app.test_client()
    assert log_in(client, "someone@example.org").headers["Location"] == landing
    assert client.get("/auth/login").headers["Location"] == landing  # already logged in
    page = client.get("/auth/account").text
    assert ("Go to the check-in desk" in page) == (role == "checkin")


def test_login_still_follows_next(app, make_organizer):
    make_organizer("desk@example.org", PASSWORD, role="checkin")
    response = app.test_client().post(
        "/auth/login?next=/auth/account%3Fx%3D1", data={"email": "desk@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/auth/account?x=1"


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("admin", ["Organizer pages", "Accounts", "Audit log", "My account", "Log out"], []),
        ("organizer", ["Organizer pages", "My account", "Log out"], ["Accounts", "Audit log"]),
        ("checkin", ["My account", "Log out"], ["Organizer pages", "Accounts", "Audit log"]),
    ],
)
def test_the_header_offers_what_the_role_may_open(app, make_organizer, role, shown, hidden):
    make_organizer("someone@example.org", PASSWORD, role=role)
    client = app.test_client()
    log_in(client, "someone@example.org")
    header = client.get("/auth/account").text.split("<header", 1)[1].split("</header>", 1)[0]
    for label in shown:
        assert f">{label}</" in header, label
    for label in hidden:
        assert f">{label}</" not in header, label


def test_the_audit_log_shows_entries_newest_first_and_filters(app, admin, make_event, make_organizer):
    make_organizer("org@example.org", PASSWORD, role="organizer")
    org = app.test_client()
    log_in(org, "org@example.org")
    ceremony = make_event(title="Ceremony <script>alert(1)</script>")
    other = make_event(title="Other Event")
    org_id = account_id(app, "org@example.org")
    admin.post(f"/admin/accounts/{org_id}/events", data={"assign-events": [str(ceremony.id)]})
    org.post(
        f"/organizer/events/{ceremony.slug}/settings",
        data={
            "title": "Renamed <b>Ceremony</b>",
            "venue": "Great Hall",
            "city": "Beijing",
            "timezone": "Asia/Shanghai",
            "starts_at": "2027-03-01T10:00",
            "ends_at": "2027-03-01T13:00",
            "contact_email": "office@example.org",
            "public_min_country_count": "1",
        },
    )

    page = admin.get("/admin/audit")
    assert page.status_code == 200
    actions = re.findall(r'data-action="([a-z_.]+)"', page.text)
    assert actions[:2] == ["event.updated", "event.organizer_added"]
    assert "event.created" in actions and "account.created" in actions
    assert "Renamed &lt;b&gt;Ceremony&lt;/b&gt;" in page.text and "<b>Ceremony</b>" not in page.text
    assert "Ceremony &lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d</time>', page.text
    )
    # Keys are named for people, recorded times written as dates in the event's zone: "1 Mar 2027, 10:00:00
    # UTC+08:00" (stored as 02:00 UTC), not ISO.
    assert "<dt>Title of the event</dt>" in page.text and "<dt>title</dt>" not in page.text
    assert "1 Mar 2027, 10:00:00 UTC+08:00" in page.text and "2027-03-01T02:00:00+00:00" not in page.text

    by_event = admin.get("/admin/audit", query_string={"event": ceremony.slug}).text
    assert set(re.findall(r'data-action="([a-z_.]+)"', by_event)) == {
        "event.created",
        "event.organizer_added",
        "event.updated",
    }
    assert f'<option value="{ceremony.slug}" selected>' in by_event
    by_other = admin.get("/admin/audit", query_string={"event": other.slug}).text
    assert re.findall(r'data-action="([a-z_.]+)"', by_other) == ["event.created"]
    by_organizer = admin.get("/admin/audit", query_string={"organizer": org_id}).text
    assert re.findall(r'data-action="([a-z_.]+)"', by_organizer) == ["event.updated"]
    both = admin.get("/admin/audit", query_string={"organizer": org_id, "event": other.slug}).text
    assert "No entries." in both


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"event": "no-such-event"}, "There is no event no-such-event; showing every event."),
        ({"event": "<b>x</b>"}, "There is no event &lt;b&gt;x&lt;/b&gt;"),
        ({"organizer": "abc"}, "There is no organizer abc; showing everyone."),
        ({"organizer": "99999999999999999999999"}, "There is no organizer 99999999999999999999999"),
        ({"organizer": "2147483648"}, "There is no organizer 2147483648"),  # beyond PostgreSQL's INTEGER
        ({"organizer": "0"}, "There is no organizer 0"),
        ({"page": "abc"}, None),
    ],
)
def test_the_audit_log_explains_filters_it_cannot_apply(admin, query, message):
    response = admin.get("/admin/audit", query_string=query)
    assert response.status_code == 200
    if message:
        assert message in response.text


def test_the_audit_log_is_paginated(app, admin):
    with app.app_context():
        from eventreg import audit

        for number in range(PER_PAGE + 5):
            audit.record("test.entry", after={"number": number})
        db.session.commit()
    first = admin.get("/admin/audit")
    assert "number" in first.text and "Page 1 of 2" in first.text
    assert 'href="/admin/audit?page=2" rel="next"' in first.text
    assert admin.get("/admin/audit?page=2").status_code == 200
    # Past the end, or a number no page has (clamped by eventreg/pagination.py): the last page, never a 500.
    for page in ("3", "99999999999999999999999", "-7", "x"):
        response = admin.get(f"/admin/audit?page={page}")
        assert response.status_code in (200, 302), page
        if response.status_code == 302:
            assert response.headers["Location"] == "/admin/audit?page=2"


def test_organizers_and_checkin_staff_cannot_open_the_admin_pages(app, organizer, make_organizer):
    for path in ("/admin/accounts", "/admin/accounts/new", "/admin/audit"):
        assert organizer.get(path).status_code == 403
    assert (
        organizer.post(
            f"/admin/accounts/{account_id(app, 'org@example.org')}/role", data={"role-role": "admin"}
        ).status_code
        == 403
    )
    assert account(app, "org@example.org").role == "organizer"


@pytest.mark.browser
def test_the_admin_pages_work_in_a_real_browser_without_accessibility_findings(live_server, browser_page):
    from eventreg.auth.services import create_organizer
    from tests.conftest import create_test_event
    from tests.test_accessibility import violations

    app, base_url = live_server  # CSRF on, as in production
    page = browser_page
    event = create_test_event(app, title="Inaugural Ceremony")
    with app.app_context():
        create_organizer("admin@example.org", PASSWORD, role="admin")
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email", exact=True).fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()

    page.get_by_role("link", name="Accounts").click()
    found = {"accounts": violations(page)}
    page.get_by_role("link", name="Add an account").click()
    page.get_by_label("Email", exact=True).fill("org@example.org")
    page.get_by_label("Role", exact=True).select_option("organizer")
    page.get_by_label("First password", exact=True).fill(PASSWORD)
    page.get_by_label("First password, again", exact=True).fill("something else")
    page.get_by_role("button", name="Add account").click()
    found["new account with errors"] = violations(page)
    page.get_by_label("First password", exact=True).fill(PASSWORD)
    page.get_by_label("First password, again", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Add account").click()
    assert "has been added" in page.locator(".flash").inner_text()
    page.get_by_label(event.title, exact=True).check()
    page.get_by_role("button", name="Save events").click()
    assert "1 added" in page.locator(".flash").inner_text()
    found["account"] = violations(page)
    page.get_by_role("link", name="Audit log").first.click()
    assert page.locator("[data-action='event.organizer_added']").count() == 1
    found["audit log"] = violations(page)
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, make_organizer, monkeypatch):
    import threading
    import time

    from eventreg import audit

    record = audit.record

    def slow_record(*args, **kwargs):
        time.sleep(0.3)  # hold the locks a while, so the other demotion surely arrives meanwhile
        return record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", slow_record)
    make_organizer("a@example.org", PASSWORD, role="admin")
    make_organizer("b@example.org", PASSWORD, role="admin")
    ids = [account_id(app, "a@example.org"), account_id(app, "b@example.org")]
    barrier, outcomes = threading.Barrier(2), []

    def demote(organizer_id):
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append(admin_services.change_role(organizer_id, "organizer"))
            except AccountError:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=demote, args=(organizer_id,)) for organizer_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes, key=str) == [True, "refused"]
    roles = sorted(account(app, email).role for email in ("a@example.org", "b@example.org"))
    assert roles == ["admin", "organizer"]
