"""The form organizers fill in to create or edit an event; times are typed as local times in its timezone."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import (
    EmailAddress,
    Form,
    NoControlCharacters,
    SingleLine,
    fits,
    lazy_number,
    one_newline_style,
    strip,
)
from ..models import ADMISSION_LABELS, Admission, Event
from .rules import EVENT_FIELDS, MAX_CAPACITY, MAX_LONG_TEXT, MAX_MIN_COUNTRY_COUNT, TIME_FIELDS
from .timezones import timezone_choices

REQUIRED = _l("Please fill in this field.")
# What a datetime-local input sends (the first is also how the field shows a value); seconds are accepted too.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _line(label, column, required=True, description=""):
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    return StringField(
        label, validators=[*validators, fits(column), SingleLine()], filters=[strip], description=description
    )


def _long_text(label, description=""):
    return TextAreaField(
        label,
        validators=[
            Optional(),
            Length(max=MAX_LONG_TEXT, message=_l("At most %(max)d characters, please.", max=MAX_LONG_TEXT)),
            NoControlCharacters(),
        ],
        filters=[strip, one_newline_style],
        description=description,
    )


def _local_time(label, required, description=""):
    # InputRequired, not DataRequired: a typed value that is no date keeps its own message.
    validators = [InputRequired(_l("Please give a date and a time."))] if required else [Optional()]
    return DateTimeLocalField(
        label,
        validators=validators,
        format=LOCAL_FORMATS,
        description=description,
        render_kw={"step": 60},
    )


class EventForm(Form):
    """An event's details as an organizer sets them; the rules between them are checked by events/rules.py."""

    title = _line(lazy_pgettext("event", "Title"), Event.title)
    description = _long_text(_l("Description"), _l("Shown on the event's public page. Line breaks are kept."))
    venue = _line(_l("Venue"), Event.venue)
    city = _line(_l("City"), Event.city)
    timezone = SelectField(
        _l("Time zone"),
        validators=[DataRequired(_l("Please choose the event's time zone."))],
        description=_l("Every time below is read as a local time in this time zone."),
    )
    starts_at = _local_time(_l("Starts"), required=True)
    ends_at = _local_time(_l("Ends"), required=True)
    capacity = IntegerField(
        _l("Capacity"),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=MAX_CAPACITY,
                message=_l("Between %(min)s and %(max)s, please.", min=1, max=lazy_number(MAX_CAPACITY)),
            ),
        ],
        description=_l("Seats, counting accompanying persons. Leave empty for no limit."),
    )
    registration_opens_at = _local_time(
        _l("Registration opens"), required=False, description=_l("Leave empty to open registration now.")
    )
    registration_closes_at = _local_time(
        _l("Registration closes"), required=False, description=_l("Leave empty to close it when the event starts.")
    )
    admission = SelectField(
        _l("Who may register"),
        choices=[SelectChoice(value.value, label) for value, label in ADMISSION_LABELS.items()],
        default=Admission.OPEN.value,
        # Optional: a form sent without the field (a script written before it) keeps the event's admission.
        validators=[Optional()],
        description=_l(
            "By invitation, the public page shows the event and the contact address, and only the personal link in "
            "an invitation opens the form."
        ),
    )
    requires_approval = BooleanField(
        _l("Registrations need approval"),
        description=_l("Each registration waits for an organizer to approve it before it counts as confirmed."),
    )
    show_seats_left = BooleanField(
        _l("Show the seats left to the public"),
        default=True,
        description=_l(
            "The event page and the registration form show how many seats are left. Untick to keep the number "
            "to the organizers; people are still told when the event is full and they would join the waiting list."
        ),
    )
    public_min_country_count = IntegerField(
        _l("Fewest participants to name a country or region on the public counter"),
        default=1,
        validators=[
            InputRequired(_l("Please give a number from 1 to %(max)s.", max=lazy_number(MAX_MIN_COUNTRY_COUNT))),
            NumberRange(
                min=1,
                max=MAX_MIN_COUNTRY_COUNT,
                message=_l("Please give a number from 1 to %(max)s.", max=lazy_number(MAX_MIN_COUNTRY_COUNT)),
            ),
        ],
        description=_l(
            "The public counter names a country or region only when at least this many confirmed participants come "
            "from it; smaller ones are counted together as other countries and regions, so a lone delegate cannot be "
            "identified. With 1, every country or region is named."
        ),
        render_kw={"inputmode": "numeric"},
    )
    contact_email = EmailField(
        _l("Contact email"),
        validators=[Optional(), fits(Event.contact_email), EmailAddress()],
        filters=[strip],
        description=_l("Replies to the event's mails go here. Leave empty to use the sender address."),
    )
    confirmation_note = _long_text(
        _l("Note for the confirmation email"),
        _l("An optional extra paragraph for every confirmation email: travel hints, dress code, what to bring."),
    )

    invitation_note = _long_text(
        _l("Paragraph for the invitation email"),
        _l("An optional paragraph from the organizers in every invitation and reminder: why, who, what to expect."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices(current=self.timezone.data)

    def details(self) -> dict:
        """The submitted values keyed like check_event_details' arguments (times still naive local times)."""
        values = {name: self[name].data for name in EVENT_FIELDS}
        values["description"] = values["description"] or ""
        values["confirmation_note"] = values["confirmation_note"] or ""
        values["contact_email"] = values["contact_email"] or None
        return values

    def guest_list(self) -> dict:
        """The submitted admission and invitation paragraph, keyed like GUEST_LIST_FIELDS."""
        return {"admission": self.admission.data, "invitation_note": self.invitation_note.data or ""}


class EventSettingsForm(EventForm):
    """An existing event's details, and whether its delegates hear of a new date, time or place."""

    tell_delegates = BooleanField(
        _l("Tell the delegates by mail when the date, time or place changes"),
        default=True,
        description=_l(
            "Every delegate who is confirmed, pending approval or on the waiting list gets one email with the "
            "change and an updated calendar entry; confirmed delegates get their ticket again."
        ),
    )


def form_values(event: Event) -> dict:
    """An event's details as the form shows them: times as local wall-clock times in its timezone."""
    values = {name: getattr(event, name) for name in (*EVENT_FIELDS, "admission", "invitation_note")}
    for name in TIME_FIELDS:
        if values[name] is not None:
            values[name] = event.local(values[name]).replace(tzinfo=None)
    return values
