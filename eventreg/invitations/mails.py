"""The mails about an invitation: the invitation itself and its reminder (composed by mail/compose.py from
templates/email/invitation.* and invitation_reminder.*)."""

from flask_babel import gettext

from ..mail.queue import add_kind

INVITATION = "invitation"
INVITATION_REMINDER = "invitation_reminder"


def _invitation_subject(title: str, _status: str) -> str:
    """The invitation's subject line, in the recipient's language."""
    return gettext("You are invited: %(title)s", title=title)


def _reminder_subject(title: str, _status: str) -> str:
    """The reminder's subject line, in the recipient's language."""
    return gettext("Reminder: your invitation to %(title)s", title=title)


add_kind(INVITATION, "email/invitation", _invitation_subject, about_invitation=True)
add_kind(INVITATION_REMINDER, "email/invitation_reminder", _reminder_subject, about_invitation=True)
