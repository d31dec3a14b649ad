"""Who may put a registration into a category: the public form offers only the categories delegates choose, a POST
or a service call carrying another one is refused, and a delegate's own edit cannot move into or out of a category
the organizers assign."""

import re

import pytest
from sqlalchemy import select

from eventreg.categories.services import CategoryChange, event_categories, save_categories
from eventreg.extensions import db
from eventreg.models import Event, Registration
from eventreg.registration.self_service import edit_own_registration
from eventreg.registration.services import CategoryNotOffered, Membership, register_delegate
from tests.conftest import delegate
from tests.test_registration import form, outbox_count, registrations
from tests.test_registration_actions import edit_form, flashes, load

ASSIGNED = "This category is assigned by the organizers; please choose one of the categories offered."


def offered(page: str) -> list[str]:
    """The values of the category select's options."""
    select_html = re.search(r'<select[^>]*id="category".*?</select>', page, re.S).group(0)
    return re.findall(r'<option[^>]*value="([^"]*)"', select_html)


def add_category(app, event, code, set_by, labels=None, position=9):
    """Give the event one more category through the settings' service."""
    with app.app_context():
        stored = db.session.get(Event, event.id)
        change = CategoryChange(None, code, labels or {"en": code.title()}, "#123456", position, set_by)
        save_categories(stored, [change], None)


def test_the_public_form_offers_only_the_categories_delegates_choose(client, make_event):
    event = make_event()
    page = client.get(f"/e/{event.slug}/register").text
    assert offered(page) == ["delegate", "observer"]
    assert ">Delegate<" in page and ">Speaker<" not in page


def test_the_public_form_offers_the_event_s_own_delegate_categories(app, client, make_event):
    event = make_event()
    add_category(app, event, "student", "delegates", {"en": "Student", "fr": "Étudiant"})
    add_category(app, event, "minister", "organizers")
    assert offered(client.get(f"/e/{event.slug}/register").text) == ["delegate", "observer", "student"]
    page = client.get(f"/e/{event.slug}/register", headers={"Accept-Language": "fr"}).text
    assert ">Étudiant<" in page


@pytest.mark.parametrize("code", ["speaker", "press", "guest"])
def test_a_delegate_who_cannot_post_an_assigned_category(app, client, make_event, code):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(category=code))
    assert response.status_code == 200
    error = re.search(r'id="category-error">([^<]*)<', response.text)
    assert error and error.group(1) == ASSIGNED
    assert registrations(app) == [] and outbox_count(app) == 0


def test_an_unknown_category_is_refused_with_its_own_message(app, client, make_event):
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(category="vip"))
    assert 'id="category-error">Please choose one of the categories offered.<' in response.text
    assert registrations(app) == []


def test_the_service_refuses_an_assigned_category_without_a_membership_that_carries_it(app, make_event):
    event = make_event()
    with app.app_context():
        with pytest.raises(CategoryNotOffered) as refused:
            register_delegate(event.id, delegate(category="speaker"), "en")
        assert refused.value.field == "category" and str(refused.value.message) == ASSIGNED
        with pytest.raises(CategoryNotOffered):
            register_delegate(event.id, delegate(category="vip"), "en")
        with pytest.raises(CategoryNotOffered):  # an invitation assigning Press does not open Speaker
            register_delegate(
                event.id, delegate(category="speaker"), "en", membership=Membership(assigned_category="press")
            )
        with pytest.raises(CategoryNotOffered):  # nor a delegate's own choice instead of the assigned one
            register_delegate(
                event.id, delegate(category="delegate"), "en", membership=Membership(assigned_category="press")
            )
        assert db.session.scalars(select(Registration)).all() == []
        registration = register_delegate(
            event.id, delegate(category="speaker"), "en", membership=Membership(assigned_category="speaker")
        )
        assert registration.category == "speaker"


def test_a_category_moved_to_the_organizers_is_no_longer_offered(app, client, make_event):
    event = make_event()
    with app.app_context():
        stored = db.session.get(Event, event.id)
        changes = [
            CategoryChange(
                c.id, "", dict(c.labels), c.colour, c.position, "organizers" if c.code == "observer" else c.set_by
            )
            for c in event_categories(event.id)
        ]
        save_categories(stored, changes, None)
    assert offered(client.get(f"/e/{event.slug}/register").text) == ["delegate"]
    response = client.post(f"/e/{event.slug}/register", data=form(category="observer"))
    assert ASSIGNED in response.text and registrations(app) == []


# ---- the delegate's own edit


def test_a_delegate_cannot_move_into_an_assigned_category(app, client, make_event, make_registration):
    event = make_event()
    registration_id, token = make_registration(event, category="delegate")
    page = client.get(f"/r/{token}/edit").text
    assert offered(page) == ["delegate", "observer"]
    response = client.post(f"/r/{token}/edit", data=_own(app, registration_id, category="speaker"))
    assert ASSIGNED in response.text
    assert load(app, registration_id).category == "delegate"
    # Between the categories delegates choose, they move freely.
    response = client.post(
        f"/r/{token}/edit", data=_own(app, registration_id, category="observer"), follow_redirects=True
    )
    assert flashes(response) == ["Your changes are saved. We have sent you an email that lists them."]
    assert load(app, registration_id).category == "observer"


def test_a_delegate_in_an_assigned_category_sees_it_fixed_and_cannot_leave_it(
    app, client, make_event, make_registration
):
    event = make_event()
    registration_id, token = make_registration(event, category="speaker")
    page = client.get(f"/r/{token}/edit").text
    assert offered(page) == ["speaker"]
    assert re.search(r'<select[^>]*disabled[^>]*id="category"|<select[^>]*id="category"[^>]*disabled', page)
    assert "The organizers set this category; it cannot be changed here." in page
    # Whatever the POST carries, the category stays; the rest of the edit is saved.
    response = client.post(
        f"/r/{token}/edit",
        data=_own(app, registration_id, category="delegate", position="Keynote"),
        follow_redirects=True,
    )
    assert flashes(response) == ["Your changes are saved. We have sent you an email that lists them."]
    after = load(app, registration_id)
    assert (after.category, after.position) == ("speaker", "Keynote")


def test_the_own_edit_service_refuses_a_move_into_or_out_of_an_assigned_category(app, make_event, make_registration):
    event = make_event()
    delegate_id, _token = make_registration(event, category="delegate")
    speaker_id, _token = make_registration(event, email="speaker@example.org", category="speaker")
    with app.app_context():
        with pytest.raises(CategoryNotOffered):
            edit_own_registration(delegate_id, _details(delegate_id, category="press"))
        with pytest.raises(CategoryNotOffered) as refused:
            edit_own_registration(speaker_id, _details(speaker_id, category="delegate"))
        assert refused.value.message == "The organizers set your category; please ask them to change it."
    assert load(app, delegate_id).category == "delegate" and load(app, speaker_id).category == "speaker"


def _own(app, registration_id, **changes) -> dict:
    data = edit_form(load(app, registration_id), **changes)
    del data["email"]
    return data


def _details(registration_id, **changes):
    registration = db.session.get(Registration, registration_id)
    fields = {name: getattr(registration, name) for name in delegate().__dataclass_fields__ if name != "visa"}
    return delegate(**{**fields, **changes})
