"""Who may register: an event by invitation shows itself and whom to write to, refuses the public form's POST, and
registers only through a personal invitation link; organizers set it (and the invitation paragraph) in the
event's settings, audited."""

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import Registration
from tests.conftest import create_test_event
from tests.test_event_settings import audit_entries, event_form, load_event, organizer_client  # noqa: F401
from tests.test_invitation_link import complete, make_invitation

CONTACT = 'href="mailto:office@example.org"'


def registrations(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Registration))


@pytest.fixture
def by_invitation(app):
    return create_test_event(app, admission="invitation")


def test_the_event_page_says_by_invitation_with_the_contact_address(client, by_invitation):
    page = client.get(f"/e/{by_invitation.slug}")
    assert page.status_code == 200
    assert "Registration for this event is by invitation only" in page.text
    assert CONTACT in page.text
    assert f'href="/e/{by_invitation.slug}/register"' not in page.text


def test_the_registration_page_shows_no_form(client, by_invitation):
    page = client.get(f"/e/{by_invitation.slug}/register")
    assert page.status_code == 200
    assert "Registration for this event is by invitation only" in page.text
    assert CONTACT in page.text
    assert "<form" not in page.text.split("<main", 1)[-1]


def test_a_post_without_an_invitation_is_refused(app, client, by_invitation):
    data = complete(email="uninvited@example.org")
    response = client.post(f"/e/{by_invitation.slug}/register", data=data)
    assert response.status_code == 403
    assert "Nothing was registered: please use the personal link in your invitation." in response.text
    assert registrations(app) == 0


def test_a_post_through_the_invitation_link_is_accepted(app, client, by_invitation):
    _id, token = make_invitation(app, by_invitation)
    response = client.post(f"/i/{token}", data=complete())
    assert response.status_code == 303
    assert registrations(app) == 1


def test_an_open_event_is_unchanged(client, app):
    event = create_test_event(app)
    page = client.get(f"/e/{event.slug}/register")
    assert 'class="registration-form"' in page.text
    assert "by invitation only" not in page.text
    response = client.post(f"/e/{event.slug}/register", data=complete(email="anyone@example.org"))
    assert response.status_code == 303


def test_organizers_set_admission_and_the_invitation_paragraph(app, organizer_client):  # noqa: F811
    response = organizer_client.post(
        "/organizer/events/new",
        data=event_form(admission="invitation", invitation_note="Dress code: academic robes."),
    )
    assert response.status_code == 302
    [created] = audit_entries(app, "event.created")
    slug = created.after["slug"]
    event = load_event(app, slug)
    assert (event.admission, event.invitation_note) == ("invitation", "Dress code: academic robes.")
    assert created.after["admission"] == "invitation"
    settings = organizer_client.get(f"/organizer/events/{slug}/settings")
    assert '<option selected value="invitation">' in settings.text
    assert "Dress code: academic robes." in settings.text

    response = organizer_client.post(
        f"/organizer/events/{slug}/settings", data=event_form(admission="open", invitation_note="")
    )
    assert response.status_code == 302
    assert (load_event(app, slug).admission, load_event(app, slug).invitation_note) == ("open", "")
    [entry] = audit_entries(app, "event.updated")
    assert entry.before == {"admission": "invitation", "invitation_note": "Dress code: academic robes."}
    assert entry.after == {"admission": "open", "invitation_note": ""}


def test_an_unknown_admission_is_refused_beside_the_field(app, organizer_client):  # noqa: F811
    response = organizer_client.post("/organizer/events/new", data=event_form(admission="everyone"))
    assert response.status_code == 200
    assert "Not a valid choice." in response.text
    assert audit_entries(app, "event.created") == []
