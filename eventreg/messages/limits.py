"""How often an organizer may send: every test send and every confirmed message counts one hit against
MESSAGE_SEND_LIMIT, per organizer, in Flask-Limiter's store (every process together), so a stolen session cannot
mail the world. The per-event daily cap is the services' (confirm_message)."""

from ..models import Organizer
from ..registration.limits import count_hit


def message_send_allowed(organizer: Organizer) -> bool:
    """Count one send (a test or a confirmation) by `organizer`; False, and nothing is to be sent, past the limit."""
    return count_hit("MESSAGE_SEND_LIMIT", f"messages:organizer:{organizer.id}", what="a message send")
