"""The invitee's forms: the registration form pre-filled from the invitation, and the decline."""

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from ..forms import Form, NoControlCharacters, one_newline_style, strip
from ..models import HONORIFIC_LABELS, Invitation
from ..registration.forms import RegistrationForm, offer_categories
from ..visas.application import event_dates
from .links import MAX_DECLINE_REASON

# What the form takes from the invitation when the organizers knew it (the invitee checks and completes the rest).
PREFILLED = ("honorific", "given_name", "family_name", "native_name", "institution", "position", "country")


class InvitationForm(RegistrationForm):
    """The registration form behind an invitation link: the address is the invited one (shown, not typed); the
    event's categories that delegates choose, or the invitation's assigned one, fixed (whatever a POST carries)."""

    email = None

    def __init__(self, invitation: Invitation, **kwargs):
        known = {name: getattr(invitation, name) for name in PREFILLED if getattr(invitation, name)}
        if known.get("honorific") not in HONORIFIC_LABELS:  # a title the form does not offer: the invitee chooses
            known.pop("honorific", None)
        super().__init__(data=known, **kwargs)
        offer_categories(self, invitation.event_id, invitation.category or None)
        self.visa_period = event_dates(invitation.event)  # the travel dates are checked against the event's days


class DeclineForm(Form):
    """Decline an invitation, with an optional reason for the organizers."""

    reason = TextAreaField(
        _l("Reason for declining"),
        validators=[
            Optional(),
            Length(
                max=MAX_DECLINE_REASON,
                message=_l("At most %(max)d characters, please.", max=MAX_DECLINE_REASON),
            ),
            NoControlCharacters(),
        ],
        filters=[strip, one_newline_style],
        description=_l("The organizers read it; you need not give one."),
        default="",
    )
