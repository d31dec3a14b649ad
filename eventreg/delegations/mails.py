"""The delegation's own mail: the offer to join, sent to an address that was already registered when a focal
point typed it (the member's confirmation is the registration's own, with what the focal point adds)."""

from flask_babel import gettext

from ..mail.queue import add_kind


def _join_subject(title: str, _status: str) -> str:
    return gettext("An invitation to join a delegation: %(title)s", title=title)


add_kind("delegation_join", "email/delegation_join", _join_subject)
