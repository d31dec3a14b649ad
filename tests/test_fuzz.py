"""Arbitrary input to every public form, every API route and every organizer page: never a 500, always a clear
answer, never a partial row.

The routes are read from the app's URL map (public ones as `is_public_endpoint` decides, API ones by their
`@token_required` mark, organizer pages by their `@requires` mark, fuzzed logged in as an administrator), so a new
route is fuzzed without touching this file. The fields of a known form come from its form class (a new field is
fuzzed too); a new form's fields are read from the names on its page. Each example sends a valid submission with
some fields replaced by odd text, huge values, numbers or files, or left out or sent twice; or a body of the wrong
kind (JSON of any shape, bytes in a strange charset); with odd path values, query arguments and headers.
Rate limits are off (any 429 fails). Set FUZZ_EXAMPLES for a longer run (20 per route by default).
"""

import io
import itertools
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from flask_migrate import stamp
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, PasswordField, SelectField

from eventreg import create_app
from eventreg.attendees.filters import AttendeeFilter
from eventreg.attendees.forms import EditRegistrationForm
from eventreg.auth.access import is_public_endpoint
from eventreg.auth.forms import LoginForm
from eventreg.auth.tokens import create_token
from eventreg.extensions import db
from eventreg.forms import ConfirmForm
from eventreg.models import Event, Organizer, OutboxMessage, Registration
from eventreg.registration.forms import EmailChangeForm, LostLinkForm, OwnDetailsForm, RegistrationForm
from eventreg.registration.self_service import request_email_change, why_not_changeable
from eventreg.registration.services import find_registration
from tests.conftest import base_config, create_test_event, drop_tables, make_app, register_test_delegate
from tests.test_api import make_account
from tests.test_event_settings import event_form
from tests.test_registration import form

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None)
# Werkzeug's form parser spools a file part over 500 kB to a temporary file and, when a later part is too large
# (a 413), drops the file without closing it: the garbage collector closes it, with a ResourceWarning. Only that one.
SPOOLED_FILE_LEFT_OPEN = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <function SpooledTemporaryFile.__del__:pytest.PytestUnraisableExceptionWarning"
)

# The form each known route reads; a route missing here is fuzzed with the field names found on its page.
FORMS = {
    "registration.register": RegistrationForm,
    "self_service.edit_own": OwnDetailsForm,
    "self_service.change_email": EmailChangeForm,
    "self_service.lost_link": LostLinkForm,
    "self_service.cancel_own": ConfirmForm,
    "self_service.confirm_new_email": ConfirmForm,
    "auth.login": LoginForm,
}
# Every query argument the app reads: those its code reads by name (test_every_query_argument_read_is_fuzzed finds
# them), the attendee filter's fields, and the fields of the check-in desk's forms (CodeForm, NameSearchForm).
QUERY_NAMES = sorted(
    {"back", "event", "key", "next", "organizer", "page", "per_page", "state", "code", "q", "show"}
    | {"message", "delegate", "preview"}  # the compose page: the draft reopened, the previewed delegate
    | set(AttendeeFilter.__dataclass_fields__)
)

# Text that has broken web apps: direction marks and overrides, NUL and other controls, combining marks, emoji with
# joiners, a BOM, tag characters, line and paragraph separators, non-ASCII digits, characters that change length
# when case-folded, and markup.
ODD = [
    "\u200f",
    "\u200e",
    "\u202e",
    "\u2066",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\r\n",
    "\rBcc: victim@example.org",
    "\u0301" * 12,
    "e\u0301",
    "👩\u200d🔬",
    "🇨🇳",
    "\ufeff",
    "\U000e0041",
    "\u2028",
    "\u2029",
    "٣",
    "１２",
    "ﬀ",
    "İ",
    "ß",
    "Σ",
    "\uffff",
    "\U0010ffff",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "%(name)s",
    "' OR 1=1 --",
    "..\\..",
    "=cmd|' /C calc'!A0",
]
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)  # any text an encoder can send
odd_text = st.lists(st.one_of(st.sampled_from(ODD), st.text(max_size=4)), min_size=1, max_size=6).map("".join)
huge = st.builds(
    lambda unit, times: unit * times,
    st.sampled_from(["x", "é", "字", "😀", "\x00", " ", "a@"]),
    st.sampled_from([255, 1_001, 5_001, 70_000, 300_000]),
)
number = st.one_of(
    st.integers(-(2**80), 2**80).map(str),
    st.floats().map(str),
    st.sampled_from(["", "-0", "1e309", "0x10", "1_000", " 3 ", "٣", "NaN", "-inf", "2147483648"]),
)
value = st.one_of(text, odd_text, number, huge)
# What a known query argument gets: mostly numbers of every size and sign (pages, sizes, ids), else any value.
extreme_number = st.one_of(
    st.sampled_from(["999999999999999999", "9223372036854775808", "9" * 5_000, "-" + "9" * 5_000, "-1", "0"]),
    st.integers(2**31, 2**80).map(str),
    st.integers(-(2**80), -(2**31)).map(str),
)
query_value = st.one_of(extreme_number, extreme_number, st.integers().map(str), value)
# JSON of every type, nested, where a form or an object with certain keys is expected.
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | value,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
# What a header can carry: Latin-1 on one line (HTTP and WSGI allow no more).
header_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=300)
# Valid fields left as they are, changed, dropped, sent twice or sent as a file.
ACTIONS = ["keep", "keep", "keep", "keep", "odd", "drop", "twice", "file"]


@dataclass
class World:
    app: object
    event: Event
    api_headers: dict
    tokens: dict = field(default_factory=dict)  # endpoint → the private link of the registration it acts on


_addresses = itertools.count()


def fresh_address() -> str:
    """An address no example has used, so a valid submission is accepted rather than refused as a duplicate."""
    return f"fuzz.{next(_addresses)}@example.org"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One app for the module (hypothesis runs many examples per test: a fresh database for each would be slow)."""
    app = make_app(tmp_path_factory.mktemp("fuzz"), RATELIMIT_ENABLED=False)
    with app.app_context():
        stamp()  # at the migrations' head, as `flask db upgrade` leaves it: /readyz answers 200, not 503
    event = create_test_event(app, capacity=100_000)
    headers = make_account(app, "fuzz-admin@example.org", "admin")
    yield World(app, event, headers)
    drop_tables(app)


def routes_where(chosen) -> list[tuple[str, str]]:
    """(endpoint, method) of every route of a throwaway app's URL map for which `chosen(app, endpoint, view)`."""
    with tempfile.TemporaryDirectory(prefix="fuzz-routes-") as tmp:
        app = create_app(base_config(Path(tmp)), instance_path=f"{tmp}/instance")
    routes = set()
    for rule in app.url_map.iter_rules():
        if chosen(app, rule.endpoint, app.view_functions[rule.endpoint]):
            routes.update((rule.endpoint, method) for method in rule.methods - {"HEAD", "OPTIONS"})
    return sorted(routes)


def is_fuzzed(app, endpoint: str, view) -> bool:
    """Every public route and every API route (static files aside)."""
    if endpoint == "static" or endpoint.endswith(".static"):
        return False
    return is_public_endpoint(app, endpoint) or getattr(view, "token_right", None) is not None


ROUTES = routes_where(is_fuzzed)


def test_the_fuzzed_routes_include_every_public_form_and_the_api():
    endpoints = {endpoint for endpoint, _method in ROUTES}
    assert set(FORMS) <= endpoints
    assert {"api.events", "api.event_registrations", "counter.delegates_json", "registration.show_event"} <= endpoints
    assert not {"organizer.dashboard", "admin.accounts"} & endpoints  # logins needed: not public


# Where the code reads a query argument by name: request.args.get("page"), args.getlist("status"),
# _whole_number("per_page", …) in the API.
READS_ARGUMENT = re.compile(r"""\bargs\.get(?:list)?\(\s*["'](\w+)["']|_whole_number\(\s*["'](\w+)["']""")


def test_every_query_argument_read_is_fuzzed():
    """A query argument added to the code is fuzzed on every GET route without touching this file's list."""
    package = Path(__file__).parents[1] / "eventreg"
    source = "\n".join(path.read_text(encoding="utf-8") for path in package.rglob("*.py"))
    read = {first or second for first, second in READS_ARGUMENT.findall(source)}
    assert {"page", "per_page", "state", "next", "key"} <= read
    assert read <= set(QUERY_NAMES)


def row_counts(app) -> dict[str, int]:
    """The number of rows in every table."""
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def valid_fields(app, form_class) -> dict[str, str]:
    """A submission the form accepts, built from its fields: a choice from each select, a number from each number
    field, a fresh address in each email field, ticked boxes and plain words."""
    with app.test_request_context():
        form = form_class(meta={"csrf": False})
        values = {}
        for field in form:
            if field.name == "csrf_token" or isinstance(field, HiddenField):
                continue
            if isinstance(field, SelectField):
                values[field.name] = next(choice[0] for choice in field.iter_choices() if choice[0])
            elif isinstance(field, BooleanField):
                values[field.name] = "y"
            elif isinstance(field, IntegerField):
                values[field.name] = "0"
            elif isinstance(field, EmailField):
                values[field.name] = fresh_address()
            elif isinstance(field, PasswordField):
                values[field.name] = "correct horse battery"
            else:
                values[field.name] = "Ada"
        return values


NAME = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"')


def page_fields(client, path) -> dict[str, str]:
    """The field names on a page, for a form this module does not know yet."""
    return dict.fromkeys(NAME.findall(client.get(path).text), "")


def path_values(world: World, rule, endpoint: str) -> tuple[dict, dict]:
    """URL values for `rule` (the event, a fresh registration of its own) and the query a valid visit needs."""
    values, query = {}, {}
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        if name == "slug":
            values[name] = world.event.slug
        elif name == "token":
            values[name] = registration_token(world, endpoint)
        elif "Int" in converter or "Id" in converter:
            values[name] = 1
        else:
            values[name] = "x"
    if endpoint == "self_service.confirm_new_email":
        query["key"] = email_change_key(world)
    return values, query


def registration_token(world: World, endpoint: str) -> str:
    """The private link of a registration the route can still act on: the one it used before, unless that one was
    cancelled or erased meanwhile (registering afresh for every example would take most of the run)."""
    token = world.tokens.get(endpoint)
    if token is not None:
        with world.app.app_context():
            registration = find_registration(token)
            if registration is not None and why_not_changeable(registration, registration.event) is None:
                return token
    world.tokens[endpoint] = register_test_delegate(world.app, world.event, email=fresh_address())[1]
    return world.tokens[endpoint]


def email_change_key(world: World) -> str:
    """A valid key for /email-change: a registration asks to move to a new address, and its mail holds the key."""
    registration_id, _token = register_test_delegate(world.app, world.event, email=fresh_address())
    with world.app.app_context():
        request_email_change(registration_id, fresh_address())
        message = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))
        return message.details["key"]


@st.composite
def submissions(draw, base: dict):
    """A form body: `base` with fields changed, dropped, doubled or sent as files, and sometimes extra fields."""
    data = MultiDict()
    files = False
    for name, valid in base.items():
        action = draw(st.sampled_from(ACTIONS))
        if action == "keep":
            data.add(name, valid)
        elif action == "odd":
            data.add(name, draw(value))
        elif action == "twice":
            data.add(name, valid)
            data.add(name, draw(value))
        elif action == "file":
            data.add(name, FileStorage(io.BytesIO(draw(st.binary(max_size=64))), filename=draw(text) or "f.txt"))
            files = True
    for name in draw(st.lists(st.one_of(text, st.sampled_from(QUERY_NAMES)), max_size=2)):
        if name:
            data.add(name, draw(value))
    return data, files


@st.composite
def requests(draw, base: dict):
    """Keyword arguments for the test client's open(): a form body most of the time, else JSON or raw bytes."""
    kind = draw(st.sampled_from(["form", "form", "form", "form", "json", "raw"]))
    if kind == "json":
        keys = st.one_of(text, st.sampled_from([*base, "code", "registration_id", "email"]))
        payload = draw(st.one_of(st.just(base), st.dictionaries(keys, json_value, max_size=5), json_value))
        return {"json": payload}
    if kind == "raw":
        content_type = draw(
            st.sampled_from(
                [
                    "application/x-www-form-urlencoded; charset=utf-16",
                    "application/x-www-form-urlencoded; charset=latin-1",
                    "application/x-www-form-urlencoded; charset=no-such-charset",
                    "multipart/form-data",
                    "multipart/form-data; boundary=",
                    "text/plain",
                    "application/json",
                ]
            )
        )
        return {"data": draw(st.binary(max_size=200)), "content_type": content_type}
    data, files = draw(submissions(base))
    if not files:
        return {"data": data}
    # Encoded here, in memory: the test client would spool a large body to a temporary file it never closes.
    boundary, body = encode_multipart(data, boundary="eventreg-fuzz-boundary")
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def check_answer(response, path: str, method: str, forms_say_why: bool = True) -> None:
    """No server error, no rate limit, and every answer says something: a redirect, a page, a form with its errors,
    an error page in the site's layout, or a JSON error under /api/."""
    status = response.status_code
    assert status < 500, response.text[:2000]
    assert status != 429, "rate limits are off in this app"
    if 300 <= status < 400:
        assert response.headers.get("Location")
        return
    assert response.get_data().strip(), "an empty body"
    if path.startswith("/api/") or response.mimetype == "application/json":
        assert response.is_json
        if status >= 400:
            assert str(response.get_json()["error"]).strip()
        return
    if status < 300 and method == "GET":
        return  # a page, a ticket, its QR code, a calendar entry
    assert response.mimetype == "text/html"
    if status >= 400:
        assert '<main id="content"' in response.text  # the site's layout
        assert re.search(r"<h1>\s*\S", response.text)
    elif forms_say_why:
        assert 'role="alert"' in response.text, "a refused form says why"


def registration_accepted(endpoint: str, response) -> bool:
    """Whether the registration form took a submission: every valid one is answered with the "submitted" page."""
    return endpoint == "registration.register" and response.headers.get("Location", "").endswith("/submitted")


def check_rows(before: dict, after: dict, endpoint: str, response) -> None:
    """An accepted registration adds one registration, its audit entry and its mail (or, for an address already
    registered, only the lost-link mail); anything refused adds nothing; any other accepted action adds no
    registration and a row or two (a mail to each address of a changed email, an audit entry) to other tables."""
    added = {table: after[table] - before[table] for table in before if after[table] != before[table]}
    accepted = 300 <= response.status_code < 400
    if registration_accepted(endpoint, response):
        assert added in ({"registration": 1, "audit_entry": 1, "outbox_message": 1}, {"outbox_message": 1}), added
    elif not accepted or endpoint == "registration.register":
        assert not added, f"{endpoint} answered {response.status_code} but wrote {added}"
    else:
        assert "registration" not in added and all(count in (1, 2) for count in added.values()), added


def registration_has_its_mail(app) -> None:
    """The newest registration's one mail is its confirmation."""
    with app.app_context():
        newest = db.session.scalar(select(func.max(Registration.id)))
        mails = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.registration_id == newest)).all()
        assert mails == ["confirmation"]


@pytest.mark.fuzz
@pytest.mark.parametrize(("endpoint", "method"), ROUTES)
@SPOOLED_FILE_LEFT_OPEN
@FUZZ
@given(data=st.data())
def test_no_input_breaks_a_route(world, endpoint, method, data):
    app = world.app
    client = app.test_client()
    rule = rule_of(app, endpoint, method)
    values, query = path_values(world, rule, endpoint)
    form_class = FORMS.get(endpoint)
    base = (lambda path: valid_fields(app, form_class)) if form_class else (lambda path: page_fields(client, path))
    before = row_counts(app)
    path, response = send(data, client, rule, method, values, query, base, world.api_headers)
    check_answer(response, path, method)
    after = row_counts(app)
    check_rows(before, after, endpoint, response)
    if registration_accepted(endpoint, response) and after["registration"] > before["registration"]:
        registration_has_its_mail(app)


def rule_of(app, endpoint: str, method: str):
    return next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint and method in rule.methods)


def send(data, client, rule, method: str, values: dict, query: dict, base, api_headers: dict):
    """Draw odd path values, query arguments, headers and a body for the route, send them; (path, response)."""
    path = rule.build(values)[1]
    if values and data.draw(st.booleans(), label="odd path"):
        name = data.draw(st.sampled_from(sorted(values)), label="argument")
        path = _raw_path(rule, {**values, name: quote(data.draw(value), safe="")[:3000]})
    query = MultiDict(query)
    if method == "GET":  # any of the arguments the app reads, numbers of any size in them
        for name in QUERY_NAMES:
            if data.draw(st.booleans(), label=f"?{name}"):
                query.add(name, data.draw(query_value, label=name))
    for name in data.draw(st.lists(st.one_of(st.sampled_from(QUERY_NAMES), text), max_size=3), label="query"):
        query.add(name, data.draw(value))
    headers = dict(api_headers) if path.startswith("/api/") else {}
    if data.draw(st.integers(0, 9)) == 0:
        headers["Authorization"] = "Bearer " + data.draw(st.one_of(header_value, st.just("evr_")))
    if data.draw(st.integers(0, 9)) == 0:
        headers["Accept-Language"] = data.draw(st.one_of(header_value, st.just("zh-Hant-TW;q=0.9,*;q=0.1")))
    kwargs = data.draw(requests(base(path)), label="body") if method != "GET" else {}
    return path, client.open(path, method=method, query_string=query, headers=headers, **kwargs)


def _raw_path(rule, values: dict) -> str:
    """The rule's path with the values put in as they are (already quoted), for the router to refuse odd ones."""
    return re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda match: str(values[match.group(1)]), rule.rule)


# ---- the organizer pages, logged in as an administrator (every right)

# These would end or change the fuzzing session itself.
ORGANIZER_SKIPPED = {"auth.logout", "auth.account"}


def organizer_routes() -> list[tuple[str, str]]:
    """(endpoint, method) of every route that needs a login."""
    return routes_where(
        lambda _app, endpoint, view: (
            getattr(view, "required_right", None) is not None and endpoint not in ORGANIZER_SKIPPED
        )
    )


@dataclass
class Desk:
    client: object
    event: Event
    ids: dict  # URL argument → the id it takes


@pytest.fixture(scope="module")
def desk(world):
    """An administrator's logged-in client, an event of its own (the public routes keep theirs as they were), and
    a registration, a spare account, a spare API token and a mail for the routes that take ids."""
    app = world.app
    event = create_test_event(app, title="Organizer Fuzz Ceremony", capacity=100_000)
    registration_id, _token = register_test_delegate(app, event, email=fresh_address())
    make_account(app, "fuzz-spare@example.org", "organizer")
    with app.app_context():
        spare = db.session.scalar(select(Organizer).where(Organizer.email == "fuzz-spare@example.org"))
        admin = db.session.scalar(select(Organizer).where(Organizer.email == "fuzz-admin@example.org"))
        token, _raw = create_token(admin, "spare")
        message_id = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.registration_id == registration_id))
        ids = {"registration_id": registration_id, "organizer_id": spare.id, "token_id": token.id}
        ids["message_id"] = message_id
    client = app.test_client()
    login = client.post("/auth/login", data={"email": "fuzz-admin@example.org", "password": "correct horse battery"})
    assert login.status_code == 302
    return Desk(client, event, ids)


def organizer_base(app, endpoint: str, desk: Desk):
    """A valid body for the known organizer forms; the field names on the page for the others."""
    bases = {
        "events.new_event": event_form,
        "events.settings": event_form,
        "attendees.edit_registration_view": lambda: {**valid_fields(app, EditRegistrationForm), "country": "CN"},
        "attendees.bulk_action": lambda: {"ids": str(desk.ids["registration_id"]), "action": "approve"},
        "checkin_json.check_in_json": lambda: {"registration_id": str(desk.ids["registration_id"])},
    }
    if endpoint in bases:
        return lambda path: bases[endpoint]()
    return lambda path: page_fields(desk.client, path)


@pytest.mark.fuzz
@pytest.mark.parametrize(("endpoint", "method"), organizer_routes())
@SPOOLED_FILE_LEFT_OPEN
@FUZZ
@given(data=st.data())
def test_no_input_breaks_an_organizer_page(world, desk, endpoint, method, data):
    app = world.app
    rule = rule_of(app, endpoint, method)
    values = {name: desk.ids.get(name, 1) for name in rule.arguments} | (
        {"slug": desk.event.slug} if "slug" in rule.arguments else {}
    )
    before = row_counts(app)
    path, response = send(data, desk.client, rule, method, values, {}, organizer_base(app, endpoint, desk), {})
    assert response.status_code not in (401, 302) or "/auth/login" not in response.headers.get("Location", "")
    check_answer(response, path, method, forms_say_why=False)
    after = row_counts(app)
    assert after["registration"] == before["registration"]  # organizer pages never add a registration
    if response.status_code >= 400:
        assert after == before, f"{endpoint} answered {response.status_code} but wrote rows"


# ---- numbers of any size in every query argument of every GET route, one argument at a time (an argument that
# is refused first, as ?state=9 on the outbox, would hide what another one does)

# Past any OFFSET a database takes; and below zero, longer than Python's int() converts (4,300 digits).
EXTREME_NUMBERS = ["999999999999999999", "-" + "9" * 5_000]


def sweep_query_numbers(client, path: str, query: dict, headers: dict) -> None:
    """Every known query argument with every extreme number, on one route: never a 500, always a clear answer."""
    for name, number in itertools.product(QUERY_NAMES, EXTREME_NUMBERS):
        response = client.get(path, query_string=MultiDict({**query, name: number}), headers=headers)
        assert response.status_code < 500, f"?{name}={number[:30]} answered {response.status_code}"
        check_answer(response, path, "GET")


@pytest.mark.parametrize("endpoint", [endpoint for endpoint, method in ROUTES if method == "GET"])
def test_no_number_in_the_query_breaks_a_public_or_api_route(world, endpoint):
    rule = rule_of(world.app, endpoint, "GET")
    values, query = path_values(world, rule, endpoint)
    path = rule.build(values)[1]
    headers = world.api_headers if path.startswith("/api/") else {}
    sweep_query_numbers(world.app.test_client(), path, query, headers)


@pytest.mark.parametrize("endpoint", [endpoint for endpoint, method in organizer_routes() if method == "GET"])
def test_no_number_in_the_query_breaks_an_organizer_page(world, desk, endpoint):
    rule = rule_of(world.app, endpoint, "GET")
    values = {name: desk.ids.get(name, 1) for name in rule.arguments} | (
        {"slug": desk.event.slug} if "slug" in rule.arguments else {}
    )
    sweep_query_numbers(desk.client, rule.build(values)[1], {}, {})


# ---- what the fuzzing found, kept as plain tests


@pytest.mark.parametrize("left_out", ["family_name", "native_name", "position", "dietary", "accessibility"])
def test_an_optional_field_left_out_of_the_request_is_empty_not_a_crash(app, client, make_event, left_out):
    """A browser always sends every field; a hand-made request may not, and WTForms then leaves it None."""
    event = make_event()
    response = client.post(f"/e/{event.slug}/register", data=form(**{left_out: None}))
    assert response.status_code == 303  # to the "submitted" page
    with app.app_context():
        assert getattr(db.session.scalar(select(Registration)), left_out) == ""
