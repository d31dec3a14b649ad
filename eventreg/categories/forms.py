"""The form of an event's categories: one row per category (a label per offered language, colour, order, who sets
it, delete) and a row to add one. Built per set of offered languages, since each language has its own field."""

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    ColorField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms import Form as SubForm
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..forms import Form, SingleLine, strip
from ..languages import bcp47, language_name
from ..models import CategorySetter
from .services import CODE_PATTERN, COLOUR_PATTERN, MAX_CODE_LENGTH, MAX_LABEL_LENGTH, CategoryChange

SETTER_CHOICES = [
    SelectChoice(CategorySetter.DELEGATES.value, _l("Delegates choose it on the form")),
    SelectChoice(CategorySetter.ORGANIZERS.value, _l("Organizers assign it")),
]
COLOUR_MESSAGE = _l("Please give a colour as #rrggbb, e.g. #1f5fa8.")
CODE_MESSAGE = _l(
    "Lower-case letters, digits and hyphens only (at most %(max)d), e.g. keynote-speaker.", max=MAX_CODE_LENGTH
)
MAX_POSITION = 999


def _label_field(language: str) -> StringField:
    return StringField(
        _l("Label in %(language)s", language=language_name(language)),
        validators=[
            Optional(),
            Length(max=MAX_LABEL_LENGTH, message=_l("At most %(max)d characters, please.", max=MAX_LABEL_LENGTH)),
            SingleLine(),
        ],
        filters=[strip],
        default="",
        render_kw={"lang": bcp47(language)},
    )


class _CategoryFields(SubForm):
    """What every row has: colour, order, who sets it."""

    colour = ColorField(
        _l("Colour"), validators=[InputRequired(COLOUR_MESSAGE), Regexp(COLOUR_PATTERN.pattern, message=COLOUR_MESSAGE)]
    )
    position = IntegerField(
        _l("Order"),
        validators=[
            InputRequired(_l("Please give a number from 0 to %(max)d.", max=MAX_POSITION)),
            NumberRange(0, MAX_POSITION, _l("Please give a number from 0 to %(max)d.", max=MAX_POSITION)),
        ],
        description=_l("Lower numbers come first."),
        render_kw={"inputmode": "numeric"},
    )
    set_by = SelectField(_l("Who sets it"), choices=SETTER_CHOICES)


class _ExistingRow(_CategoryFields):
    category_id = HiddenField()
    delete = BooleanField(_l("Delete this category"))

    def validate_category_id(self, field):
        """A whole number: the category's id (the service checks it is the event's)."""
        if not (field.data or "").isdigit():
            raise ValidationError(_l("This category no longer exists. Please reload the page."))


class _NewRow(_CategoryFields):
    code = StringField(
        _l("Code"),
        filters=[strip],
        default="",
        description=_l("Exports and the API carry it; it cannot be changed later. Leave it empty to add nothing."),
    )

    def validate_code(self, field):
        """A new category needs a code once any of its labels is given."""
        if not field.data:
            if any(f.data for name, f in self._fields.items() if name.startswith("label_")):
                raise ValidationError(_l("Please give the new category a code."))
            return
        if len(field.data) > MAX_CODE_LENGTH or not CODE_PATTERN.match(field.data):
            raise ValidationError(CODE_MESSAGE)


@lru_cache(maxsize=8)
def categories_form(languages: tuple[str, ...]) -> type:
    """The form class for these offered languages (each row gets a label field per language)."""
    labels = {f"label_{language}": _label_field(language) for language in languages}
    existing = type("CategoryRow", (_ExistingRow,), dict(labels))
    new_row = type("NewCategoryRow", (_NewRow,), dict(labels))

    class CategoriesForm(Form):
        """An event's categories and a new one."""

        rows = FieldList(FormField(existing), min_entries=0)
        new = FormField(new_row)

    CategoriesForm.languages = languages
    return CategoriesForm


def initial_data(categories, next_position: int) -> dict:
    """The form's values for an event's categories (EventCategory rows) and an empty new row."""
    return {
        "rows": [
            {
                "category_id": str(category.id),
                "colour": category.colour,
                "position": category.position,
                "set_by": category.set_by,
                **{f"label_{language}": text for language, text in (category.labels or {}).items()},
            }
            for category in categories
        ],
        "new": {"colour": "#5a6b7b", "position": next_position, "set_by": CategorySetter.ORGANIZERS.value},
    }


def changes_from(form) -> list[CategoryChange]:
    """What a valid form asks, for save_categories()."""
    changes = [
        CategoryChange(
            id=int(row.category_id.data),
            code="",
            labels={language: row[f"label_{language}"].data for language in form.languages},
            colour=row.colour.data,
            position=row.position.data,
            set_by=row.set_by.data,
            delete=row.delete.data,
        )
        for row in form.rows
    ]
    new = form.new
    if new.code.data:
        changes.append(
            CategoryChange(
                id=None,
                code=new.code.data,
                labels={language: new[f"label_{language}"].data for language in form.languages},
                colour=new.colour.data,
                position=new.position.data,
                set_by=new.set_by.data,
            )
        )
    return changes
