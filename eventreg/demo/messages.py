"""The demo's messages: the shuttle times sent two days ago to the confirmed delegates (with a Chinese and a French
version), and two reminders, 7 days and 1 day before the ceremony, so the Messages page shows something on a fresh
machine. The message goes the organizers' way (a draft, confirmed, queued by the scheduler); its mails are then
recorded as sent, as the demo's other mails are, and nothing goes out."""

from datetime import timedelta

from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..mail.retry import record_sent
from ..mail.schedule import run_due
from ..messages.audience import audience_from_filter
from ..messages.reminders import add_reminder
from ..messages.services import confirm_message, new_idempotency_key, save_draft
from ..messages.texts import MESSAGE_MAIL, MessageTexts
from ..models import Event, Message, Organizer, OutboxMessage, OutboxState, Registration, ScheduledMail, Status, utcnow

# How long ago the demo's message went out: it is on record, and leaves today's cap to whoever tries the demo.
SENT_AGO = timedelta(days=2)

SHUTTLE = MessageTexts(
    subject="Shuttle times to the ceremony",
    body=(
        "Dear {honorific} {family_name},\n\n"
        "Shuttles to **{venue}** leave the delegates' hotels at 7:45 and 8:15 on the day of {event_title} "
        "({event_start}). Please be in the lobby five minutes early and bring your badge.\n\n"
        "Your registration: {private_link}"
    ),
    versions={
        "zh_Hans": (
            "开幕式班车时间",
            "尊敬的{family_name}{honorific}：\n\n"
            "{event_title}（{event_start}）当天，前往**{venue}**的班车于7:45和8:15从代表酒店出发。"
            "请提前五分钟到大堂集合，并携带胸卡。\n\n"
            "您的注册信息：{private_link}",
        ),
        "fr": (
            "Horaires des navettes pour la cérémonie",
            "{honorific} {family_name},\n\n"
            "Le jour de {event_title} ({event_start}), les navettes pour **{venue}** partent des hôtels des "
            "délégués à 7 h 45 et à 8 h 15. Merci d'être dans le hall cinq minutes avant et d'apporter votre badge.\n\n"
            "Votre inscription : {private_link}",
        ),
    },
)

REMINDERS = {
    7: MessageTexts(
        subject="One week to the inaugural ceremony",
        body=(
            "Dear {honorific} {family_name},\n\n"
            "{event_title} begins on {event_start} at {venue}. Your ticket is attached; please check your details "
            "and tell us of any change: {private_link}"
        ),
        versions={
            "zh_Hans": (
                "距开幕式还有一周",
                "尊敬的{family_name}{honorific}：\n\n{event_title}将于{event_start}在{venue}开幕。随信附上您的入场券；"
                "如信息有变，请告知我们：{private_link}",
            ),
            "fr": (
                "Cérémonie inaugurale : J-7",
                "{honorific} {family_name},\n\n{event_title} commence le {event_start} à {venue}. Votre billet est "
                "joint ; vérifiez vos informations et signalez-nous tout changement : {private_link}",
            ),
        },
        attach_ticket=True,
    ),
    1: MessageTexts(
        subject="The inaugural ceremony is tomorrow",
        body=(
            "Dear {honorific} {family_name},\n\n"
            "We look forward to welcoming you tomorrow, {event_start}, at {venue}. Please show your check-in code "
            "**{checkin_code}** (or the attached ticket) at the entrance, with your passport."
        ),
        versions={
            "zh_Hans": (
                "开幕式明天举行",
                "尊敬的{family_name}{honorific}：\n\n我们期待明天（{event_start}）在{venue}欢迎您。入场时请出示签到码"
                "**{checkin_code}**（或附件中的入场券）及护照。",
            ),
            "fr": (
                "La cérémonie inaugurale a lieu demain",
                "{honorific} {family_name},\n\nNous serons heureux de vous accueillir demain, {event_start}, à "
                "{venue}. Présentez votre code d'enregistrement **{checkin_code}** (ou le billet joint) "
                "à l'entrée, avec votre passeport.",
            ),
        },
        attach_ticket=True,
    ),
}


def load_messages(event: Event, organizer: Organizer | None) -> None:
    """Send the demo's message to the event's confirmed delegates (its mails queued by the scheduler, then
    recorded as sent two days ago) and schedule its two reminders, written by `organizer`."""
    audience = audience_from_filter(MultiDict({"status": Status.CONFIRMED.value}), event)
    draft = save_draft(event, SHUTTLE, audience, new_idempotency_key(), organizer)
    message = confirm_message(event.id, draft.id, organizer).message
    run_due()  # what the worker does first: queue the message's mails, one per recipient
    _record_sent(message.id)
    for days_before, texts in REMINDERS.items():
        add_reminder(event, days_before, texts, organizer=organizer)


def _record_sent(message_id: int) -> None:
    """Record the message's queued mails as sent, and the message as written and sent SENT_AGO; nothing goes out.
    Each mail's subject is its delegate's version's (the demo's subjects have no placeholders)."""
    message = db.session.get(Message, message_id)
    sent_at = utcnow() - SENT_AGO
    rows = db.session.execute(
        select(OutboxMessage, Registration.language)
        .join(Registration, OutboxMessage.registration_id == Registration.id)
        .where(
            OutboxMessage.kind == MESSAGE_MAIL,
            OutboxMessage.delegate_message_id == message_id,
            OutboxMessage.state == OutboxState.QUEUED,
        )
    ).all()
    for mail, language in rows:
        mail.subject = message.version_for(language)[0][:300]
        mail.state = OutboxState.SENT
        mail.attempts += 1
        mail.created_at = mail.next_attempt_at = sent_at
        mail.sent_at = sent_at + timedelta(seconds=1)
        record_sent(mail, sent_at)
    db.session.execute(update(Message).where(Message.id == message_id).values(created_at=sent_at, confirmed_at=sent_at))
    db.session.execute(
        update(ScheduledMail)
        .where(ScheduledMail.id == message.scheduled_mail_id)
        .values(created_at=sent_at, due_at=sent_at, claimed_at=sent_at, finished_at=sent_at + timedelta(seconds=1))
    )
    db.session.commit()
