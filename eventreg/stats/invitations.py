"""An event's invitations counted by status: what the dashboard, the API and the invitation list show.

Not cached like the registration numbers (cache.py): those are keyed by `Event.stats_version`, which only changes
with the registrations, while an invitation changes status without one (the worker sends it, the invitee opens the
link or declines). One GROUP BY over the (event_id, status) index is cheap enough to run on every view.
"""

from sqlalchemy import func, select

from ..extensions import db
from ..models import UNANSWERED, Invitation, InvitationStatus


def invitation_counts(event_id: int) -> dict[str, int]:
    """The event's invitations per status, every status present (zero when none), from one GROUP BY."""
    query = select(Invitation.status, func.count()).where(Invitation.event_id == event_id).group_by(Invitation.status)
    counts = {status.value: 0 for status in InvitationStatus}
    counts.update(dict(db.session.execute(query).all()))
    return counts


def invitation_totals(counts: dict[str, int]) -> dict[str, int]:
    """The dashboard's four numbers from `invitation_counts`: invited (every invitation, not sent ones included),
    registered, declined, and not answered (the statuses reminders go to: not sent, sent, link opened, mail failed)."""
    return {
        "invited": sum(counts.values()),
        "registered": counts[InvitationStatus.REGISTERED],
        "declined": counts[InvitationStatus.DECLINED],
        "not_answered": sum(counts[status] for status in UNANSWERED),
    }
