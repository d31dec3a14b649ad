"""What organizers do to registrations: edit, cancel, approve, reject, alone and in bulk; audit entries and mails."""

import email
import email.policy
import re

import pytest
from sqlalchemy import select

from eventreg import stats
from eventreg.attendees.services import StatusAction, apply_bulk_action, change_status
from eventreg.extensions import db
from eventreg.mail.worker import deliver_due
from eventreg.models import AuditEntry, Event, OutboxMessage, Registration
from tests.conftest import create_test_event, drop_tables, make_app, register_test_delegate


def url(event, registration_id=None, suffix=""):
    base = f"/organizer/events/{event.slug}/registrations"
    if registration_id is not None:
        base += f"/{registration_id}"
    return base + suffix


def load(app, registration_id) -> Registration:
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        db.session.expunge(registration)
        return registration


def audit_entries(app, registration_id) -> list[tuple[str, str, dict, dict]]:
    """The registration's audit entries after the delegate's "registration.created" (tests/test_registration.py
    checks that one), oldest first."""
    with app.app_context():
        query = (
            select(AuditEntry)
            .where(AuditEntry.registration_id == registration_id, AuditEntry.action != "registration.created")
            .order_by(AuditEntry.id)
        )
        return [(e.action, e.actor, e.before, e.after) for e in db.session.scalars(query)]


def mails(app, registration_id) -> list[tuple[str, str]]:
    """(kind, recipient) of every mail queued for the registration, oldest first."""
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.registration_id == registration_id).order_by(OutboxMessage.id)
        return [(m.kind, m.recipient) for m in db.session.scalars(query)]


def edit_form(registration: Registration, **changes) -> dict:
    """The edit form as the browser sends it, with the registration's values and `changes`."""
    data = {
        "honorific": registration.honorific,
        "given_name": registration.given_name,
        "family_name": registration.family_name,
        "native_name": registration.native_name,
        "email": registration.email,
        "institution": registration.institution,
        "position": registration.position,
        "country": registration.country,
        "category": registration.category,
        "accompanying": str(registration.accompanying),
        "dietary": registration.dietary,
        "accessibility": registration.accessibility,
    }
    if registration.visa_letter:
        data["visa_letter"] = "y"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def flashes(response) -> list[str]:
    return re.findall(r'class="flash flash-\w+" role="status">([^<]*)<', response.text)


# ---- edit


def test_edit_saves_every_field_with_an_audit_entry_and_a_mail(app, logged_in, make_event, make_registration):
    event = make_event()
    registration_id, _ = make_registration(event)
    before = load(app, registration_id)
    response = logged_in.post(
        url(event, registration_id, "/edit"),
        data=edit_form(
            before,
            given_name="Irina",
            family_name="Petrova",
            native_name="Ирина Петрова",
            email="Irina.Petrova@example.org",
            institution="Russian Academy of Sciences",
            country="RU",
            category="speaker",
            accompanying="1",
            dietary="Vegetarian",
            visa_letter="y",
        ),
        follow_redirects=True,
    )
    assert flashes(response) == ["The registration is saved."]
    after = load(app, registration_id)
    assert (after.display_name, after.email, after.country, after.accompanying, after.visa_letter) == (
        "Prof. Irina Petrova",
        "Irina.Petrova@example.org",
        "RU",
        1,
        True,
    )
    assert after.name_key == "petrova irina ирина петрова"  # the search key follows
    [(action, actor, old, new)] = audit_entries(app, registration_id)
    assert (action, actor) == ("registration.edited", "admin@example.org")
    assert old == {
        "given_name": "Chunli",
        "family_name": "Bai",
        "native_name": "白春礼",
        "email": "chunli.bai@example.org",
        "institution": "Chinese Academy of Sciences",
        "country": "CN",
        "category": "delegate",
        "accompanying": 0,
        "dietary": "",
        "visa_letter": False,
    }
    assert new["email"] == "Irina.Petrova@example.org" and new["accompanying"] == 1 and set(new) == set(old)
    # The "changed" mail lists the changes at the new address; the old one only hears that the address changed.
    assert mails(app, registration_id) == [
        ("confirmation", "chunli.bai@example.org"),
        ("changed", "Irina.Petrova@example.org"),
        ("address_changed", "chunli.bai@example.org"),
    ]


def test_an_edit_that_changes_nothing_writes_nothing(app, logged_in, make_event, make_registration):
    event = make_event()
    registration_id, _ = make_registration(event)
    response = logged_in.post(url(event, registration_id, "/edit"), data=edit_form(load(app, registration_id)))
    assert response.status_code == 302
    assert flashes(logged_in.get(response.location)) == ["Nothing was changed."]
    assert audit_entries(app, registration_id) == []
    assert mails(app, registration_id) == [("confirmation", "chunli.bai@example.org")]  # only the first one


@pytest.mark.parametrize("taken", ["other@example.org", "OTHER@example.org", "ｏｔｈｅｒ＠example.org"])
def test_edit_refuses_an_email_another_active_registration_holds(app, logged_in, make_event, make_registration, taken):
    event = make_event()
    registration_id, _ = make_registration(event)
    make_registration(event, email="other@example.org")
    response = logged_in.post(
        url(event, registration_id, "/edit"), data=edit_form(load(app, registration_id), email=taken)
    )
    assert response.status_code == 200
    assert "Another active registration for this event already uses this email address." in response.text
    assert load(app, registration_id).email == "chunli.bai@example.org"
    assert audit_entries(app, registration_id) == []


def test_edit_may_take_the_email_of_a_cancelled_registration(app, logged_in, make_event, make_registration):
    event = make_event()
    registration_id, _ = make_registration(event)
    other_id, _ = make_registration(event, email="other@example.org")
    logged_in.post(url(event, other_id, "/cancel"))
    response = logged_in.post(
        url(event, registration_id, "/edit"), data=edit_form(load(app, registration_id), email="other@example.org")
    )
    assert response.status_code == 302
    assert load(app, registration_id).email == "other@example.org"


def test_edit_refuses_accompanying_persons_beyond_the_free_seats(app, logged_in, make_event, make_registration):
    event = make_event(capacity=4)
    registration_id, _ = make_registration(event, accompanying=1)  # 2 seats
    make_registration(event, email="other@example.org")  # 1 seat: one left
    form = edit_form(load(app, registration_id), accompanying="3")
    response = logged_in.post(url(event, registration_id, "/edit"), data=form)
    assert response.status_code == 200
    assert "Only 1 seat is left, so 2 more accompanying persons do not fit." in response.text
    assert load(app, registration_id).accompanying == 1
    response = logged_in.post(url(event, registration_id, "/edit"), data={**form, "accompanying": "2"})
    assert response.status_code == 302
    with app.app_context():
        assert stats.seats_taken(event.id) == 4


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("given_name", "", "Please fill in this field."),
        ("email", "not-an-address", "An email address needs an @ sign, as in name@example.org."),
        ("accompanying", "9", "Please give a number from 0 to 5."),
        ("country", "XX", "Not a valid choice."),
        ("institution", "CAS\u202e", "Please remove the invisible text-direction characters."),
    ],
)
def test_edit_applies_the_registration_forms_rules(
    app, logged_in, make_event, make_registration, field, value, message
):
    event = make_event()
    registration_id, _ = make_registration(event)
    form = edit_form(load(app, registration_id), **{field: value})
    response = logged_in.post(url(event, registration_id, "/edit"), data=form)
    assert response.status_code == 200 and message in response.text
    assert audit_entries(app, registration_id) == []


# ---- cancel, approve, reject


def test_cancel_asks_first_then_frees_the_seats_and_tells_the_delegate(app, logged_in, make_event, make_registration):
    event = make_event(capacity=10)
    registration_id, _ = make_registration(event, accompanying=2)
    page = logged_in.get(url(event, registration_id, "/cancel"))
    assert "Cancel the registration of Prof. Chunli Bai?" in page.text
    assert "Their 3 seats are freed" in page.text
    assert load(app, registration_id).status == "confirmed"  # asking changed nothing

    response = logged_in.post(url(event, registration_id, "/cancel"), follow_redirects=True)
    assert flashes(response) == ["The registration is cancelled; the delegate will get an email."]
    assert load(app, registration_id).status == "cancelled"
    with app.app_context():
        assert stats.seats_taken(event.id) == 0
    assert audit_entries(app, registration_id) == [
        ("registration.cancelled", "admin@example.org", {"status": "confirmed"}, {"status": "cancelled"})
    ]
    assert mails(app, registration_id)[-1] == ("cancelled", "chunli.bai@example.org")

    again = logged_in.post(url(event, registration_id, "/cancel"), follow_redirects=True)
    assert flashes(again) == ["This registration is already cancelled or rejected."]
    assert len(audit_entries(app, registration_id)) == 1


@pytest.mark.parametrize(
    ("action", "status", "mail"), [("approve", "confirmed", "approved"), ("reject", "rejected", "rejected")]
)
def test_approve_and_reject_a_pending_registration(app, logged_in, make_event, make_registration, action, status, mail):
    event = make_event(requires_approval=True, capacity=10)
    registration_id, _ = make_registration(event)
    assert load(app, registration_id).status == "pending"
    response = logged_in.post(url(event, registration_id, f"/{action}"), follow_redirects=True)
    assert flashes(response) == [
        f"The registration is {status if action == 'reject' else 'approved'}; the delegate will get an email."
    ]
    assert load(app, registration_id).status == status
    assert audit_entries(app, registration_id) == [
        (f"registration.{mail}", "admin@example.org", {"status": "pending"}, {"status": status})
    ]
    assert mails(app, registration_id)[-1] == (mail, "chunli.bai@example.org")
    with app.app_context():
        assert stats.seats_taken(event.id) == (1 if status == "confirmed" else 0)
    # Only once: the registration is no longer pending.
    again = logged_in.post(url(event, registration_id, f"/{action}"), follow_redirects=True)
    assert flashes(again) == ["Only a registration that is pending approval can be approved or rejected."]


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_approve_and_reject_need_an_event_that_needs_approval(app, logged_in, make_event, make_registration, action):
    event = make_event()
    registration_id, _ = make_registration(event)
    page = logged_in.get(url(event, registration_id)).text
    assert f"/{action}" not in page  # no button
    response = logged_in.post(url(event, registration_id, f"/{action}"), follow_redirects=True)
    assert flashes(response) == [
        "This event does not need approval: its registrations are confirmed when they are made."
    ]
    assert load(app, registration_id).status == "confirmed"
    assert mails(app, registration_id) == [("confirmation", "chunli.bai@example.org")]


def test_actions_are_posts_with_a_csrf_token(tmp_path, make_organizer):
    app = make_app(tmp_path / "csrf", WTF_CSRF_ENABLED=True)
    try:
        event = create_test_event(app, requires_approval=True)
        registration_id, _ = register_test_delegate(app, event)
        client = app.test_client()
        with app.app_context():
            from eventreg.auth.services import create_organizer

            create_organizer("admin@example.org", "correct horse battery", "admin")
        login = client.get("/auth/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        client.post(
            "/auth/login", data={"email": "admin@example.org", "password": "correct horse battery", "csrf_token": token}
        )
        assert client.get(url(event, registration_id, "/approve")).status_code == 405
        assert client.post(url(event, registration_id, "/approve")).status_code == 400
        assert (
            client.post(url(event, suffix="/bulk"), data={"ids": [registration_id], "action": "approve"}).status_code
            == 400
        )
        with app.app_context():
            assert db.session.get(Registration, registration_id).status == "pending"
        page = client.get(url(event, registration_id)).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post(url(event, registration_id, "/approve"), data={"csrf_token": token}).status_code == 302
        with app.app_context():
            assert db.session.get(Registration, registration_id).status == "confirmed"
    finally:
        drop_tables(app)


def test_a_registration_of_another_event_is_not_found(app, logged_in, make_event, make_registration):
    event, other = make_event(), make_event(title="Other Ceremony")
    registration_id, _ = make_registration(other)
    for path in ("", "/edit", "/cancel"):
        assert logged_in.get(url(event, registration_id, path)).status_code == 404
    assert logged_in.post(url(event, registration_id, "/cancel")).status_code == 404
    assert logged_in.get(url(event, 999999)).status_code == 404
    assert logged_in.get(url(event, 99999999999999999999)).status_code == 404
    assert load(app, registration_id).status == "confirmed"


# ---- bulk


@pytest.fixture
def mixed(app, make_event, make_registration):
    """An event needing approval: three pending registrations, one confirmed, one cancelled."""
    event = make_event(requires_approval=True, capacity=100)
    ids = [make_registration(event, email=f"p{n}@example.org", country="FR")[0] for n in range(3)]
    confirmed, _ = make_registration(event, email="confirmed@example.org", country="FR")
    cancelled, _ = make_registration(event, email="cancelled@example.org", country="FR")
    with app.app_context():
        db.session.get(Registration, confirmed).status = "confirmed"
        db.session.get(Registration, cancelled).status = "cancelled"
        db.session.commit()
    return event, ids, confirmed, cancelled


def test_bulk_approve_with_a_mix_reports_what_it_did_and_goes_back(app, logged_in, mixed):
    event, pending, confirmed, _ = mixed
    data = {"ids": [*pending, confirmed], "action": "approve", "country": "FR", "sort": "name", "page": "1"}
    response = logged_in.post(url(event, suffix="/bulk"), data=data)
    assert response.status_code == 302
    assert response.location == f"{url(event)}?country=FR&sort=name"  # page 1 is the default
    assert flashes(logged_in.get(response.location)) == ["3 approved and 1 skipped (not pending)"]
    assert [load(app, rid).status for rid in pending] == ["confirmed"] * 3
    for rid in pending:
        assert audit_entries(app, rid) == [
            ("registration.approved", "admin@example.org", {"status": "pending"}, {"status": "confirmed"})
        ]
        assert mails(app, rid)[-1][0] == "approved"
    assert audit_entries(app, confirmed) == []


def test_bulk_reject_skips_every_kind_of_misfit(app, logged_in, mixed, make_event, make_registration):
    event, pending, confirmed, cancelled = mixed
    elsewhere, _ = make_registration(make_event(title="Other"), email="elsewhere@example.org")
    data = {"ids": [pending[0], confirmed, cancelled, elsewhere], "action": "reject"}
    response = logged_in.post(url(event, suffix="/bulk"), data=data, follow_redirects=True)
    assert flashes(response) == ["1 rejected, 1 skipped (not in this event), and 2 skipped (not pending)"]
    assert load(app, elsewhere).status == "confirmed"


def test_bulk_cancel_asks_first(app, logged_in, mixed):
    event, pending, confirmed, cancelled = mixed
    data = {"ids": [pending[0], confirmed, cancelled], "action": "cancel", "status": "", "country": "FR", "page": "1"}
    page = logged_in.post(url(event, suffix="/bulk"), data=data)
    assert page.status_code == 200 and "Cancel 3 registrations?" in page.text
    assert "confirmed@example.org" in page.text
    assert [load(app, rid).status for rid in (pending[0], confirmed)] == ["pending", "confirmed"]

    response = logged_in.post(url(event, suffix="/bulk"), data={**data, "confirmed": "yes"})
    assert response.status_code == 302 and "country=FR" in response.location
    assert flashes(logged_in.get(response.location)) == ["2 cancelled and 1 skipped (already cancelled or rejected)"]
    assert [load(app, rid).status for rid in (pending[0], confirmed)] == ["cancelled", "cancelled"]
    assert mails(app, confirmed)[-1][0] == "cancelled"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "approve"}, "Please tick at least one registration."),
        ({"ids": ["abc"], "action": "approve"}, "The ticked rows were not understood."),
        ({"ids": ["1", "99999999999999999999"], "action": "approve"}, "The ticked rows were not understood."),
        ({"ids": ["1"], "action": "destroy"}, "Not a valid choice."),
    ],
)
def test_bulk_with_bad_input_says_why(logged_in, mixed, data, message):
    event = mixed[0]
    response = logged_in.post(url(event, suffix="/bulk"), data={**data, "q": "p1", "page": "²"}, follow_redirects=True)
    assert response.status_code == 200
    assert any(message in text for text in flashes(response))
    assert 'value="p1"' in response.text  # back on the same filtered list


def test_bulk_redirect_stays_within_the_pages_that_remain(app, logged_in, mixed):
    app.config["REGISTRATIONS_PER_PAGE"] = 2
    event, pending, _, _ = mixed
    data = {"ids": pending, "action": "approve", "status": "pending", "sort": "date", "page": "2"}
    response = logged_in.post(url(event, suffix="/bulk"), data=data)
    assert "status=pending" in response.location and "page=" not in response.location
    assert logged_in.get(response.location).status_code == 200


def test_a_bulk_action_is_one_transaction(app, mixed, monkeypatch):
    event, pending, _, _ = mixed
    calls = []

    def failing_change(event, registration, action, **options):
        calls.append(registration.id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        change_status(event, registration, action, **options)

    monkeypatch.setattr("eventreg.attendees.services.change_status", failing_change)
    with app.app_context(), pytest.raises(RuntimeError):
        apply_bulk_action(event.id, pending, StatusAction.APPROVE)
    assert [load(app, rid).status for rid in pending] == ["pending"] * 3  # the first one was rolled back too
    with app.app_context():
        approvals = select(AuditEntry.id).where(AuditEntry.action == "registration.approved")
        assert db.session.scalar(approvals.where(AuditEntry.registration_id.in_(pending))) is None
        assert db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "approved")) is None


# ---- the detail page and the mail that arrives


def test_the_detail_page_shows_every_field_and_the_history(app, logged_in, make_event, make_registration):
    event = make_event(requires_approval=True)
    registration_id, _ = make_registration(
        event, language="en", dietary="Halal", accessibility="Wheelchair", position="President", visa_letter=True
    )
    logged_in.post(url(event, registration_id, "/edit"), data=edit_form(load(app, registration_id), institution="CAS"))
    logged_in.post(url(event, registration_id, "/approve"))
    page = logged_in.get(url(event, registration_id)).text
    details = page.split('id="registration-details"', 1)[1].split("</dl>", 1)[0]
    for text in (
        "Prof.",
        "Chunli",
        "Bai",
        "白春礼",
        "chunli.bai@example.org",
        "CAS",
        "President",
        "China",
        "Delegate",
        "Halal",
        "Wheelchair",
        "Requested",
        "Confirmed",
    ):
        assert text in details
    history = page.split('id="history"', 1)[1].split("</ol>", 1)[0]
    titles = re.findall(r"<strong>([^<]+)</strong>", history)
    assert titles == [
        "Registered",  # once: the delegate's registration.created entry is this item
        "Confirmation",
        "Registration edited",
        "Changes",
        "Registration approved",
        "Approval",
    ]
    assert "in language English" in history  # the language's own name
    assert "by admin@example.org" in history
    assert "Institution: <bdi>Chinese Academy of Sciences</bdi> → <bdi>CAS</bdi>" in history
    assert "Status: Pending approval → Confirmed" in history
    assert "Queued" in history and "Attempts" in history


def test_an_approval_reaches_the_delegate_through_the_worker(smtp_app, smtp_server):
    app = smtp_app
    event = create_test_event(app, requires_approval=True, title="Académie Inauguration")
    registration_id, token = register_test_delegate(app, event, given_name="Ирина", family_name="Петрова")
    with app.app_context():
        change = apply_bulk_action(event.id, [registration_id], StatusAction.APPROVE)
        assert change.done == 1
        report = deliver_due()
        assert (report.sent, report.deferred) == (2, 0)
        sent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.kind, m.state) for m in sent] == [("confirmation", "sent"), ("approved", "sent")]
        assert db.session.get(Event, event.id).title == "Académie Inauguration"
    approval = email.message_from_bytes(smtp_server.envelopes[1].content, policy=email.policy.default)
    assert approval["Subject"] == "Your registration is approved: Académie Inauguration"
    text = approval.get_body(("plain",)).get_content()
    assert "Dear Prof. Ирина Петрова," in text
    assert "approved your registration for Académie Inauguration" in text
    assert "Great Hall, Beijing" in text
    assert f"https://register.example.org/r/{token}" in text
    html = approval.get_body(("html",)).get_content()
    assert f'href="https://register.example.org/r/{token}"' in html


@pytest.mark.parametrize("kind", ["rejected", "cancelled"])
def test_rejection_and_cancellation_mails_render(app, make_event, make_registration, kind):
    from eventreg.mail.compose import compose

    event = make_event(requires_approval=True)
    registration_id, token = make_registration(event)
    with app.app_context():
        apply_bulk_action(
            event.id, [registration_id], StatusAction.REJECT if kind == "rejected" else StatusAction.CANCEL
        )
        message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).one()
        composed = compose(message)
    assert composed.subject.startswith(
        "Your registration is cancelled" if kind == "cancelled" else "Your registration was not accepted"
    )
    assert "Inaugural Ceremony" in composed.body and "Great Hall, Beijing" in composed.body
    assert (token in composed.body) is (kind == "cancelled")
