"""The dashboard's invitation figures: invited, registered, declined and not answered, from one GROUP BY, shown only
for an event that has invitations or is by invitation."""

import re

import pytest
from playwright.sync_api import expect

from eventreg.auth.services import create_organizer
from eventreg.extensions import db
from eventreg.models import Event, Invitation, InvitationStatus
from eventreg.stats.invitations import invitation_counts, invitation_totals
from tests.browser import log_in
from tests.conftest import create_test_event
from tests.test_accessibility import DESKTOP, PHONE, WCAG_TAGS, violations

# Two invitations in each status but one: 1 not sent, 2 sent, 2 link opened, 3 registered, 1 declined, 2 failed.
KNOWN = {
    InvitationStatus.NOT_SENT: 1,
    InvitationStatus.SENT: 2,
    InvitationStatus.OPENED: 2,
    InvitationStatus.REGISTERED: 3,
    InvitationStatus.DECLINED: 1,
    InvitationStatus.FAILED: 2,
}


def invite(app, event, statuses: dict[str, int], prefix: str = "guest") -> None:
    """Invitations to `event` in the given statuses, written as rows (the invitation pages are another package's)."""
    with app.app_context():
        number = 0
        for status, count in statuses.items():
            for _ in range(count):
                number += 1
                db.session.add(Invitation(event_id=event.id, email=f"{prefix}{number}@example.org", status=status))
        db.session.commit()


def figure(page: str, key: str) -> str:
    """The number shown in the dashboard's invitation tile `key`."""
    return re.search(rf'id="invitations-{key}"[^>]*>([\d,]+)<', page).group(1)


def test_counts_per_status_and_totals(app, make_event):
    event, other = make_event(), make_event(title="Another Ceremony")
    invite(app, event, KNOWN)
    invite(app, other, {InvitationStatus.DECLINED: 4})
    with app.app_context():
        counts = invitation_counts(event.id)
        assert counts == {status.value: KNOWN[status] for status in InvitationStatus}
        assert invitation_totals(counts) == {"invited": 11, "registered": 3, "declined": 1, "not_answered": 7}
        assert invitation_totals(invitation_counts(other.id)) == {
            "invited": 4,
            "registered": 0,
            "declined": 4,
            "not_answered": 0,
        }


def test_dashboard_shows_the_invitation_figures(app, logged_in, make_event):
    event = make_event()
    invite(app, event, KNOWN)
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    assert [figure(page, key) for key in ("invited", "registered", "declined", "not-answered")] == ["11", "3", "1", "7"]
    assert "Invitations not answered" in page


def test_the_figures_follow_a_status_change_at_once(app, logged_in, make_event):
    """Invitation statuses change without a registration (the worker sends, the invitee declines), so the figures
    must not come from the registrations' cache."""
    event = make_event()
    invite(app, event, {InvitationStatus.SENT: 2})
    assert figure(logged_in.get(f"/organizer/events/{event.slug}").text, "not-answered") == "2"
    with app.app_context():
        invitation = db.session.scalar(db.select(Invitation).where(Invitation.event_id == event.id).limit(1))
        invitation.status = InvitationStatus.DECLINED
        db.session.commit()
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    assert (figure(page, "not-answered"), figure(page, "declined")) == ("1", "1")


def test_an_open_event_without_invitations_shows_none(logged_in, make_event):
    event = make_event()
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    assert 'id="invitations"' not in page and "Invitations not answered" not in page


def test_an_event_by_invitation_shows_zeros_before_the_first_invitation(app, logged_in, make_event):
    event = make_event()
    with app.app_context():
        db.session.get(Event, event.id).admission = "invitation"
        db.session.commit()
    page = logged_in.get(f"/organizer/events/{event.slug}").text
    assert [figure(page, key) for key in ("invited", "registered", "declined", "not-answered")] == ["0"] * 4


def nav(page: str) -> str:
    """The event's navigation on a page."""
    start = page.index('<nav class="event-nav"')
    return page[start : page.index("</nav>", start)]


def test_the_event_nav_links_the_guest_list_pages(logged_in, make_event):
    event = make_event()
    links = nav(logged_in.get(f"/organizer/events/{event.slug}").text)
    assert f'href="/organizer/events/{event.slug}/invitations">Invitations<' in links
    listing = nav(logged_in.get(f"/organizer/events/{event.slug}/invitations").text)
    assert f'href="/organizer/events/{event.slug}/invitations" aria-current="page">Invitations<' in listing
    new = nav(logged_in.get(f"/organizer/events/{event.slug}/invitations/new").text)
    assert f'href="/organizer/events/{event.slug}/invitations" aria-current="true">Invitations<' in new
    assert 'aria-current="page"' not in new
    assert f'href="/organizer/events/{event.slug}/delegations">Delegations<' in links
    delegations = nav(logged_in.get(f"/organizer/events/{event.slug}/delegations").text)
    assert f'href="/organizer/events/{event.slug}/delegations" aria-current="page">Delegations<' in delegations
    assert delegations.count("aria-current") == 1
    categories = nav(logged_in.get(f"/organizer/events/{event.slug}/categories").text)
    assert f'href="/organizer/events/{event.slug}/categories" aria-current="page">Categories<' in categories


@pytest.mark.browser
def test_the_invitation_figures_pass_axe_on_a_phone_and_a_desktop(browser_page, live_server):
    app, base_url = live_server
    event = create_test_event(app)
    invite(app, event, KNOWN)
    with app.app_context():
        create_organizer("admin@example.org", "correct horse battery", "admin")
    log_in(browser_page, base_url, "admin@example.org", "correct horse battery")
    for size in (PHONE, DESKTOP):
        browser_page.set_viewport_size(size)
        browser_page.goto(f"{base_url}/organizer/events/{event.slug}")
        expect(browser_page.locator("#invitations-not-answered")).to_have_text("7")
        assert violations(browser_page, WCAG_TAGS) == [], size
