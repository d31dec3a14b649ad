"""Countries come from pycountry, labelled with common names and sorted; hosts can override labels."""

import pycountry
import pytest

from eventreg.geo.countries import _sort_key, country_names, flag
from eventreg.registration.forms import RegistrationForm
from tests.conftest import make_app


def test_every_iso_country_is_offered_sorted_by_common_name(app):
    with app.test_request_context():
        names = country_names()
        assert set(names) == {c.alpha_2 for c in pycountry.countries}
        assert names["TW"] == "Taiwan"
        assert names["BO"] == "Bolivia"
        labels = list(names.values())
        assert labels.index("Åland Islands") < labels.index("Albania")  # accents sort with their letter
        assert labels.index("Côte d'Ivoire") < labels.index("Croatia")
        choices = [choice.value for choice in RegistrationForm().country.choices]
        assert choices[0] == "" and choices[1:] == list(names)


def test_flags_are_regional_indicators():
    assert flag("CN") == "🇨🇳"
    assert flag("XK") == "🇽🇰"
    assert flag("1") == ""


@pytest.fixture
def host_app(tmp_path):
    from tests.conftest import drop_tables

    app = make_app(tmp_path, COUNTRY_NAMES={"XK": "Kosovo", "TW": "Chinese Taipei"})
    yield app
    drop_tables(app)


def test_configuration_overrides_labels_and_adds_codes(host_app):
    client = host_app.test_client()
    with host_app.test_request_context():
        names = country_names()
    assert names["XK"] == "Kosovo"
    assert names["TW"] == "Chinese Taipei"
    labels = list(names.values())
    assert labels == sorted(labels, key=_sort_key)  # the overrides take their place in the order
    assert labels.index("Kenya") < labels.index("Kosovo") < labels.index("Kuwait")
    from eventreg.events.services import create_event
    from eventreg.extensions import db
    from eventreg.models import utcnow

    with host_app.app_context():
        from datetime import timedelta

        starts = utcnow() + timedelta(days=5)
        event = create_event(
            title="T", venue="V", city="C", timezone="UTC", starts_at=starts, ends_at=starts + timedelta(hours=1)
        )
        slug = event.slug
        db.session.remove()
    page = client.get(f"/e/{slug}/register").text
    assert '<option value="XK">Kosovo</option>' in page
    assert '<option value="TW">Chinese Taipei</option>' in page


def test_an_added_code_registers_and_shows_on_the_dashboard(host_app):
    from eventreg.auth.services import create_organizer
    from tests.conftest import create_test_event
    from tests.test_registration import form

    event = create_test_event(host_app)
    with host_app.app_context():
        create_organizer("admin@example.org", "correct horse battery")
    client = host_app.test_client()
    assert client.post(f"/e/{event.slug}/register", data=form(country="XK")).status_code == 303
    client.post("/auth/login", data={"email": "admin@example.org", "password": "correct horse battery"})
    page = client.get(f"/organizer/events/{event.slug}").text
    assert '<tr data-country="XK">' in page
    assert "🇽🇰</span> Kosovo" in page


def test_country_names_must_be_two_letter_codes(tmp_path):
    from eventreg import create_app

    with pytest.raises(ValueError, match="two-letter codes"):
        create_app({"COUNTRY_NAMES": {"Kosovo": "XK"}}, instance_path=str(tmp_path))
