"""What organizers see of the waiting list: places in the attendee list, on a registration's page, in the API,
and a tile on the dashboard."""

import re

from tests.test_api import check, make_account


def waiting_event(make_event, make_registration):
    """An event with one seat: one confirmed delegate and three on the waiting list (ids in registration order)."""
    event = make_event(capacity=1)
    ids = [make_registration(event, email=f"d{n}@example.org", family_name=f"Person{n}")[0] for n in range(4)]
    return event, ids


def test_the_attendee_list_shows_each_waiting_place(logged_in, make_event, make_registration):
    event, ids = waiting_event(make_event, make_registration)
    page = logged_in.get(f"/organizer/events/{event.slug}/registrations?status=waitlisted&sort=date").text
    rows = re.findall(r'<tr data-id="(\d+)">.*?badge-waitlisted">([^<]*)<', page, re.S)
    assert [(int(row_id), " ".join(label.split())) for row_id, label in rows] == [
        (ids[1], "Waitlisted #1"),
        (ids[2], "Waitlisted #2"),
        (ids[3], "Waitlisted #3"),
    ]


def test_a_registration_page_shows_its_place(logged_in, make_event, make_registration):
    event, ids = waiting_event(make_event, make_registration)
    page = logged_in.get(f"/organizer/events/{event.slug}/registrations/{ids[2]}").text
    assert "Place 2 on the waiting list" in page
    assert "waitlist-place" not in logged_in.get(f"/organizer/events/{event.slug}/registrations/{ids[0]}").text


def test_the_dashboard_links_the_waiting_list(logged_in, make_event, make_registration):
    event, _ids = waiting_event(make_event, make_registration)
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    tile = re.search(r'<a class="figure" id="waiting-list" href="([^"]*)">(\d+)</a>', page)
    assert tile.group(2) == "3"
    assert "status=waitlisted" in tile.group(1)


def test_the_api_gives_the_waiting_place(app, client, make_event, make_registration):
    event, ids = waiting_event(make_event, make_registration)
    headers = make_account(app, "api@example.org", role="admin")
    response = client.get(f"/api/v1/events/{event.slug}/registrations?sort=date", headers=headers)
    check(response, "/events/{slug}/registrations", 200)
    places = {item["id"]: item["waitlist_position"] for item in response.get_json()["items"]}
    assert places == {ids[0]: None, ids[1]: 1, ids[2]: 2, ids[3]: 3}


def test_cancelling_tells_the_organizer_who_moved_up(logged_in, make_event, make_registration):
    event, ids = waiting_event(make_event, make_registration)
    url = f"/organizer/events/{event.slug}/registrations/{ids[0]}"
    page = logged_in.post(f"{url}/cancel", follow_redirects=True).text
    assert "1 delegate moved up from the waiting list into the freed seats and was emailed." in page


def test_a_bulk_cancel_counts_who_moved_up(logged_in, make_event, make_registration):
    event, ids = waiting_event(make_event, make_registration)
    page = logged_in.post(
        f"/organizer/events/{event.slug}/registrations/bulk",
        data={"action": "cancel", "ids": [ids[0], ids[3]], "confirmed": "yes"},
        follow_redirects=True,
    ).text
    assert "2 cancelled and 1 promoted from the waiting list" in page
