"""The delegate's ticket on the web: the printable ticket, its QR code and the calendar entry, all behind the
private link. The QR code and the printed ticket show only the check-in code, never the private-link token."""

from flask import Blueprint, Response, abort, render_template

from ..auth.access import public
from ..models import Registration
from ..registration.views import registration_or_404
from .codes import calendar_entry, calendar_sequence, grouped_code, has_ticket, qr_svg, whom_it_admits

bp = Blueprint("tickets", __name__)
bp.add_app_template_global(has_ticket, "has_ticket")
bp.add_app_template_filter(grouped_code, "code_groups")
bp.add_app_template_global(whom_it_admits, "whom_it_admits")  # the printed ticket, the private page and the mails


def _ticket_or_404(token: str) -> Registration:
    """The registration behind the link, if it can check in; a pending, waitlisted or cancelled one has no ticket."""
    registration = registration_or_404(token, say_replaced=False)
    if not has_ticket(registration.status):
        abort(404)
    return registration


@bp.get("/r/<token:token>/ticket")
@public
def ticket(token: str):
    """The printable ticket: name, event, time and place, the QR code and the check-in code; no site navigation."""
    registration = registration_or_404(token, say_replaced=False)
    return render_template("registration/ticket.html", registration=registration, event=registration.event)


@bp.get("/r/<token:token>/qr.svg")
@public
def ticket_qr(token: str):
    """The ticket's QR code (the check-in code only) as SVG, sharp at any size and in print."""
    registration = _ticket_or_404(token)
    return Response(qr_svg(registration.checkin_code), mimetype="image/svg+xml")


@bp.get("/r/<token:token>/calendar.ics")
@public
def ticket_calendar(token: str):
    """The event as a calendar entry, with the same UID as the mailed ones so it replaces them."""
    registration = _ticket_or_404(token)
    ics = calendar_entry(registration, sequence=calendar_sequence(registration))
    return Response(
        ics,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="event.ics"'},
    )
