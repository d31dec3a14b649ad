"""A walk over the whole URL map: every organizer route checks the login (or API token), the role's right,
and, for an event's pages, that the organizer runs that event.

URLs are built from real objects. A route with an argument this file does not know fails with the argument's
name: add a value for it to `url_values` below.
"""

import itertools
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from werkzeug.routing.converters import AnyConverter

from eventreg.admin.services import assign_events
from eventreg.auth.access import is_public_endpoint
from eventreg.auth.tokens import create_token
from eventreg.extensions import db
from eventreg.models import ROLE_RIGHTS, Organizer

PASSWORD = "correct horse battery"
ROLES = ("admin", "organizer", "checkin")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Endpoints that must be among those checked: if one disappears from the walk, the walk is broken.
KNOWN_SESSION_ENDPOINTS = {
    "organizer.index",
    "organizer.dashboard",
    "events.new_event",
    "events.settings",
    "admin.accounts",
    "admin.new_account",
    "admin.account",
    "admin.change_role",
    "admin.deactivate",
    "admin.reactivate",
    "admin.reset_password",
    "admin.assign_events",
    "admin.audit",
    "auth.account",
    "auth.logout",
    "checkin.index",
    "checkin.desk",
    "checkin.card",
    "checkin.check_in_view",
    "checkin.undo",
    "checkin_json.lookup",
    "checkin_json.check_in_json",
    "checkin_json.counts",
}


@dataclass
class World:
    """Real objects to build URLs from: one event, one registration, an account per role, API tokens."""

    slug: str
    registration_id: int
    registration_token: str
    target_id: int  # an account the admin pages act on, apart from the logged-in ones
    token_ids: dict  # role → id of one of its API tokens
    raw_tokens: dict  # role (and "outsider") → the token itself


def email_of(role: str) -> str:
    return f"{role}@example.org"


@pytest.fixture
def world(app, make_organizer, make_event, make_registration) -> World:
    event = make_event(title="Inaugural Ceremony", capacity=500)
    registration_id, registration_token = make_registration(event)
    for role in ROLES:
        make_organizer(email_of(role), PASSWORD, role=role)
    make_organizer("outsider@example.org", PASSWORD, role="organizer")  # runs no event
    make_organizer("target@example.org", PASSWORD, role="organizer")
    with app.app_context():
        ids = dict(db.session.execute(select(Organizer.email, Organizer.id)).all())
        assign_events(ids[email_of("organizer")], {event.id})
        assign_events(ids["target@example.org"], {event.id})
        assign_events(ids[email_of("checkin")], {event.id})  # check-in staff reach the desks of their events
        token_ids, raw_tokens = {}, {}
        for name in ("admin", "organizer", "outsider"):
            token, raw = create_token(db.session.get(Organizer, ids[f"{name}@example.org"]), "walk")
            token_ids[name], raw_tokens[name] = token.id, raw
        # Check-in staff cannot create tokens; one made while the account was an organizer must stop working.
        checkin = db.session.get(Organizer, ids[email_of("checkin")])
        checkin.role = "organizer"
        db.session.commit()
        token, raw_tokens["checkin"] = create_token(checkin, "walk")
        token_ids["checkin"] = token.id
        checkin.role = "checkin"
        db.session.commit()
    return World(event.slug, registration_id, registration_token, ids["target@example.org"], token_ids, raw_tokens)


def url_values(world: World, role: str) -> dict:
    """A real value for each URL argument name used by the routes."""
    return {
        "slug": world.slug,
        "registration_id": world.registration_id,
        "token": world.registration_token,
        "organizer_id": world.target_id,
        "token_id": world.token_ids.get(role, world.token_ids["admin"]),
        # The outbox's first mail (the world's registration's confirmation); no message to delegates has this id.
        "message_id": 1,
        # The guest list's rows: none exists in this world, so a role that may pass gets a 404, one that may not a 403.
        "invitation_id": 1,
        "import_id": 1,
        "delegation_id": 1,
        "member_id": world.registration_id,
        "key": "x",
        # The documents' rows: none exists in this world either (404 for a role that may pass, 403 otherwise).
        "job_id": 1,
        "image_id": 1,
        "application_id": 1,
        "letter_id": 1,
        "number": "ANSO-2027-0001",
        "code": "XXXXXXXXXX",
        "reminder_id": 1,  # no reminder exists in this world (404 for a role that may pass, 403 otherwise)
    }


def urls(rule, values: dict) -> list[str]:
    """Every URL of the rule: one per choice of an any(…) argument, the others from `values`."""
    options = {}
    for name in sorted(rule.arguments):
        converter = rule._converters.get(name)
        if isinstance(converter, AnyConverter):
            options[name] = sorted(converter.items)
        elif name in values:
            options[name] = [values[name]]
        else:
            pytest.fail(
                f"tests/test_roles.py has no value for the URL argument {name!r} of {rule.rule} "
                f"({rule.endpoint}); add one to url_values()"
            )
    names = list(options)
    return [rule.build(dict(zip(names, combo, strict=True)))[1] for combo in itertools.product(*options.values())]


def view_of(app, rule):
    return app.view_functions[rule.endpoint]


def session_rules(app):
    """The rules of non-public views that use the login session, sorted for a stable walk."""
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if not is_public_endpoint(app, rule.endpoint) and getattr(view_of(app, rule), "token_right", None) is None
    ]
    return sorted(rules, key=lambda rule: (rule.rule, rule.endpoint))


def token_rules(app):
    """The rules of API views, which authenticate with a bearer token."""
    rules = [rule for rule in app.url_map.iter_rules() if getattr(view_of(app, rule), "token_right", None) is not None]
    return sorted(rules, key=lambda rule: (rule.rule, rule.endpoint))


def methods(rule) -> list[str]:
    return sorted(rule.methods - IGNORED_METHODS)


class Session:
    """A client logged in as one account; logs in again when a request ended the session (logout, new token)."""

    def __init__(self, app, email):
        self.app, self.email, self.client = app, email, app.test_client()

    def _token(self) -> str:
        with self.app.app_context():
            return db.session.scalar(select(Organizer.session_token).where(Organizer.email == self.email))

    def open(self, url, method):
        with self.client.session_transaction() as cookie:
            logged_in = cookie.get("_user_id") == self._token()
        if not logged_in:
            response = self.client.post("/auth/login", data={"email": self.email, "password": PASSWORD})
            assert response.status_code == 302, f"{self.email} could not log in again"
        return self.client.open(url, method=method)


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_every_endpoint_is_public_or_declares_a_right(app):
    for rule in app.url_map.iter_rules():
        if is_public_endpoint(app, rule.endpoint):
            continue
        view = view_of(app, rule)
        declared = getattr(view, "required_right", None) or getattr(view, "token_right", None)
        assert declared is not None, f"{rule.endpoint} ({rule.rule}) is neither @public nor declares a right"


def test_anonymous_visitors_are_sent_to_log_in_or_told_to_send_a_token(app, world):
    client = app.test_client()
    checked = set()
    for rule in session_rules(app):
        for url, method in itertools.product(urls(rule, url_values(world, "admin")), methods(rule)):
            response = client.open(url, method=method)
            assert is_login_redirect(response), (method, url, response.status_code)
            assert response.headers["Location"].startswith("/auth/login?next="), (method, url)
            checked.add(rule.endpoint)
    for rule in token_rules(app):
        for url, method in itertools.product(urls(rule, url_values(world, "admin")), methods(rule)):
            response = client.open(url, method=method)
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.is_json and response.json["error"], (method, url)
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, url)
            checked.add(rule.endpoint)
    assert checked >= KNOWN_SESSION_ENDPOINTS, KNOWN_SESSION_ENDPOINTS - checked


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_the_routes_its_rights_allow(app, world, role):
    session = Session(app, email_of(role))
    checked, refused = set(), set()
    for rule in session_rules(app):
        right = view_of(app, rule).required_right
        for url, method in itertools.product(urls(rule, url_values(world, role)), methods(rule)):
            response = session.open(url, method)
            where = (role, method, url, response.status_code)
            if right in ROLE_RIGHTS[role]:
                assert response.status_code != 403, where
                assert not is_login_redirect(response), where
                assert response.status_code < 500, where
            else:
                assert response.status_code == 403, where
                refused.add(rule.endpoint)
            checked.add(rule.endpoint)
    assert checked >= KNOWN_SESSION_ENDPOINTS, KNOWN_SESSION_ENDPOINTS - checked
    assert bool(refused) == (role != "admin")  # an admin holds every right; the others lack some


@pytest.mark.parametrize("role", ROLES)
def test_api_tokens_carry_their_accounts_rights(app, world, role):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world.raw_tokens[role]}"}
    for rule in token_rules(app):
        right = view_of(app, rule).token_right
        for url, method in itertools.product(urls(rule, url_values(world, role)), methods(rule)):
            response = client.open(url, method=method, headers=headers)
            where = (role, method, url, response.status_code)
            if right in ROLE_RIGHTS[role]:
                assert response.status_code not in (401, 403), where
                assert response.status_code < 500, where
            else:
                assert response.status_code == 403, where


def test_an_organizer_gets_403_on_every_page_of_an_event_they_do_not_run(app, world):
    session = Session(app, "outsider@example.org")
    headers = {"Authorization": f"Bearer {world.raw_tokens['outsider']}"}
    checked = set()
    for rule in session_rules(app) + token_rules(app):
        if "slug" not in rule.arguments:
            continue
        api = getattr(view_of(app, rule), "token_right", None) is not None
        for url, method in itertools.product(urls(rule, url_values(world, "outsider")), methods(rule)):
            response = app.test_client().open(url, method=method, headers=headers) if api else session.open(url, method)
            assert response.status_code == 403, (method, url, response.status_code)
            checked.add(rule.endpoint)
    assert {"organizer.dashboard", "events.settings"} <= checked


def test_an_unknown_url_argument_is_named(app):
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == "events.settings")
    with pytest.raises(pytest.fail.Exception, match="'slug' of /organizer/events/<slug:slug>/settings"):
        urls(rule, {})
