"""Who may read a delegate's dietary and accessibility needs: the one rule that the attendee pages (details, history,
edit form), the exports, the API and the check-in desk follow. Such needs can reveal health or religion, so each is
shown only to the roles whose right covers it."""

from ..models import Organizer, Right

# The fields that hold a delegate's needs, and the right an organizer's role must carry to read each.
NEEDS_RIGHTS = {"dietary": Right.SEE_DIETARY, "accessibility": Right.SEE_ACCESS_NEEDS}


def may_see(reader: Organizer, field: str) -> bool:
    """Whether `reader` may read this field of a registration: every field but the needs, and each need only with
    its right."""
    right = NEEDS_RIGHTS.get(field)
    return right is None or reader.can(right)


def hidden_needs(reader: Organizer) -> list[str]:
    """The needs fields that `reader` may not read (left out of what they see, and of what they may overwrite)."""
    return [field for field in NEEDS_RIGHTS if not may_see(reader, field)]
