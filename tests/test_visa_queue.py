"""The organizers' visa queue (visas/queue_views.py): the requests by state, issuing selected rows or every pending
request, refusing with a reason, withdrawing and downloading a letter; check-in staff are refused."""

from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import DocumentSettings, LetterState, Registration, Status, VisaApplication, VisaLetter, VisaState
from tests.conftest import create_test_event, register_test_delegate
from tests.test_visa_letters import issue, pdf_text, visa_request


def queue_url(event, state="pending") -> str:
    return f"/organizer/events/{event.slug}/visas?state={state}"


def test_the_queue_lists_requests_by_state_and_those_with_details_missing(app, logged_in):
    event = create_test_event(app, title="ANSO")
    visa_request(app, event, 1)
    visa_request(app, event, 2, complete=False)
    register_test_delegate(app, event, email="old@example.org", given_name="Olga", visa_letter=True)
    pending = logged_in.get(queue_url(event))
    assert pending.status_code == 200
    assert "BAI CHUNLI 1" in pending.text and "BAI CHUNLI 2" not in pending.text
    assert "Pending (1)" in pending.text and "Details missing (2)" in pending.text
    incomplete = logged_in.get(queue_url(event, "incomplete")).text
    assert "BAI CHUNLI 2" in incomplete and "Olga" in incomplete


def test_issuing_selected_rows_issues_those_only(app, logged_in):
    event = create_test_event(app, title="ANSO")
    first, second = visa_request(app, event, 1), visa_request(app, event, 2)
    response = logged_in.post(f"/organizer/events/{event.slug}/visas/issue", data={"application_id": [str(second)]})
    assert response.status_code == 302
    page = logged_in.get(response.headers["Location"]).text
    assert "1 visa letter issued" in page
    with app.app_context():
        states = {a.id: a.state for a in db.session.scalars(select(VisaApplication))}
    assert states == {first: VisaState.PENDING, second: VisaState.ISSUED}
    issued = logged_in.get(queue_url(event, "issued")).text
    assert f"ANSO-{event.starts_at.year}-0001" in issued and "BAI CHUNLI 2" in issued


def test_issue_all_needs_the_box_ticked(app, logged_in):
    event = create_test_event(app, title="ANSO")
    for n in (1, 2, 3):
        visa_request(app, event, n)
    visa_request(app, event, 4, complete=False)
    url = f"/organizer/events/{event.slug}/visas/issue-all"
    refused = logged_in.post(url, data={}, follow_redirects=True)
    assert "Tick the box to confirm" in refused.text
    done = logged_in.post(url, data={"confirm": "y"}, follow_redirects=True)
    assert "3 visa letters issued" in done.text
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(VisaLetter)) == 3


def test_an_unknown_placeholder_is_shown_on_the_queue(app, logged_in):
    event = create_test_event(app, title="ANSO")
    with app.app_context():
        db.session.add(DocumentSettings(event_id=event.id, letter_template="To {embassy}: {passport_name}"))
        db.session.commit()
    application_id = visa_request(app, event)
    page = logged_in.post(
        f"/organizer/events/{event.slug}/visas/issue",
        data={"application_id": [str(application_id)]},
        follow_redirects=True,
    )
    assert page.status_code == 200
    assert "unknown placeholders: {embassy}" in page.text


def test_a_refusal_needs_its_reason(app, logged_in):
    event = create_test_event(app, title="ANSO")
    application_id = visa_request(app, event)
    url = f"/organizer/events/{event.slug}/visas/{application_id}/refuse"
    empty = logged_in.post(url, data={"reason": "  "}, follow_redirects=True)
    assert "Give the reason for the refusal." in empty.text
    done = logged_in.post(url, data={"reason": "Not on the speakers' list"}, follow_redirects=True)
    assert "The request was refused." in done.text
    assert "Not on the speakers&#39; list" in done.text


def test_withdraw_and_download_a_letter(app, logged_in):
    event = create_test_event(app, title="ANSO")
    (number,) = issue(app, event, visa_request(app, event))
    with app.app_context():
        letter_id = db.session.scalar(select(VisaLetter.id))
    pdf = logged_in.get(f"/organizer/events/{event.slug}/visas/{letter_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert number in pdf_text(pdf.data)
    withdrawn = logged_in.post(
        f"/organizer/events/{event.slug}/visas/letters/{letter_id}/withdraw", follow_redirects=True
    )
    assert f"The letter {number} was withdrawn." in withdrawn.text
    with app.app_context():
        assert db.session.get(VisaLetter, letter_id).state == LetterState.WITHDRAWN
        assert db.session.scalar(select(VisaApplication.state)) == VisaState.PENDING


def test_check_in_staff_are_refused(app, client, make_organizer):
    event = create_test_event(app, title="ANSO")
    application_id = visa_request(app, event)
    email, password = make_organizer("desk@example.org", role="checkin")
    client.post("/auth/login", data={"email": email, "password": password})
    assert client.get(queue_url(event)).status_code == 403
    issue_url = f"/organizer/events/{event.slug}/visas/issue"
    assert client.post(issue_url, data={"application_id": [str(application_id)]}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(VisaLetter)) is None


def test_the_queue_needs_a_login(app, client):
    event = create_test_event(app, title="ANSO")
    response = client.get(queue_url(event))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_queue_shows_the_registrations_status_and_issue_all_leaves_the_waitlisted_out(app, logged_in):
    event = create_test_event(app, title="ANSO")
    waiting_id = visa_request(app, event, 1)
    visa_request(app, event, 2)
    with app.app_context():
        db.session.get(
            Registration, db.session.get(VisaApplication, waiting_id).registration_id
        ).status = Status.WAITLISTED
        db.session.commit()
    page = logged_in.get(queue_url(event)).text
    assert "Waitlisted" in page and "Confirmed" in page
    done = logged_in.post(
        f"/organizer/events/{event.slug}/visas/issue-all", data={"confirm": "y"}, follow_redirects=True
    )
    assert "1 visa letter issued" in done.text
    with app.app_context():
        assert db.session.get(VisaApplication, waiting_id).state == VisaState.PENDING
