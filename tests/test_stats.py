"""The numbers of eventreg.stats for a known data set, and the cache that must never serve a stale one."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import update

from eventreg import stats
from eventreg.extensions import db
from eventreg.models import Event, Registration
from eventreg.stats import cache as stats_cache
from eventreg.stats.cache import app_cache

REPORT_KEYS = {
    "event",
    "totals_by_status",
    "registrations",
    "seats_taken",
    "capacity",
    "seats_left",
    "countries_represented",
    "accompanying_persons",
    "visa_letters_requested",
    "by_country",
    "by_continent",
    "by_category",
    "top_institutions",
    "daily",
    "checked_in",
}


def utc(text: str) -> datetime:
    """An aware UTC datetime from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def change(app, registration_id: int, **fields) -> None:
    """Set fields of one registration and commit, as an organizer's edit would."""
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        for name, value in fields.items():
            setattr(registration, name, value)
        db.session.commit()


def report_of(app, event) -> dict:
    """The event's report, read in a request of its own (English)."""
    with app.test_request_context():
        return stats.event_report(db.session.get(Event, event.id))


# (email, country, arrived UTC, status, extra fields) — the event is in Shanghai (UTC+8, no DST).
KNOWN = [
    ("a@example.org", "CN", "2027-03-01 15:59", "confirmed", {"accompanying": 2, "visa_letter": True}),  # 23:59, 1 Mar
    ("b@example.org", "CN", "2027-03-01 16:00", "confirmed", {"category": "speaker"}),  # 00:00, 2 Mar local
    ("c@example.org", "JP", "2027-03-01 23:30", "pending", {"visa_letter": True}),  # 07:30, 2 Mar
    ("d@example.org", "IN", "2027-03-03 17:00", "confirmed", {"institution": "IISc"}),  # 01:00, 4 Mar (3 Mar empty)
    ("e@example.org", "FR", "2027-03-03 18:00", "confirmed", {"category": "press"}),  # 02:00, 4 Mar
    ("f@example.org", "DE", "2027-03-03 19:00", "confirmed", {"checked_in_at": utc("2027-04-01 01:00")}),
    ("g@example.org", "BR", "2027-03-03 20:00", "cancelled", {"accompanying": 3, "visa_letter": True}),
    ("h@example.org", "BR", "2027-03-04 20:00", "waitlisted", {}),  # 04:00, 5 Mar; holds no seat
]


@pytest.fixture
def known(app, make_event, make_registration):
    """The KNOWN registrations in a Shanghai event with 100 seats; returns the event and the ids."""
    event = make_event(capacity=100, timezone="Asia/Shanghai")
    ids = {}
    for email, country, arrived, status, extra in KNOWN:
        details = {
            key: extra[key] for key in ("accompanying", "visa_letter", "category", "institution") if key in extra
        }
        ids[email], _ = make_registration(event, email=email, country=country, **details)
        change(app, ids[email], created_at=utc(arrived), status=status, checked_in_at=extra.get("checked_in_at"))
    return event, ids


def test_report_has_exactly_the_documented_keys(app, known):
    event, _ = known
    report = report_of(app, event)
    assert set(report) == REPORT_KEYS
    assert set(report["event"]) == {"slug", "title", "starts_at", "ends_at", "timezone", "capacity"}
    assert report["event"]["starts_at"].endswith("Z") and report["event"]["timezone"] == "Asia/Shanghai"


def test_totals_seats_and_extras(app, known):
    event, _ = known
    report = report_of(app, event)
    assert report["totals_by_status"] == {"confirmed": 5, "pending": 1, "waitlisted": 1, "cancelled": 1, "rejected": 0}
    assert report["registrations"] == 8
    assert report["seats_taken"] == 6 + 2  # six seat-holding delegates, two accompanying a@
    assert (report["capacity"], report["seats_left"]) == (100, 92)
    assert report["accompanying_persons"] == 2  # the cancelled delegate's three do not count
    assert report["visa_letters_requested"] == 2  # a@ and the pending c@, not the cancelled g@
    assert report["checked_in"] == 1
    assert report["countries_represented"] == 5  # CN JP IN FR DE; Brazil only cancelled or waitlisted


def test_countries_categories_institutions(app, known):
    event, _ = known
    report = report_of(app, event)
    assert [(row["code"], row["count"]) for row in report["by_country"]] == [
        ("CN", 2),
        ("FR", 1),
        ("DE", 1),
        ("IN", 1),
        ("JP", 1),
    ]
    china = report["by_country"][0]
    assert china["name"] == "China" and china["share"] == pytest.approx(2 / 6)
    assert report["by_category"] == [
        {"category": "delegate", "name": "Delegate", "count": 4},
        {"category": "press", "name": "Press", "count": 1},
        {"category": "speaker", "name": "Speaker", "count": 1},
    ]
    assert report["top_institutions"] == [
        {"institution": "Chinese Academy of Sciences", "count": 5},
        {"institution": "IISc", "count": 1},
    ]


def test_continents_fold_countries_into_m49_subregions(app, known):
    event, _ = known
    assert report_of(app, event)["by_continent"] == [
        {
            "continent": "Asia",
            "name": "Asia",
            "count": 4,
            "subregions": [
                {"subregion": "Eastern Asia", "name": "Eastern Asia", "count": 3},
                {"subregion": "Southern Asia", "name": "Southern Asia", "count": 1},
            ],
        },
        {
            "continent": "Europe",
            "name": "Europe",
            "count": 2,
            "subregions": [{"subregion": "Western Europe", "name": "Western Europe", "count": 2}],
        },
    ]


def test_daily_series_counts_local_days_with_empty_days_and_every_status(app, known):
    event, _ = known
    assert report_of(app, event)["daily"] == [
        {"date": "2027-03-01", "registrations": 1, "cumulative": 1},
        {"date": "2027-03-02", "registrations": 2, "cumulative": 3},
        {"date": "2027-03-03", "registrations": 0, "cumulative": 3},
        {"date": "2027-03-04", "registrations": 4, "cumulative": 7},
        {"date": "2027-03-05", "registrations": 1, "cumulative": 8},
    ]


@pytest.mark.parametrize(
    ("timezone", "expected"),
    [
        # 18:20 and 18:40 UTC share an hour, but not a day in India (+5:30): 23:50 and 00:10.
        ("Asia/Kolkata", [("2027-03-01", 1), ("2027-03-02", 1)]),
        # Nepal (+5:45): 00:05 and 00:25 on 2 March.
        ("Asia/Kathmandu", [("2027-03-02", 2)]),
        # New York (-5): 13:20 and 13:40 on 1 March.
        ("America/New_York", [("2027-03-01", 2)]),
    ],
)
def test_daily_series_follows_half_and_quarter_hour_timezones(app, make_event, make_registration, timezone, expected):
    event = make_event(timezone=timezone)
    for email, arrived in (("x@example.org", "2027-03-01 18:20"), ("y@example.org", "2027-03-01 18:40")):
        registration_id, _ = make_registration(event, email=email)
        change(app, registration_id, created_at=utc(arrived))
    daily = report_of(app, event)["daily"]
    assert [(row["date"], row["registrations"]) for row in daily] == expected


def test_an_event_without_registrations(app, make_event):
    event = make_event()
    report = report_of(app, event)
    assert report["daily"] == [] and report["by_country"] == [] and report["by_continent"] == []
    assert (report["registrations"], report["seats_taken"], report["capacity"], report["seats_left"]) == (
        0,
        0,
        None,
        None,
    )


def test_public_counter_counts_confirmed_delegates_only(app, known):
    event, _ = known
    with app.test_request_context():
        counter = stats.public_counter(db.session.get(Event, event.id))
    assert counter["participants"] == 5 and counter["countries"] == 4  # c@ (JP) is only pending
    assert [(row["code"], row["count"]) for row in counter["by_country"]] == [
        ("CN", 2),
        ("FR", 1),
        ("DE", 1),
        ("IN", 1),
    ]


# ---- the cache


class Statements:
    """Records the SQL statements sent to the database while active."""

    def __init__(self, engine):
        self.engine, self.sql = engine, []

    def _count(self, connection, cursor, statement, *args):
        self.sql.append(statement)

    def __enter__(self):
        sa_event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        sa_event.remove(self.engine, "before_cursor_execute", self._count)


def test_a_second_report_comes_from_the_cache(app, known):
    event, _ = known
    first = report_of(app, event)
    with app.app_context(), Statements(db.engine) as statements:
        second = report_of(app, event)
    assert second == first
    assert not [sql for sql in statements.sql if "GROUP BY" in sql or "count(" in sql.lower()]
    assert "SELECT event.stats_version \nFROM event" in statements.sql[-1]  # the version, read afresh
    second["by_country"].clear()
    assert report_of(app, event)["by_country"]  # callers get their own copy


def test_a_registration_an_edit_and_a_status_change_each_show_at_once(app, known, make_registration):
    event, ids = known
    before = report_of(app, event)
    make_registration(event, email="new@example.org", country="KE", accompanying=1)
    after_registration = report_of(app, event)
    assert after_registration["registrations"] == before["registrations"] + 1
    assert after_registration["seats_taken"] == before["seats_taken"] + 2
    assert ("KE", 1) in [(row["code"], row["count"]) for row in after_registration["by_country"]]

    change(app, ids["e@example.org"], country="JP", accompanying=4)
    after_edit = report_of(app, event)
    countries = {row["code"]: row["count"] for row in after_edit["by_country"]}
    assert "FR" not in countries and countries["JP"] == 2
    assert after_edit["accompanying_persons"] == after_registration["accompanying_persons"] + 4

    change(app, ids["a@example.org"], status="cancelled")
    after_cancel = report_of(app, event)
    assert after_cancel["totals_by_status"]["cancelled"] == 2
    assert after_cancel["seats_taken"] == after_edit["seats_taken"] - 3
    assert after_cancel["visa_letters_requested"] == after_edit["visa_letters_requested"] - 1


def test_an_event_edit_shows_at_once(app, known):
    event, _ = known
    report_of(app, event)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        stored.capacity, stored.timezone = 10, "America/New_York"
        db.session.commit()
    report = report_of(app, event)
    assert (report["capacity"], report["seats_left"]) == (10, 2)
    assert report["daily"][0]["date"] == "2027-03-01"  # 10:59 in New York
    assert report["daily"][-1]["date"] == "2027-03-04"  # 15:00 in New York


def test_uncommitted_changes_never_reach_the_cache(app, known, make_registration):
    event, ids = known
    report_of(app, event)
    with app.test_request_context():
        stored = db.session.get(Event, event.id)
        db.session.get(Registration, ids["b@example.org"]).country = "US"
        db.session.flush()
        inside = stats.event_report(stored)  # this transaction sees its own change…
        assert "US" in [row["code"] for row in inside["by_country"]]
        db.session.rollback()  # …which never happens
        assert "US" not in [row["code"] for row in stats.event_report(stored)["by_country"]]
    # A different change, committed, reaches the version the rolled-back one had: its numbers, not those.
    change(app, ids["b@example.org"], country="MX")
    codes = [row["code"] for row in report_of(app, event)["by_country"]]
    assert "MX" in codes and "US" not in codes


def test_bulk_statements_move_the_version_on(app, known):
    event, _ = known
    report_of(app, event)
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.country == "CN").values(country="TW"))
        db.session.commit()
    codes = [row["code"] for row in report_of(app, event)["by_country"]]
    assert "TW" in codes and "CN" not in codes


def test_the_cache_is_bounded_and_per_app(app, known, monkeypatch):
    monkeypatch.setattr(stats_cache, "CACHE_SIZE", 2)
    with app.app_context():
        cache = app_cache()
        for key in "abc":
            cache[key] = key.upper()
        assert (len(cache), cache.get("a"), cache.get("c")) == (2, None, "C")
        cache.clear()
    event, _ = known
    report_of(app, event)
    with app.app_context():
        assert len(app_cache()) == 1
