"""An event's categories in its settings (labels per language, colour, order, new and deleted ones), organizers
setting any category one at a time or in bulk, the event's labels wherever a category is shown, and the attendee
list's and exports' delegation filter."""

import re

import pytest
from sqlalchemy import select

from eventreg.categories.services import CategoryChange, CategoryRefused, event_categories, label, save_categories
from eventreg.extensions import db
from eventreg.models import AuditEntry, Delegation, Event, Invitation, OutboxMessage, Registration
from tests.test_exports import csv_rows, xlsx_rows
from tests.test_registration_actions import edit_form, flashes, load

LANGUAGES = ["en", "zh_Hans", "fr", "es", "ru", "ar"]


def page_url(event) -> str:
    return f"/organizer/events/{event.slug}/categories"


def settings_form(app, event, **changes) -> dict:
    """The categories form as the browser sends it: every row as stored, then `changes` (field name: value)."""
    data = {}
    with app.app_context():
        for index, category in enumerate(event_categories(event.id)):
            data[f"rows-{index}-category_id"] = str(category.id)
            data[f"rows-{index}-colour"] = category.colour
            data[f"rows-{index}-position"] = str(category.position)
            data[f"rows-{index}-set_by"] = category.set_by
            for language in LANGUAGES:
                data[f"rows-{index}-label_{language}"] = (category.labels or {}).get(language, "")
    data.update({"new-code": "", "new-colour": "#5a6b7b", "new-position": "9", "new-set_by": "organizers"})
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def stored(app, event) -> list[tuple]:
    """The event's categories as (code, labels, colour, position, set_by), in order."""
    with app.app_context():
        return [(c.code, c.labels, c.colour, c.position, c.set_by) for c in event_categories(event.id)]


def test_a_new_event_has_the_five_default_categories(app, make_event):
    event = make_event()
    assert [(code, set_by) for code, _l, _c, _p, set_by in stored(app, event)] == [
        ("delegate", "delegates"),
        ("observer", "delegates"),
        ("speaker", "organizers"),
        ("guest", "organizers"),
        ("press", "organizers"),
    ]


def test_labels_in_two_languages_are_saved_and_shown_in_the_reader_s_language(app, logged_in, make_event):
    event = make_event()
    page = logged_in.get(page_url(event)).text
    assert 'name="rows-2-label_fr"' in page and 'name="new-code"' in page
    response = logged_in.post(
        page_url(event),
        data=settings_form(
            app, event, **{"rows-2-label_en": "Keynote speaker", "rows-2-label_fr": "Orateur principal"}
        ),
        follow_redirects=True,
    )
    assert flashes(response) == ["The categories have been saved."]
    speaker = stored(app, event)[2]
    assert speaker[:2] == ("speaker", {"en": "Keynote speaker", "fr": "Orateur principal"})
    with app.app_context():
        category = event_categories(event.id)[2]
        assert label(category, "fr") == "Orateur principal"
        assert label(category, "en") == "Keynote speaker"
        assert label(category, "ru") == "Speaker"  # no Russian label: the catalog's (untranslated here)
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.categories_changed")).one()
        assert entry.before == {"category speaker": "— · #b3261e · 2 · organizers"}
        assert entry.after == {
            "category speaker": "en: Keynote speaker; fr: Orateur principal · #b3261e · 2 · organizers"
        }
        assert entry.actor == "admin@example.org"


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#gggggg", "", "1f5fa8"])
def test_a_malformed_colour_is_refused_and_nothing_changes(app, logged_in, make_event, colour):
    event = make_event()
    before = stored(app, event)
    response = logged_in.post(
        page_url(event), data=settings_form(app, event, **{"rows-0-colour": colour, "rows-1-label_en": "Watcher"})
    )
    assert response.status_code == 200
    assert "Please give a colour as #rrggbb, e.g. #1f5fa8." in response.text
    assert stored(app, event) == before


def test_the_order_is_saved(app, logged_in, make_event):
    event = make_event()
    logged_in.post(page_url(event), data=settings_form(app, event, **{"rows-0-position": "7", "rows-4-position": "0"}))
    assert [code for code, *_rest in stored(app, event)] == ["press", "observer", "speaker", "guest", "delegate"]


def test_a_category_is_added_with_a_code_that_never_changes(app, logged_in, make_event):
    event = make_event()
    response = logged_in.post(
        page_url(event),
        data=settings_form(
            app, event, **{"new-code": "vip-guest", "new-label_en": "VIP", "new-colour": "#AABBCC", "new-position": "5"}
        ),
        follow_redirects=True,
    )
    assert flashes(response) == ["The categories have been saved."]
    assert stored(app, event)[-1] == ("vip-guest", {"en": "VIP"}, "#aabbcc", 5, "organizers")
    # The same code again, or a malformed one, is refused.
    again = logged_in.post(page_url(event), data=settings_form(app, event, **{"new-code": "vip-guest"}))
    assert "This event already has a category with this code." in again.text
    for bad in ("VIP", "vip guest", "-vip", "vip_guest", "a" * 21):
        refused = logged_in.post(page_url(event), data=settings_form(app, event, **{"new-code": bad}))
        assert "Lower-case letters, digits and hyphens only" in refused.text
    assert len(stored(app, event)) == 6
    # A label without a code adds nothing and says why.
    nameless = logged_in.post(page_url(event), data=settings_form(app, event, **{"new-label_en": "Nameless"}))
    assert "Please give the new category a code." in nameless.text


def test_only_a_category_nobody_carries_can_be_deleted(app, logged_in, make_event, make_registration):
    event = make_event()
    make_registration(event, category="speaker")
    with app.app_context():
        db.session.add(Invitation(event_id=event.id, email="guest@example.org", category="guest"))
        db.session.commit()
    page = logged_in.get(page_url(event)).text
    assert "1 registration or invitation carries it, so it cannot be deleted." in page
    for index, code in ((2, "speaker"), (3, "guest")):
        response = logged_in.post(page_url(event), data=settings_form(app, event, **{f"rows-{index}-delete": "y"}))
        assert "cannot be deleted: registrations or invitations carry it" in response.text
        assert code in [row[0] for row in stored(app, event)]
    response = logged_in.post(
        page_url(event), data=settings_form(app, event, **{"rows-4-delete": "y"}), follow_redirects=True
    )
    assert flashes(response) == ["The categories have been saved."]
    assert [row[0] for row in stored(app, event)] == ["delegate", "observer", "speaker", "guest"]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.categories_changed")).one()
        assert (entry.before, entry.after) == (
            {"category press": "— · #1e7b4f · 4 · organizers"},
            {"category press": None},
        )


def test_the_service_refuses_a_category_of_another_event(app, make_event):
    event, other = make_event(), make_event(title="Other")
    with app.app_context():
        foreign = event_categories(other.id)[0]
        change = CategoryChange(foreign.id, "", {"en": "Mine now"}, "#000000", 0, "delegates")
        with pytest.raises(CategoryRefused):
            save_categories(db.session.get(Event, event.id), [change], None)
    assert stored(app, other)[0][1] == {}


def test_the_categories_page_is_for_the_event_s_organizers_only(app, client, make_event, make_organizer):
    event = make_event()
    assert client.get(page_url(event)).status_code in (302, 401)
    email, password = make_organizer("staff@example.org", role="organizer")
    client.post("/auth/login", data={"email": email, "password": password})
    assert client.get(page_url(event)).status_code == 403


# ---- organizers set any category


def test_an_organizer_sets_any_category_on_one_registration(app, logged_in, make_event, make_registration):
    event = make_event()
    registration_id, _token = make_registration(event)
    before = load(app, registration_id)
    edit_url = f"/organizer/events/{event.slug}/registrations/{registration_id}/edit"
    page = logged_in.get(edit_url).text
    assert {"delegate", "observer", "speaker", "guest", "press"} <= set(
        re.findall(r'<option[^>]*value="([a-z-]+)"', page)
    )
    response = logged_in.post(edit_url, data=edit_form(before, category="press"), follow_redirects=True)
    assert flashes(response) == ["The registration is saved."]
    assert load(app, registration_id).category == "press"
    refused = logged_in.post(edit_url, data=edit_form(before, category="vip"))
    assert load(app, registration_id).category == "press" and refused.status_code == 200


def test_an_organizer_sets_a_category_in_bulk_in_one_transaction(app, logged_in, make_event, make_registration):
    event = make_event()
    with app.app_context():
        save_categories(
            db.session.get(Event, event.id),
            [CategoryChange(None, "minister", {"en": "Minister", "fr": "Ministre"}, "#112233", 9, "organizers")],
            None,
        )
    ids = [make_registration(event, email=f"p{n}@example.org")[0] for n in range(3)]
    make_registration(event, email="other@example.org")
    response = logged_in.post(
        f"/organizer/events/{event.slug}/registrations/bulk",
        data={"ids": [str(n) for n in ids], "action": "set_category", "category": "minister"},
        follow_redirects=True,
    )
    assert flashes(response) == ["3 moved to Minister"]
    with app.app_context():
        categories = dict(db.session.execute(select(Registration.id, Registration.category)).all())
        assert [categories[n] for n in ids] == ["minister"] * 3 and list(categories.values()).count("delegate") == 1
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.edited")).all()
        assert sorted(entry.registration_id for entry in entries) == ids
        assert all(entry.after == {"category": "minister"} for entry in entries)
        assert db.session.scalar(select(db.func.count()).where(OutboxMessage.kind == "changed")) == 3
    # The list shows the event's label, in the reader's language.
    listing = logged_in.get(f"/organizer/events/{event.slug}/registrations", headers={"Accept-Language": "fr"}).text
    assert listing.count(">Ministre<") >= 1
    # An unknown category, or none, is refused and changes nothing.
    refused = logged_in.post(
        f"/organizer/events/{event.slug}/registrations/bulk",
        data={"ids": [str(ids[0])], "action": "set_category", "category": "king"},
        follow_redirects=True,
    )
    assert flashes(refused) == ["Please choose the category to set."]
    assert load(app, ids[0]).category == "minister"


def test_the_bulk_limit_holds_for_setting_a_category(app, logged_in, make_event):
    event = make_event()
    response = logged_in.post(
        f"/organizer/events/{event.slug}/registrations/bulk",
        data={"ids": [str(n) for n in range(1, 1002)], "action": "set_category", "category": "press"},
        follow_redirects=True,
    )
    assert flashes(response) == ["Please choose at most 1,000 registrations at a time."]


# ---- exports and the delegation filter


@pytest.fixture
def delegations(app, make_event, make_registration):
    """An event with a custom label for Speaker, two delegations and registrations in each, and one in none."""
    event = make_event()
    with app.app_context():
        speaker = event_categories(event.id)[2]
        speaker.labels = {"en": "Keynote speaker", "fr": "Orateur principal"}
        academy, institute = (
            Delegation(event_id=event.id, name="Academy"),
            Delegation(event_id=event.id, name="Institute"),
        )
        db.session.add_all([academy, institute])
        db.session.commit()
        ids = {"academy": academy.id, "institute": institute.id}
    people = {}
    for name, delegation, category in (
        ("a1", "academy", "speaker"),
        ("a2", "academy", "delegate"),
        ("i1", "institute", "observer"),
        ("n1", None, "press"),
    ):
        registration_id, _ = make_registration(event, email=f"{name}@example.org", category=category)
        people[name] = registration_id
        if delegation:
            with app.app_context():
                db.session.get(Registration, registration_id).delegation_id = ids[delegation]
                db.session.commit()
    return event, ids, people


def test_exports_carry_the_category_code_and_label_and_the_delegation(app, logged_in, delegations):
    event, _ids, _people = delegations
    rows = csv_rows(logged_in.get(f"/organizer/events/{event.slug}/registrations.csv?sort=date"))
    assert [(r["Email"], r["Category code"], r["Category"], r["Delegation"]) for r in rows] == [
        ("a1@example.org", "speaker", "Keynote speaker", "Academy"),
        ("a2@example.org", "delegate", "Delegate", "Academy"),
        ("i1@example.org", "observer", "Observer", "Institute"),
        ("n1@example.org", "press", "Press", ""),
    ]
    french = logged_in.get(f"/organizer/events/{event.slug}/registrations.xlsx", headers={"Accept-Language": "fr"})
    headers, cells = xlsx_rows(french)
    rows = [[cell.value for cell in row.values()] for row in cells]
    assert len(headers) == len(rows[0])
    assert any("speaker" in row and "Orateur principal" in row and "Academy" in row for row in rows)


@pytest.mark.parametrize(
    ("delegation", "expected"),
    [("academy", ["a1", "a2"]), ("institute", ["i1"]), ("none", ["n1"])],
)
def test_the_delegation_filter_in_the_list_and_the_exports(app, logged_in, delegations, delegation, expected):
    event, ids, _people = delegations
    value = "none" if delegation == "none" else str(ids[delegation])
    listing = logged_in.get(f"/organizer/events/{event.slug}/registrations?delegation={value}").text
    shown = sorted(set(re.findall(r'dir="ltr">(\w+)@example.org<', listing)))
    assert shown == expected
    assert f'<option selected value="{value}">' in listing or f'value="{value}" selected' in listing
    rows = csv_rows(logged_in.get(f"/organizer/events/{event.slug}/registrations.csv?delegation={value}"))
    assert sorted(r["Email"].split("@")[0] for r in rows) == expected


@pytest.mark.parametrize("value", ["academy", "-1", "0", "1.5"])
def test_a_malformed_delegation_filter_is_explained_not_an_error(app, logged_in, delegations, value):
    event, _ids, _people = delegations
    response = logged_in.get(f"/organizer/events/{event.slug}/registrations?delegation={value}")
    assert response.status_code == 200
    assert "The filter delegation=" in response.text and "is not understood." in response.text
    export = logged_in.get(f"/organizer/events/{event.slug}/registrations.csv?delegation={value}")
    assert export.status_code == 400


def test_the_dashboard_report_names_categories_by_the_event_s_labels(app, logged_in, delegations):
    event, _ids, _people = delegations
    with app.app_context():
        db.session.execute(db.update(Registration).values(status="confirmed"))
        db.session.commit()
    from eventreg.stats import event_report

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        names = {row["category"]: row["name"] for row in event_report(db.session.get(Event, event.id))["by_category"]}
    assert names["speaker"] == "Orateur principal"
