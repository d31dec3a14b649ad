"""The public side of visa letters: the verification page consulates open (/verify/<number>/<code>) and the
delegate's download from their private page."""

from flask import Blueprint, abort, current_app, make_response, render_template
from flask_limiter.util import get_remote_address

from ..auth.access import public
from ..extensions import limiter
from ..models import LETTER_STATE_LABELS
from ..registration import limits
from ..registration.views import registration_or_404
from .letters import render_letter
from .lookup import own_valid_letter, verified_letter, visa_request_of

bp = Blueprint("visa_letters", __name__)
bp.register_error_handler(429, limits.too_many_requests)
bp.add_app_template_global(visa_request_of, "visa_request_of")


def _verify_limit() -> str:
    return current_app.config["VERIFY_LIMIT"]


@bp.route("/verify/<number>/<code>")
@public
@limiter.limit(_verify_limit, key_func=get_remote_address)
def verify(number: str, code: str):
    """A visa letter's verification page: number, holder, passport's last three characters, event and state. A
    wrong code and an unknown number answer the same 404."""
    letter = verified_letter(number, code)
    if letter is None:
        abort(404)
    # Neither cached nor indexed (it names a person): security.PRIVATE_PUBLIC_ENDPOINTS.
    return render_template("visas/verify.html", letter=letter, letter_state_labels=LETTER_STATE_LABELS)


@bp.route("/r/<token:token>/visa-letter.pdf")
@public
@limiter.limit(_verify_limit, key_func=get_remote_address)  # each answer renders a PDF: not to be had in bulk
def own_letter(token: str):
    """The delegate's current valid visa letter as a PDF, from their private link."""
    registration = registration_or_404(token)
    letter = own_valid_letter(registration)
    if letter is None:
        abort(404)
    response = make_response(render_letter(letter))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{letter.number}.pdf"'
    return response
