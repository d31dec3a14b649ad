"""The public counter of an event: "N confirmed participants from M countries and regions", counts only, no people.

The number the press quotes, so it counts confirmed registrations only (pending ones may still be declined), of
every category (delegates, speakers, observers, press, guests), without accompanying persons. Countries with fewer
participants than the event's `public_min_country_count` are counted together, not named (stats.public_counter).
The page refreshes itself from the JSON twin every COUNTER_REFRESH_SECONDS (static/js/counter.js).
"""

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import stats
from ..auth.access import public
from ..events.services import event_by_slug
from ..locale_formats import number

bp = Blueprint("counter", __name__)


def headline(counter: dict) -> str:
    """'12 confirmed participants from 5 countries and regions', in the request's language."""
    participants = ngettext("%(num)d confirmed participant", "%(num)d confirmed participants", counter["participants"])
    countries = ngettext("%(num)d country or region", "%(num)d countries and regions", counter["countries"])
    return _("%(participants)s from %(countries)s", participants=participants, countries=countries)


def delegate_counter(slug: str) -> dict:
    """The counter of the event at `slug` with its sentences (404 when there is no such event)."""
    event = event_by_slug(slug)
    if event is None:
        abort(404)
    counter = stats.public_counter(event)
    counter["headline"] = headline(counter)
    other = counter["other_countries"]
    other["name"] = ngettext(
        "%(num)d other country or region", "%(num)d other countries and regions", other["countries"]
    )
    # Beside each number, the same as the reader's language writes it, for counter.js to show: written by Babel, as
    # on the page, since the browser's own formats differ (Chromium writes Arabic-Indic digits for "ar").
    for row in counter["by_country"]:
        row["count_text"] = number(row["count"])
    other["participants_text"] = number(other["participants"])
    return counter


@bp.get("/e/<slug:slug>/delegates")
@public
def delegates(slug: str):
    """The public counter page, refreshed in place by counter.js."""
    counter = delegate_counter(slug)
    refresh = current_app.config["COUNTER_REFRESH_SECONDS"]
    return render_template("registration/counter.html", counter=counter, refresh_seconds=refresh)


@bp.get("/e/<slug:slug>/delegates.json")
@public
def delegates_json(slug: str):
    """The same numbers as JSON; answers 304 when the browser already holds them."""
    response = jsonify(delegate_counter(slug))
    response.headers["Cache-Control"] = "no-cache"  # cheap to revalidate: the numbers are cached on the server
    response.vary.add("Accept-Language")
    response.add_etag()
    return response.make_conditional(request)
