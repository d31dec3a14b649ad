"""The invitation list's filters, read once: the list, its actions and the reminders to "everyone shown" select
the same invitations."""

from sqlalchemy import or_

from ..converters import MAX_ID
from ..models import Invitation
from ..models.common import casefold_key, search_key
from ..models.guests import InvitationStatus

FILTER_ARGS = ("status", "q", "delegation")


def invitation_filters(values) -> dict:
    """The filters from a query string, a form or a reminder's stored audience, unknown values dropped (an unknown
    status or delegation is no filter)."""
    filters = {name: (values.get(name) or "").strip()[:200] for name in FILTER_ARGS}
    if filters["status"] not in {str(status) for status in InvitationStatus}:
        filters["status"] = ""
    if not (filters["delegation"].isdigit() and 1 <= int(filters["delegation"]) <= MAX_ID):  # what the column holds
        filters["delegation"] = ""
    return {name: value for name, value in filters.items() if value}


def filter_clauses(event_id: int, filters: dict, *, with_status: bool = True) -> list:
    """WHERE clauses: the event's invitations that `filters` select (the status too, unless `with_status` is
    False: the counts per status ignore it)."""
    clauses = [Invitation.event_id == event_id]
    if with_status and filters.get("status"):
        clauses.append(Invitation.status == filters["status"])
    if filters.get("delegation"):
        clauses.append(Invitation.delegation_id == int(filters["delegation"]))
    if filters.get("q"):
        clauses.append(
            or_(
                Invitation.name_key.contains(search_key(filters["q"]), autoescape=True),
                Invitation.email_key.contains(casefold_key(filters["q"]), autoescape=True),
            )
        )
    return clauses
