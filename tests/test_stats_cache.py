"""The stats cache never keeps numbers computed while a registration was committed: on PostgreSQL each statement
of a report reads the latest commit, so such a report is half before the commit and half after it."""

from eventreg.stats import tallies
from tests.test_stats import report_of


def test_a_registration_committed_while_the_report_is_computed_shows_in_the_next_request(
    app, make_event, make_registration, monkeypatch
):
    event = make_event()
    make_registration(event, email="first@example.org", country="FR")
    count_categories = tallies.delegates_per_category
    committed = []

    def commit_a_registration_first(event_id):
        """The report's second aggregate, after its totals were counted: another session commits a registration."""
        if not committed:
            committed.append(make_registration(event, email="midway@example.org", country="KE"))
        return count_categories(event_id)

    monkeypatch.setattr(tallies, "delegates_per_category", commit_a_registration_first)
    report_of(app, event)
    assert committed
    report = report_of(app, event)
    assert report["registrations"] == 2
    assert report["totals_by_status"]["confirmed"] == 2
    assert sorted(row["code"] for row in report["by_country"]) == ["FR", "KE"]
    assert [row["count"] for row in report["by_category"]] == [2]
