"""What a delegate does through the private link: see the registration, change the details, cancel; the mails."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.models import AuditEntry, Event, OutboxMessage, Registration, utcnow
from tests.conftest import create_test_event, drop_tables, make_app, private_token, register_test_delegate
from tests.test_csrf import token_from
from tests.test_registration_actions import audit_entries, edit_form, flashes, load, mails
from tests.test_visa_data import visa_form


def own_form(registration: Registration, **changes) -> dict:
    """The delegate's edit form as the browser sends it (no email field), with `changes`."""
    data = edit_form(registration, **changes)
    if "email" not in changes:
        del data["email"]
    return data


def set_status(app, registration_id, status):
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.id == registration_id).values(status=status))
        db.session.commit()


def composed(app, registration_id, kind) -> list:
    """The rendered mails of `kind` queued for the registration, oldest first."""
    with app.app_context():
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.registration_id == registration_id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
        return [compose(message) for message in db.session.scalars(query)]


# ---- the private page


@pytest.mark.parametrize(
    ("status", "offered"),
    [("confirmed", True), ("pending", True), ("waitlisted", True), ("cancelled", False), ("rejected", False)],
)
def test_the_private_page_offers_changes_while_the_registration_is_active(
    app, client, make_event, make_registration, status, offered
):
    event = make_event()
    registration_id, token = make_registration(event)
    set_status(app, registration_id, status)
    page = client.get(f"/r/{token}").text
    assert (f'href="/r/{token}/edit"' in page) is offered
    assert (f'href="/r/{token}/cancel"' in page) is offered
    assert (f'action="/r/{token}/email"' in page) is offered


def test_a_waitlisted_delegate_sees_their_place(app, client, make_event, make_registration):
    event = make_event(capacity=1)
    make_registration(event, email="first@example.org")
    make_registration(event, email="second@example.org")
    registration_id, token = make_registration(event, email="third@example.org")
    assert load(app, registration_id).status == "waitlisted"
    page = client.get(f"/r/{token}").text
    assert "You are on the waiting list." in page
    assert "You are number 2 on the waiting list." in page


@pytest.mark.parametrize("suffix", ["", "/edit", "/cancel", "/email"])
def test_an_unknown_private_link_is_a_404(client, suffix):
    assert client.get(f"/r/{'x' * 43}{suffix}").status_code == 404


def test_private_pages_are_not_cached_or_indexed(app, client, make_event, make_registration):
    event = make_event()
    _, token = make_registration(event)
    for suffix in ("", "/edit", "/cancel", "/email"):
        response = client.get(f"/r/{token}{suffix}")
        assert response.status_code == 200, suffix
        assert response.headers["Cache-Control"] == "no-store", suffix
        assert "noindex" in response.headers["X-Robots-Tag"], suffix


def test_what_the_delegate_typed_is_escaped_everywhere(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event, institution="<script>alert(1)</script>")
    for suffix in ("", "/edit", "/cancel"):
        page = client.get(f"/r/{token}{suffix}").text
        assert "<script>alert(1)</script>" not in page
    page = client.get(f"/r/{token}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    client.post(f"/r/{token}/edit", data=own_form(load(app, registration_id), position="<b>Chair</b>"))
    [mail] = composed(app, registration_id, "changed")
    assert "<b>Chair</b>" not in mail.html and "&lt;b&gt;Chair&lt;/b&gt;" in mail.html
    assert "<b>Chair</b>" in mail.body  # the plain-text part shows it as typed


# ---- edit


def test_the_delegate_edits_their_details_and_gets_a_mail_listing_the_changes(
    app, client, make_event, make_registration
):
    event = make_event()
    registration_id, token = make_registration(event, dietary="Halal")
    form = own_form(
        load(app, registration_id),
        given_name="Irina",
        native_name="Ирина",
        country="RU",
        category="observer",
        accompanying="1",
        dietary="Vegetarian",
        honorific="",
        **{key: value for key, value in visa_form(event).items() if key.startswith("visa")},
    )
    response = client.post(f"/r/{token}/edit", data=form, follow_redirects=True)
    assert flashes(response) == ["Your changes are saved. We have sent you an email that lists them."]
    after = load(app, registration_id)
    assert (after.given_name, after.native_name, after.country, after.category) == ("Irina", "Ирина", "RU", "observer")
    assert (after.accompanying, after.dietary, after.visa_letter, after.honorific) == (1, "Vegetarian", True, "")
    assert after.email == "chunli.bai@example.org"
    [(action, actor, old, new)] = audit_entries(app, registration_id)
    assert (action, actor) == ("registration.edited", "delegate")
    assert old["given_name"] == "Chunli" and new["given_name"] == "Irina" and "email" not in new
    assert mails(app, registration_id) == [
        ("confirmation", "chunli.bai@example.org"),
        ("changed", "chunli.bai@example.org"),
    ]
    [mail] = composed(app, registration_id, "changed")
    assert mail.subject == "Your registration was updated: Inaugural Ceremony"
    assert "Your registration for Inaugural Ceremony has been changed:" in mail.body
    text = re.sub(r"\s+", " ", mail.body)
    for line in (
        "Given name: before: Chunli now: Irina",
        "Name in own script: before: 白春礼 now: Ирина",
        "Country or region: before: China now: Russia",
        "Category: before: Delegate now: Observer",
        "Accompanying persons: before: 0 now: 1",
        "Dietary requirements: before: Halal now: Vegetarian",  # the delegate may read their own needs
        "Visa letter: before: Not needed now: Requested",
        "Title: before: Prof. now: (none)",
    ):
        assert line in text
    assert "Institution" not in text  # unchanged fields are not listed
    assert f"http://localhost/r/{token}" in mail.body
    assert "<th" in mail.html and "Ирина" in mail.html and f'href="http://localhost/r/{token}"' in mail.html


def test_the_email_cannot_be_changed_by_the_edit_form(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    form = own_form(load(app, registration_id), email="someone.else@example.org", institution="CAS")
    assert client.post(f"/r/{token}/edit", data=form).status_code == 302
    after = load(app, registration_id)
    assert (after.email, after.institution) == ("chunli.bai@example.org", "CAS")


def test_an_edit_that_changes_nothing_sends_nothing(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    response = client.post(f"/r/{token}/edit", data=own_form(load(app, registration_id)), follow_redirects=True)
    assert flashes(response) == ["Nothing was changed."]
    assert audit_entries(app, registration_id) == []
    assert mails(app, registration_id) == [("confirmation", "chunli.bai@example.org")]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("given_name", "", "Please fill in this field."),
        ("given_name", "123", "Please write at least one letter."),
        ("institution", "CAS\u202e", "Please remove the invisible text-direction characters."),
        ("family_name", "Bai\nEvil", "Please use a single line without control characters."),
        ("accompanying", "9", "Please give a number from 0 to 5."),
        ("accompanying", "-1", "Please give a number from 0 to 5."),
        ("accompanying", "two", "Please give a number from 0 to 5."),
        ("country", "XX", "Not a valid choice."),
        ("category", "king", "Please choose one of the categories offered."),
        ("dietary", "x" * 501, "At most 500 characters, please."),
    ],
)
def test_the_edit_applies_the_registration_forms_rules(
    app, client, make_event, make_registration, field, value, message
):
    event = make_event()
    registration_id, token = make_registration(event)
    response = client.post(f"/r/{token}/edit", data=own_form(load(app, registration_id), **{field: value}))
    assert response.status_code == 200 and message in response.text
    assert audit_entries(app, registration_id) == []
    assert load(app, registration_id).given_name == "Chunli"


def test_more_accompanying_persons_than_free_seats_are_refused(app, client, make_event, make_registration):
    event = make_event(capacity=4)
    registration_id, token = make_registration(event, accompanying=1)  # 2 seats
    make_registration(event, email="other@example.org")  # 1 seat: one left
    form = own_form(load(app, registration_id), accompanying="3")
    response = client.post(f"/r/{token}/edit", data=form)
    assert response.status_code == 200
    assert "Only 1 seat is left, so 2 more accompanying persons do not fit." in response.text
    assert load(app, registration_id).accompanying == 1
    assert client.post(f"/r/{token}/edit", data={**form, "accompanying": "2"}).status_code == 302
    with app.app_context():
        assert db.session.get(Event, event.id).seats_taken == 4
    form = own_form(load(app, registration_id), accompanying="3")
    response = client.post(f"/r/{token}/edit", data=form)
    assert "No seat is left, so you cannot add accompanying persons." in response.text


@pytest.mark.parametrize(
    ("seats_left", "more", "message"),
    [
        (0, 1, "No seat is left, so you cannot add accompanying persons."),
        (0, 3, "No seat is left, so you cannot add accompanying persons."),
        (1, 1, "Only 1 seat is left, so 1 more accompanying person does not fit."),
        (1, 2, "Only 1 seat is left, so 2 more accompanying persons do not fit."),
        (2, 3, "Only 2 seats are left, so 3 more accompanying persons do not fit."),
    ],
)
def test_the_refusal_of_more_accompanying_persons_reads_well(app, seats_left, more, message):
    from eventreg.registration.edits import not_enough_seats

    with app.test_request_context():
        refusal = not_enough_seats(seats_left, more)
    assert (refusal.message, refusal.field) == (message, "accompanying")


@pytest.mark.parametrize(("capacity", "seats"), [(1, 2), (2, 3), (3, 6)])
def test_a_group_bigger_than_the_event_is_refused_in_words(app, capacity, seats):
    from eventreg.registration.edits import group_too_big
    from eventreg.registration.services import EventFull

    with app.test_request_context():
        refusal = group_too_big(capacity, seats)
    assert isinstance(refusal, EventFull) and refusal.field == "accompanying"
    seats_word = "seat" if capacity == 1 else "seats"
    assert refusal.message.startswith(
        f"This event has {capacity} {seats_word} in all, so a group of {seats} cannot be seated."
    )


@pytest.mark.parametrize("status", ["waitlisted", "confirmed", "pending"])
def test_no_registration_grows_beyond_the_events_capacity(app, client, make_event, make_registration, status):
    """A group bigger than the whole event would wait forever: refused whatever the status."""
    event = make_event(capacity=3)
    if status == "waitlisted":
        make_registration(event, email="other@example.org", accompanying=2)  # every seat
    registration_id, token = make_registration(event)
    if status == "pending":
        set_status(app, registration_id, status)  # holds its seat, as a confirmed one does
    assert load(app, registration_id).status == status
    response = client.post(f"/r/{token}/edit", data=own_form(load(app, registration_id), accompanying="3"))
    assert response.status_code == 200
    assert "This event has 3 seats in all, so a group of 4 cannot be seated." in response.text
    assert load(app, registration_id).accompanying == 0
    response = client.post(f"/r/{token}/edit", data=own_form(load(app, registration_id), accompanying="2"))
    assert response.status_code == 302 and load(app, registration_id).accompanying == 2


def test_fewer_accompanying_persons_let_the_waiting_list_move_up(app, client, make_event, make_registration):
    event = make_event(capacity=3)
    registration_id, token = make_registration(event, accompanying=2)  # every seat
    waiting_id, _ = make_registration(event, email="waiting@example.org")
    assert load(app, waiting_id).status == "waitlisted"
    client.post(f"/r/{token}/edit", data=own_form(load(app, registration_id), accompanying="1"))
    assert load(app, waiting_id).status == "confirmed"
    assert mails(app, waiting_id)[-1] == ("promoted", "waiting@example.org")
    promoted = [entry for entry in audit_entries(app, waiting_id) if entry[0] == "registration.promoted"]
    assert [actor for _, actor, _, _ in promoted] == [""]  # the system moved them up, not this delegate


@pytest.mark.parametrize("status", ["cancelled", "rejected"])
def test_a_cancelled_or_rejected_registration_cannot_be_changed(app, client, make_event, make_registration, status):
    event = make_event()
    registration_id, token = make_registration(event)
    set_status(app, registration_id, status)
    expected = {
        "cancelled": "This registration is already cancelled.",
        "rejected": "This registration was not accepted, so it can no longer be changed.",
    }[status]
    for path in (f"/r/{token}/edit", f"/r/{token}/cancel", f"/r/{token}/email"):
        response = client.get(path, follow_redirects=True)
        assert flashes(response) == [expected], path
        assert "see and change it" not in response.text and "anyone who has it can see it." in response.text
    client.post(f"/r/{token}/edit", data=own_form(load(app, registration_id), given_name="Irina"))
    client.post(f"/r/{token}/cancel")
    client.post(f"/r/{token}/email", data={"email": "new@example.org"})
    assert (load(app, registration_id).given_name, load(app, registration_id).status) == ("Chunli", status)
    assert mails(app, registration_id) == [("confirmation", "chunli.bai@example.org")]


def test_nothing_changes_through_the_link_once_the_event_has_begun(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event)
    with app.app_context():
        db.session.execute(update(Event).values(starts_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    page = client.get(f"/r/{token}").text
    assert "The event has begun" in page and f'href="/r/{token}/edit"' not in page
    assert "see and change it" not in page and "anyone who has it can see it." in page
    client.post(f"/r/{token}/edit", data=own_form(load(app, registration_id), given_name="Irina"))
    client.post(f"/r/{token}/cancel")
    assert (load(app, registration_id).given_name, load(app, registration_id).status) == ("Chunli", "confirmed")


# ---- cancel


def test_cancel_asks_first_then_frees_the_seat_for_the_waiting_list(app, client, make_event, make_registration):
    event = make_event(capacity=1)
    registration_id, token = make_registration(event)
    waiting_id, _ = make_registration(event, email="waiting@example.org")
    page = client.get(f"/r/{token}/cancel").text
    assert "Cancel your registration for <bdi>Inaugural Ceremony</bdi>?" in page
    assert "Your 1 seat is given up" in page
    assert load(app, registration_id).status == "confirmed"  # asking changes nothing
    response = client.post(f"/r/{token}/cancel", follow_redirects=True)
    assert flashes(response) == ["Your registration is cancelled. We have sent you an email to confirm it."]
    assert "This registration has been cancelled." in response.text
    assert load(app, registration_id).status == "cancelled"
    assert mails(app, registration_id)[-1] == ("cancelled", "chunli.bai@example.org")
    assert audit_entries(app, registration_id) == [
        ("registration.cancelled", "delegate", {"status": "confirmed"}, {"status": "cancelled"})
    ]
    assert load(app, waiting_id).status == "confirmed"
    assert mails(app, waiting_id)[-1] == ("promoted", "waiting@example.org")
    [mail] = composed(app, registration_id, "cancelled")
    assert "has been cancelled" in mail.body
    again = client.post(f"/r/{token}/cancel", follow_redirects=True)  # Back, or a second tap
    assert flashes(again) == ["This registration is already cancelled."]


def test_the_delegate_is_named_even_when_an_organizer_is_logged_in_to_the_browser(
    app, logged_in, make_event, make_registration
):
    event = make_event()
    registration_id, token = make_registration(event)
    logged_in.post(f"/r/{token}/edit", data=own_form(load(app, registration_id), position="Chair"))
    logged_in.post(f"/r/{token}/cancel")
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.registration_id == registration_id)).all()
        assert [(e.action, e.actor, e.organizer_id) for e in entries] == [
            ("registration.created", "delegate", None),
            ("registration.edited", "delegate", None),
            ("registration.cancelled", "delegate", None),
        ]
    history = logged_in.get(f"/organizer/events/{event.slug}/registrations/{registration_id}").text
    assert "by admin@example.org" not in history


# ---- CSRF


def test_every_form_of_the_private_pages_needs_the_csrf_token(tmp_path):
    """As in production: each POST without the token is refused and changes nothing; with the page's token it works."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    try:
        event = create_test_event(app)
        registration_id, token = register_test_delegate(app, event)
        client = app.test_client()
        posts = {
            f"/r/{token}/edit": own_form(load(app, registration_id), position="Chair"),
            f"/r/{token}/email": {"email": "new@example.org"},
            f"/e/{event.slug}/lost-link": {"email": "chunli.bai@example.org"},
        }
        for path, data in posts.items():
            assert client.post(path, data=data).status_code == 400, path
        assert mails(app, registration_id) == [("confirmation", "chunli.bai@example.org")]
        assert load(app, registration_id).position == "President"

        for path, data in posts.items():
            page = client.get(path if "lost-link" in path or "edit" in path else f"/r/{token}").text
            response = client.post(path, data={**data, "csrf_token": token_from(page)})
            assert response.status_code == 302, path
        link = re.search(r"(/email-change\?key=[\w.-]+)", composed(app, registration_id, "email_change")[0].body)[1]
        assert client.post(link).status_code == 400
        assert client.post(f"/r/{token}/cancel").status_code == 400
        assert (load(app, registration_id).email, load(app, registration_id).status) == (
            "chunli.bai@example.org",
            "confirmed",
        )
        assert client.post(link, data={"csrf_token": token_from(client.get(link).text)}).status_code == 302
        token = private_token(app, registration_id)  # the new address has a new private link
        page = client.get(f"/r/{token}/cancel").text
        assert client.post(f"/r/{token}/cancel", data={"csrf_token": token_from(page)}).status_code == 302
        after = load(app, registration_id)
        assert (after.position, after.email, after.status) == ("Chair", "new@example.org", "cancelled")
    finally:
        drop_tables(app)


def test_an_expired_token_keeps_what_the_delegate_typed_into_the_edit_form(tmp_path):
    """A tab left open for hours: the form comes back with the typed values and a fresh token, nothing saved."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    try:
        event = create_test_event(app)
        registration_id, token = register_test_delegate(app, event)
        client = app.test_client()
        client.get(f"/r/{token}/edit")
        data = own_form(load(app, registration_id), position="Вице-президент", dietary="Halal")
        response = client.post(f"/r/{token}/edit", data={**data, "csrf_token": "expired"})
        assert response.status_code == 400
        assert "This form had expired, so nothing was saved." in response.text
        assert 'value="Вице-президент"' in response.text and "Halal</textarea>" in response.text
        assert load(app, registration_id).position == "President"
        again = client.post(f"/r/{token}/edit", data={**data, "csrf_token": token_from(response.text)})
        assert again.status_code == 302 and load(app, registration_id).position == "Вице-президент"
    finally:
        drop_tables(app)


# ---- the organizer's edit sends the same "changed" mail


def test_an_organizer_changing_the_address_tells_the_old_and_the_new_one(app, logged_in, make_event, make_registration):
    event = make_event()
    registration_id, old_token = make_registration(event, accessibility="Wheelchair")
    form = edit_form(load(app, registration_id), email="irina@example.org", accessibility="Step-free access")
    logged_in.post(f"/organizer/events/{event.slug}/registrations/{registration_id}/edit", data=form)
    assert mails(app, registration_id)[1:] == [
        ("changed", "irina@example.org"),
        ("address_changed", "chunli.bai@example.org"),
    ]
    [new] = composed(app, registration_id, "changed")
    assert "The organizers have changed your registration for Inaugural Ceremony:" in new.body
    assert "Step-free access" in new.body and "irina@example.org" in new.body
    new_token = private_token(app, registration_id)
    assert new_token != old_token and f"/r/{new_token}" in new.body
    # The old mailbox learns of the change, and gets nothing that opens the registration or tells about it.
    [old] = composed(app, registration_id, "address_changed")
    assert old.subject == "The email address of a registration was changed: Inaugural Ceremony"
    assert "have changed the email address of a registration from this address to another one" in old.body
    assert old.recipients == ["chunli.bai@example.org"]  # no name either
    for mail_text in (old.body, old.html):
        assert "/r/" not in mail_text and "irina" not in mail_text.lower()
        assert "Chunli" not in mail_text and "Bai" not in mail_text and "Wheelchair" not in mail_text
    assert not old.attachments
