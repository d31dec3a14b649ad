"""The public forms: registration, and what a delegate does through their private link."""

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..categories.services import category_infos, label
from ..forms import (
    CountryField,
    EmailAddress,
    Form,
    HasLetter,
    NoControlCharacters,
    SingleLine,
    fits,
    one_newline_style,
    strip,
)
from ..geo.countries import CountryList, countries
from ..models import (
    CATEGORY_LABELS,
    DEFAULT_CATEGORIES,
    HONORIFIC_LABELS,
    CategorySetter,
    Event,
    Registration,
    new_token,
)
from ..visas.application import event_dates, visa_application
from ..visas.forms import VisaRequestField, ignore_visa_fields, require_visa_fields

MAX_ACCOMPANYING = 5
# What a hand-made request may send for an unticked box; browsers simply leave it out.
FALSE_VALUES = (False, "false", "", "no", "n", "off", "0")


def _text(label, column, *, required=True, description="", multiline=False, autocomplete=None, letter=None):
    validators = [DataRequired(_l("Please fill in this field."))] if required else [Optional()]
    validators += [fits(column), NoControlCharacters() if multiline else SingleLine()]
    if letter if letter is not None else (required and not multiline):
        validators.append(HasLetter())
    field_class = TextAreaField if multiline else StringField
    filters = [strip, one_newline_style] if multiline else [strip]
    render_kw = {"autocomplete": autocomplete} if autocomplete else None
    # default="": WTForms leaves a field that a hand-made request leaves out as None, which the NOT NULL columns refuse.
    return field_class(
        label, validators=validators, filters=filters, description=description, render_kw=render_kw, default=""
    )


def email_field(label, description=""):
    """An email field with the registration form's checks (full-width letters folded, IDNA domains, no SMTPUTF8)."""
    return EmailField(
        label,
        validators=[DataRequired(_l("Please fill in this field.")), fits(Registration.email), EmailAddress()],
        filters=[strip],
        description=description,
        render_kw={"autocomplete": "email"},
    )


ASSIGNED_CATEGORY = _l("This category is assigned by the organizers; please choose one of the categories offered.")
UNKNOWN_CATEGORY = _l("Please choose one of the categories offered.")


class CategoryField(SelectField):
    """The category select. It offers what offer_categories() gives it (by default the default categories that
    delegates choose); a code it does not offer is refused with a message that says why, and a category fixed by
    the organizers is shown, not chosen: whatever a POST carries, the field keeps it."""

    assigned_codes: frozenset[str] = frozenset(
        code for code, _c, by in DEFAULT_CATEGORIES if by != CategorySetter.DELEGATES
    )
    fixed: str | None = None

    def process_formdata(self, valuelist):
        """A fixed category stays; otherwise the submitted code, as a select reads it."""
        if self.fixed is not None:
            self.data = self.fixed
            return
        super().process_formdata(valuelist)

    def pre_validate(self, form):
        """Refuse a code the field does not offer: an organizers' category says so."""
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(ASSIGNED_CATEGORY if self.data in self.assigned_codes else UNKNOWN_CATEGORY)


def offer_categories(form, event: Event | int, assigned: str | None = None, *, every: bool = False) -> None:
    """Give a form's category field the event's categories, labelled in the reader's language: those delegates
    choose (the public form and the delegate's own edit), `every` one (an organizer's edit), or only `assigned`,
    fixed (an invitation or a registration in a category the organizers set)."""
    field = form.category
    infos = category_infos(event if isinstance(event, int) else event.id)
    field.assigned_codes = frozenset(info.code for info in infos if not info.chosen_by_delegates)
    if assigned:
        known = next((info for info in infos if info.code == assigned), None)
        field.choices = [
            SelectChoice(assigned, label(known) if known else str(CATEGORY_LABELS.get(assigned, assigned)))
        ]
        field.fixed = field.data = assigned
        field.render_kw = {**(field.render_kw or {}), "disabled": True}
        field.description = _l("The organizers set this category; it cannot be changed here.")
        return
    offered = [info for info in infos if every or info.chosen_by_delegates]
    field.choices = [SelectChoice(info.code, label(info)) for info in offered]
    codes = [info.code for info in offered]
    if every and field.data and field.data not in codes:
        # A code the event no longer has stays valid on the registrations that carry it.
        field.choices.append(SelectChoice(field.data, str(CATEGORY_LABELS.get(field.data, field.data))))
    elif not form.is_submitted() and field.data not in codes and codes:
        field.data = codes[0]


class RegistrationForm(Form):
    """Everything a delegate tells us when they register."""

    honorific = SelectField(
        _l("Title"),
        choices=[SelectChoice("", _l("(none)"))]
        + [SelectChoice(value, label) for value, label in HONORIFIC_LABELS.items()],
        default="",  # a POST without the field at all means "(none)", not NULL
        validators=[Optional()],
        render_kw={"autocomplete": "honorific-prefix"},
    )
    given_name = _text(_l("Given name"), Registration.given_name, autocomplete="given-name")
    family_name = _text(
        _l("Family name"),
        Registration.family_name,
        required=False,
        letter=True,
        autocomplete="family-name",
        description=_l("Leave empty if you have only one name."),
    )
    native_name = _text(
        _l("Name in your own script"),
        Registration.native_name,
        required=False,
        description=_l("For example 白春礼 or Ирина Петрова."),
    )
    email = email_field(_l("Email"), _l("Your confirmation and private link are sent here."))
    institution = _text(_l("Institution or organization"), Registration.institution, autocomplete="organization")
    position = _text(_l("Position"), Registration.position, required=False, autocomplete="organization-title")
    country = CountryField(
        _l("Country or region"),
        validators=[DataRequired(_l("Please choose your country or region."))],
        # The texts of the search that static/js/country-search.js puts before the select.
        render_kw={
            "autocomplete": "country",
            "data-search-label": _l("Find a country or region"),
            "data-search-hint": _l("Type part of its name, in the language of this page or in English."),
            "data-search-found": _l("Countries and regions found: %(num)s"),
            "data-search-none": _l("No country or region matches. The list is unchanged."),
        },
    )
    # The event's categories come from offer_categories() (for_event() calls it); by default the default ones
    # that delegates choose.
    category = CategoryField(
        _l("Category"),
        choices=[
            SelectChoice(code, CATEGORY_LABELS[code])
            for code, _colour, by in DEFAULT_CATEGORIES
            if by == CategorySetter.DELEGATES
        ],
        default=DEFAULT_CATEGORIES[0][0],
    )
    accompanying = IntegerField(
        _l("Accompanying persons"),
        default=0,
        validators=[
            InputRequired(_l("Please give a number from 0 to %(max)d.", max=MAX_ACCOMPANYING)),
            NumberRange(0, MAX_ACCOMPANYING, _l("Please give a number from 0 to %(max)d.", max=MAX_ACCOMPANYING)),
        ],
        # NumberRange gives the input its min and max attributes (WTForms renders a number field's range flags).
        description=_l("People coming with you, from 0 to %(max)d; each takes a seat.", max=MAX_ACCOMPANYING),
        render_kw={"inputmode": "numeric"},
    )
    dietary = _text(_l("Dietary requirements"), Registration.dietary, required=False, multiline=True)
    accessibility = _text(_l("Accessibility needs"), Registration.accessibility, required=False, multiline=True)
    visa_letter = BooleanField(_l("I need a visa invitation letter"), false_values=FALSE_VALUES)
    # What a consulate needs: required and checked only when visa_letter is ticked (validate()).
    visa = VisaRequestField()
    consent = BooleanField(
        _l("I agree that the organizers store my details and use them to run this event, as described above"),
        validators=[DataRequired(_l("Please agree to the privacy notice to register."))],
        false_values=FALSE_VALUES,
    )

    submission = HiddenField(validators=[Optional(), Length(max=64), Regexp(r"^[A-Za-z0-9_-]*\Z")], default=new_token)

    # Whether the form asks the delegate for the visa fields (the organizer's edit does not: delegates give them);
    # the event's first and last day, and the arrival on file (for_event sets them).
    asks_visa = True
    visa_period = None
    kept_arrival = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = countries()
        self.country.choices, self.country.codes = _country_choices(names, countries("en"))
        kept = getattr(kwargs.get("obj"), "country", None)
        if kept and kept not in self.country.codes:
            # A code the host no longer offers (COUNTRY_HIDDEN) stays valid on the registrations that have it.
            self.country.choices = [*self.country.choices, SelectChoice(kept, names.name(kept))]
            self.country.codes = self.country.codes | {kept}
        self.visa.form.nationality.choices = self.country.choices
        self.visa.form.nationality.codes = self.country.codes

    def validate(self, extra_validators=None):
        """The fields' checks; the visa fields only when a letter is asked for, all required then."""
        valid = super().validate(extra_validators)
        if self.asks_visa and self.visa_letter.data:
            valid = require_visa_fields(self.visa, self.visa_period, self.kept_arrival) and valid
        else:
            ignore_visa_fields(self.visa)
            valid = not self.form_errors and not any(f.errors for name, f in self._fields.items() if name != "visa")
        self._errors = None
        return valid

    @classmethod
    def for_event(
        cls,
        event: Event | int,
        *args,
        assigned: str | None = None,
        every: bool = False,
        asks_visa: bool | None = None,
        **kwargs,
    ):
        """The form for one event: its categories offered as offer_categories() says (same arguments); the visa
        fields, except on an organizer's edit (`every`) or where `asks_visa` is False (a focal point's edit of a
        member: the passport data is its owner's and the visa letters right's), checked against the event's days
        and, for a registration given as `obj`, filled from its visa application."""
        asks_visa = not every if asks_visa is None else asks_visa
        kept = kwargs.get("obj")
        application = None
        if asks_visa and isinstance(kept, Registration) and kept.id is not None and kept.visa_letter:
            application = visa_application(kept.id)
            kwargs["data"] = {**kwargs.get("data", {}), "visa": application}
        form = cls(*args, **kwargs)
        offer_categories(form, event, assigned, every=every)
        form.asks_visa = asks_visa
        if isinstance(event, Event):
            form.visa_period = event_dates(event)
        form.kept_arrival = application.arrival if application is not None else None
        return form


@lru_cache(maxsize=32)
def _country_choices(names: CountryList, english: CountryList) -> tuple[list[SelectChoice], frozenset[str]]:
    """The country select's ~250 choices in the reader's language and order, each with its English name for the
    search (static/js/country-search.js) when that differs, and the set of their codes: built once per language,
    not on every request ("Choose…" is lazy)."""
    choices = [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(code, name, render_kw={"data-en": english.name(code)} if english.name(code) != name else {})
        for code, name in names.offered.items()
    ]
    return choices, frozenset(["", *names.offered])


class OwnDetailsForm(RegistrationForm):
    """The delegate's own edit through the private link: every field but the email (that one needs a confirmation
    from the new address) and the consent (already given)."""

    email = None
    consent = None
    submission = None


class EmailChangeForm(Form):
    """The new address of a registration; nothing changes until a link sent to it is opened and confirmed."""

    email = email_field(
        _l("New email address"),
        _l(
            "We send a link to this address. Your registration moves to it when you open the link and confirm; "
            "until then, nothing changes."
        ),
    )


def token_expired(form: Form, message) -> bool:
    """True when a submitted form's CSRF token was missing or expired (a page left open for hours): its error becomes
    `message` above the form, which the caller shows again, with what was typed and a fresh token."""
    if not (form.is_submitted() and form.meta.csrf and form.csrf_token.errors):
        return False
    form.csrf_token.errors = []
    form.form_errors.append(message)
    return True


class LostLinkForm(Form):
    """Ask for the private link again."""

    email = email_field(_l("Email"), _l("The address you registered with."))
