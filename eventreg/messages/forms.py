"""The fields of a message's texts, shared by the compose page and the reminders' settings: a subject and body,
a version per offered language, and the options."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length

from ..forms import Form, strip
from ..languages import language_name, offered_languages
from .texts import MAX_BODY_LENGTH, MAX_SUBJECT_LENGTH, MessageRefused, MessageTexts

SUBJECT_HINT = _l("One line. Placeholders such as {given_name} are filled in for each delegate.")
BODY_HINT = _l("Plain text: a blank line starts a paragraph, **bold** is bold, and links are written as they are.")


class MessageTextsForm(Form):
    """A message's default version and options; for_languages() adds a version per offered language."""

    subject = StringField(_l("Subject"), filters=[strip], validators=[Length(max=MAX_SUBJECT_LENGTH)],
                          description=SUBJECT_HINT)  # fmt: skip
    body = TextAreaField(_l("Message"), validators=[Length(max=MAX_BODY_LENGTH)], description=BODY_HINT)
    attach_ticket = BooleanField(_l("Attach each delegate's current ticket and calendar entry (when they have one)"))
    reply_to_contact = BooleanField(_l("Replies go to the event's contact address"), default=True)

    @classmethod
    def for_languages(cls, languages: list[str] | None = None, **kwargs):
        """The form with a subject_<code> and body_<code> field per language (default: the offered ones)."""
        languages = offered_languages() if languages is None else languages

        class WithVersions(cls):
            pass

        for code in languages:
            name = language_name(code)
            setattr(WithVersions, f"subject_{code}", StringField(
                _l("Subject in %(language)s", language=name), filters=[strip],
                validators=[Length(max=MAX_SUBJECT_LENGTH)]))  # fmt: skip
            setattr(WithVersions, f"body_{code}", TextAreaField(
                _l("Message in %(language)s", language=name), validators=[Length(max=MAX_BODY_LENGTH)]))  # fmt: skip
        form = WithVersions(**kwargs)
        form.languages = list(languages)
        return form

    def version_fields(self) -> list[tuple[str, str, object, object]]:
        """(code, language name, subject field, body field) of each language version, in order."""
        return [
            (code, language_name(code), self[f"subject_{code}"], self[f"body_{code}"])
            for code in getattr(self, "languages", [])
        ]

    def texts(self) -> MessageTexts:
        """The message as typed (MessageTexts; the services check it)."""
        versions = {
            code: ((subject.data or "").strip(), (body.data or "").strip())
            for code, _name, subject, body in self.version_fields()
        }
        return MessageTexts(
            subject=(self.subject.data or "").strip(),
            body=(self.body.data or "").strip(),
            versions=versions,
            attach_ticket=bool(self.attach_ticket.data),
            reply_to_contact=bool(self.reply_to_contact.data),
        )

    def fill_from(self, subject: str, body: str, versions: dict, attach_ticket: bool, reply_to_contact: bool):
        """Show a stored message (Message.subject, .body, .versions, options) in the fields."""
        self.subject.data, self.body.data = subject, body
        self.attach_ticket.data, self.reply_to_contact.data = attach_ticket, reply_to_contact
        for code, _name, subject_field, body_field in self.version_fields():
            version = (versions or {}).get(code) or {}
            subject_field.data, body_field.data = version.get("subject", ""), version.get("body", "")

    def show_refusal(self, refusal: MessageRefused) -> bool:
        """Put a refusal's message under its field; False when it belongs to no field (the page shows it)."""
        if refusal.field and refusal.field in self:
            self[refusal.field].errors = [*self[refusal.field].errors, refusal.message]
            return True
        return False
