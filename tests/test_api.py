"""The JSON API against its OpenAPI description: every documented route called for real and its answer checked
against the documented schema, every API route documented, and tokens, rights, pagination and filters."""

import json
from datetime import UTC, datetime

import pytest
from flask import abort
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from eventreg import stats
from eventreg.api.views import DEFAULT_PER_PAGE, MAX_PER_PAGE, OPENAPI_FILE
from eventreg.auth.access import public
from eventreg.auth.services import create_organizer
from eventreg.auth.tokens import create_token, revoke_token, tokens_of
from eventreg.extensions import db
from eventreg.models import ROLE_RIGHTS, Event, Organizer, Registration, Right, event_organizer

SPEC = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
SPEC_URI = "urn:eventreg:openapi"
REGISTRY = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))
PASSWORD = "correct horse battery"


def pointer(*parts: str) -> str:
    """A JSON pointer into the OpenAPI document."""
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def check(response, path: str, status: int) -> None:
    """The response has the status and the JSON body that openapi.json documents for `path`."""
    assert response.status_code == status, response.text
    assert response.mimetype == "application/json"
    documented = SPEC["paths"][path]["get"]["responses"][str(status)]
    if "$ref" in documented:
        documented = SPEC["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    schema_ref = {"$ref": f"{SPEC_URI}#/{pointer(*_schema_location(path, status))}"}
    assert documented["content"]["application/json"]["schema"]
    Draft202012Validator(schema_ref, registry=REGISTRY).validate(response.get_json())


def _schema_location(path: str, status: int) -> tuple[str, ...]:
    response = SPEC["paths"][path]["get"]["responses"][str(status)]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[1]
        return ("components", "responses", name, "content", "application/json", "schema")
    return ("paths", path, "get", "responses", str(status), "content", "application/json", "schema")


def make_account(app, email, role="organizer", events=()) -> dict:
    """An organizer assigned to `events`, with a live API token: headers to send it."""
    with app.app_context():
        organizer = create_organizer(email, PASSWORD, role)
        for event in events:
            db.session.execute(event_organizer.insert().values(event_id=event.id, organizer_id=organizer.id))
        db.session.commit()
        _token, raw = create_token(db.session.get(Organizer, organizer.id), "tests")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def world(app, make_event, make_registration):
    """Two events, registrations with names in three scripts, an admin token and an organizer's token for one."""
    event = make_event(capacity=100)
    other = make_event(title="Another Ceremony")
    make_registration(
        event,
        email="bai@example.org",
        family_name="Bai",
        dietary="Vegetarian",
        accessibility="Wheelchair",
        visa_letter=True,
        accompanying=1,
    )
    make_registration(event, email="ivanova@example.org", given_name="Ирина", family_name="Иванова", country="RU")
    make_registration(event, email="ali@example.org", given_name="محمد", family_name="العلي", country="EG")
    cancelled, _ = make_registration(event, email="dupont@example.org", family_name="Dupont", country="FR")
    with app.app_context():
        registration = db.session.get(Registration, cancelled)
        registration.status = "cancelled"
        registration.checked_in_at = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
        db.session.commit()
    make_registration(other, email="someone@example.org")
    return {
        "event": event,
        "other": other,
        "admin": make_account(app, "admin@example.org", "admin"),
        "organizer": make_account(app, "organizer@example.org", "organizer", events=[event]),
    }


def documented_paths():
    return sorted(SPEC["paths"])


def concrete(path: str, slug: str) -> str:
    return "/api/v1" + path.replace("{slug}", slug)


@pytest.mark.parametrize("path", documented_paths())
def test_every_documented_route_answers_as_documented(client, world, path):
    headers = {} if SPEC["paths"][path]["get"].get("security") == [] else world["organizer"]
    response = client.get(concrete(path, world["event"].slug), headers=headers)
    if path == "/openapi.json":
        assert response.status_code == 200 and response.get_json() == SPEC
        return
    check(response, path, 200)


@pytest.mark.parametrize("path", [path for path in documented_paths() if path != "/openapi.json"])
def test_every_documented_error_answers_as_documented(app, client, world, path):
    slug = world["event"].slug
    documented = set(SPEC["paths"][path]["get"]["responses"]) - {"200"}
    exercised = {"401"}
    check(client.get(concrete(path, slug)), path, 401)
    # A role without the API right: its token (made while it had one) is refused.
    headers = make_account(app, "desk@example.org", "organizer", events=[world["event"]])
    with app.app_context():
        db.session.scalar(db.select(Organizer).where(Organizer.email == "desk@example.org")).role = "checkin"
        db.session.commit()
    check(client.get(concrete(path, slug), headers=headers), path, 403)
    exercised.add("403")
    if "{slug}" in path:
        # Another organizer's event: 403, as on the organizer pages (slugs are public); no such event: 404.
        check(client.get(concrete(path, world["other"].slug), headers=world["organizer"]), path, 403)
        check(client.get(concrete(path, "no-such-event"), headers=world["organizer"]), path, 404)
        exercised.add("404")
    if path in paged_paths():
        check(client.get(concrete(path, slug) + "?per_page=0", headers=world["organizer"]), path, 400)
        exercised.add("400")
    assert documented == exercised


def paged_paths() -> list[str]:
    """The documented lists that come in pages: those that take `per_page`."""
    per_page = {"$ref": "#/components/parameters/PerPage"}
    return [path for path in documented_paths() if per_page in SPEC["paths"][path]["get"].get("parameters", [])]


def test_the_paged_lists_are_the_registrations_and_the_messages():
    assert paged_paths() == ["/events/{slug}/messages", "/events/{slug}/registrations"]
    schema = SPEC["components"]["parameters"]["PerPage"]["schema"]
    assert (schema["minimum"], schema["maximum"], schema["default"]) == (1, MAX_PER_PAGE, DEFAULT_PER_PAGE)


@pytest.mark.parametrize("path", paged_paths())
@pytest.mark.parametrize("per_page", ["0", "201", "-1", "%2B2", "2.5", "x", "١", "9" * 5000])
def test_every_paged_list_refuses_a_page_size_out_of_range_with_the_same_problem(client, world, path, per_page):
    response = client.get(f"{concrete(path, world['event'].slug)}?per_page={per_page}", headers=world["organizer"])
    check(response, path, 400)
    assert response.get_json()["problems"] == ["per_page must be a whole number from 1 to 200."]


@pytest.mark.parametrize("path", paged_paths())
@pytest.mark.parametrize(("per_page", "served"), [("", 50), ("1", 1), ("007", 7), ("200", 200)])
def test_every_paged_list_says_its_page_size(client, world, path, per_page, served):
    response = client.get(f"{concrete(path, world['event'].slug)}?per_page={per_page}", headers=world["organizer"])
    check(response, path, 200)
    assert response.get_json()["per_page"] == served


def test_every_api_route_is_documented(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            assert rule.rule.startswith("/api/v1/")
            path = rule.rule.removeprefix("/api/v1")
            for name in rule.arguments:
                path = path.replace(f"<slug:{name}>", f"{{{name}}}")
            routes.add(path)
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, rule.rule
    assert routes == set(SPEC["paths"])


def test_the_description_is_a_sound_openapi_document():
    assert SPEC["openapi"].startswith("3.1")
    assert SPEC["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": SPEC["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for schema in SPEC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for path, item in SPEC["paths"].items():
        operation = item["get"]
        assert operation["operationId"] and operation["summary"], path
        assert "200" in operation["responses"], path


def test_the_description_is_public_and_cacheable(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_stats_are_the_dashboards_numbers(app, client, world):
    response = client.get(f"/api/v1/events/{world['event'].slug}/stats", headers=world["organizer"])
    with app.app_context(), app.test_request_context():
        expected = stats.event_report(db.session.get(Event, world["event"].id))
    assert response.get_json() == json.loads(json.dumps(expected))
    body = response.get_json()
    assert body["totals_by_status"]["confirmed"] == 3 and body["totals_by_status"]["cancelled"] == 1
    assert body["registrations"] == 4
    assert body["seats_taken"] == 4  # three confirmed delegates, one accompanying person
    assert body["countries_represented"] == 3


def test_events_are_those_the_token_may_run(client, world):
    def slugs(headers):
        return [item["slug"] for item in client.get("/api/v1/events", headers=headers).get_json()["items"]]

    assert slugs(world["organizer"]) == [world["event"].slug]
    assert sorted(slugs(world["admin"])) == sorted([world["event"].slug, world["other"].slug])
    assert client.get(f"/api/v1/events/{world['other'].slug}", headers=world["admin"]).status_code == 200


def test_an_event_is_described(client, world):
    body = client.get(f"/api/v1/events/{world['event'].slug}", headers=world["organizer"]).get_json()
    assert body["title"] == "Inaugural Ceremony"
    assert body["capacity"] == 100 and body["timezone"] == "Asia/Shanghai"
    assert body["links"]["registrations"].endswith(f"/api/v1/events/{world['event'].slug}/registrations")


def registrations(client, world, query="", headers=None):
    response = client.get(
        f"/api/v1/events/{world['event'].slug}/registrations?{query}", headers=headers or world["organizer"]
    )
    return response


def test_registrations_carry_every_field_and_names_in_any_script(client, world):
    body = registrations(client, world, "sort=name").get_json()
    assert body["total"] == 4 and body["page"] == 1 and body["pages"] == 1 and body["per_page"] == 50
    by_email = {item["email"]: item for item in body["items"]}
    assert (by_email["ivanova@example.org"]["given_name"], by_email["ivanova@example.org"]["family_name"]) == (
        "Ирина",
        "Иванова",
    )
    assert by_email["ali@example.org"]["family_name"] == "العلي"
    bai = by_email["bai@example.org"]
    assert bai["native_name"] == "白春礼" and bai["country_name"] == "China"
    assert (bai["continent"], bai["subregion"]) == ("Asia", "Eastern Asia")
    assert (bai["dietary"], bai["accessibility"], bai["visa_letter"], bai["accompanying"]) == (
        "Vegetarian",
        "Wheelchair",
        True,
        1,
    )
    assert by_email["dupont@example.org"]["checked_in_at"] == "2027-03-01T02:00:00Z"


def test_private_fields_only_for_roles_that_may_see_them(app, client, world, monkeypatch):
    rights = ROLE_RIGHTS["organizer"] - {Right.SEE_DIETARY, Right.SEE_ACCESS_NEEDS}
    monkeypatch.setitem(ROLE_RIGHTS, "organizer", rights)
    response = registrations(client, world)
    check(response, "/events/{slug}/registrations", 200)
    for item in response.get_json()["items"]:
        assert "dietary" not in item and "accessibility" not in item
    for item in registrations(client, world, headers=world["admin"]).get_json()["items"]:
        assert "dietary" in item and "accessibility" in item


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=RU", ["ivanova@example.org"]),
        ("continent=Africa", ["ali@example.org"]),
        ("status=cancelled", ["dupont@example.org"]),
        ("visa_letter=yes", ["bai@example.org"]),
        ("accompanying=yes", ["bai@example.org"]),
        ("checked_in=yes", ["dupont@example.org"]),
        ("q=иванова", ["ivanova@example.org"]),
        ("q=ИРИНА", ["ivanova@example.org"]),
        ("q=zzz", []),
    ],
)
def test_filters_are_the_attendee_lists(client, world, query, expected):
    body = registrations(client, world, query).get_json()
    assert sorted(item["email"] for item in body["items"]) == expected
    assert body["total"] == len(expected)


def test_sort_by_name(client, world):
    items = registrations(client, world, "sort=name").get_json()["items"]
    names = [item["family_name"] for item in items]
    assert names == ["Bai", "Dupont", "Иванова", "العلي"]


def test_pages(client, world):
    seen = []
    for page in (1, 2):
        body = registrations(client, world, f"sort=name&per_page=3&page={page}").get_json()
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 3, 4, 2)
        seen += [item["id"] for item in body["items"]]
    assert len(seen) == len(set(seen)) == 4
    past = registrations(client, world, "per_page=3&page=3").get_json()
    assert past["items"] == [] and past["total"] == 4
    assert registrations(client, world, "per_page=200").status_code == 200


@pytest.mark.parametrize(
    ("page", "served"),
    [
        ("0", 1),
        ("-3", 1),
        ("-99999999999999999999999", 1),
        ("abc", 1),
        ("1.5", 1),
        ("١", 1),  # Arabic-Indic digit one
        ("", 1),
        ("007", 7),
        ("999999999999999999", 1_000_000),
        ("9" * 5000, 1_000_000),
    ],
)
def test_the_page_number_is_clamped(client, world, page, served):
    """Any page number is read (none is refused); the answer says which page it is, and past the last it is empty."""
    response = registrations(client, world, f"sort=name&per_page=3&page={page}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["total"], body["pages"]) == (served, 4, 2)
    assert (len(body["items"]) == 3) if served == 1 else body["items"] == []


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("per_page=201", "per_page must be a whole number from 1 to 200."),
        ("per_page=0", "per_page must be a whole number from 1 to 200."),
        ("per_page=-5", "per_page must be a whole number from 1 to 200."),
        ("per_page=" + "9" * 5000, "per_page must be a whole number from 1 to 200."),
        ("status=lost", "The filter status=lost is not understood"),
        ("continent=Atlantis", "The filter continent=Atlantis is not understood"),
        ("sort=age", "The filter sort=age is not understood"),
    ],
)
def test_bad_page_sizes_and_filters_answer_400_with_the_problem(client, world, query, problem):
    response = registrations(client, world, query)
    check(response, "/events/{slug}/registrations", 400)
    assert any(message.startswith(problem) for message in response.get_json()["problems"])


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer evr_garbage", "Basic dXNlcjpwYXNz", "Bearer " + "evr_" + "x" * 200],
)
def test_missing_or_garbage_tokens_answer_401(client, world, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api/v1/events", headers=headers)
    check(response, "/events", 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_answers_401(app, client, world):
    raw = world["organizer"]["Authorization"].removeprefix("Bearer ")
    assert client.get("/api/v1/events", headers=world["organizer"]).status_code == 200
    with app.app_context():
        organizer = db.session.scalar(db.select(Organizer).where(Organizer.email == "organizer@example.org"))
        token = tokens_of(organizer)[0]
        assert revoke_token(organizer, token.id) is not None
    check(client.get("/api/v1/events", headers={"Authorization": f"Bearer {raw}"}), "/events", 401)


def test_a_deactivated_account_answers_401(app, client, world):
    with app.app_context():
        db.session.scalar(db.select(Organizer).where(Organizer.email == "organizer@example.org")).active = False
        db.session.commit()
    check(client.get("/api/v1/events", headers=world["organizer"]), "/events", 401)


def test_the_api_sets_no_cookie_and_is_never_cached(client, world):
    response = client.get(f"/api/v1/events/{world['event'].slug}/registrations", headers=world["organizer"])
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("method", "status"), [("POST", 405), ("DELETE", 405), ("PUT", 405)])
def test_other_methods_answer_json(client, world, method, status):
    response = client.open("/api/v1/events", method=method, headers=world["organizer"])
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"]
    assert response.headers["Allow"]


def test_unknown_api_addresses_answer_json_404(client, world):
    response = client.get("/api/v1/nothing-here", headers=world["organizer"])
    assert response.status_code == 404
    assert set(response.get_json()) == {"error"}


@pytest.mark.parametrize("status", [400, 403, 404, 405, 413, 429, 500])
def test_every_error_under_the_api_is_json(app, client, status):
    def fail(code):
        abort(code)

    app.add_url_rule("/api/v1/test-failure/<int:code>", "test_failure", public(fail))
    response = client.get(f"/api/v1/test-failure/{status}")
    assert response.status_code == status
    assert response.is_json
    Draft202012Validator(SPEC["components"]["schemas"]["Error"]).validate(response.get_json())
    assert "<html" not in response.text


def test_sort_by_country_follows_the_english_names_the_api_gives(client, world):
    """The API names countries and regions in English whatever Accept-Language asks, so it sorts by those names too
    (in Chinese the order would be 埃及, 俄罗斯, 法国, 中国: Egypt, Russia, France, China)."""
    headers = {**world["organizer"], "Accept-Language": "zh-CN"}
    items = registrations(client, world, "sort=country", headers=headers).get_json()["items"]
    assert [item["country_name"] for item in items] == ["China", "Egypt", "France", "Russia"]
