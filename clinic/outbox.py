"""The outbox: writing messages in the same transaction as what they announce,
and sending them, once per channel.

Any layer writes here (`enqueue`, `enqueue_all`), inside its own transaction,
so a message exists if and only if what it announces was saved (the outbox
pattern); each layer registers the kinds of message it writes
(`clinic.models.message_kind`) with their templates, `emails/<kind>*.txt|html`
and `sms/<kind>.txt`. The `send_due_notifications` command sends what is due.
Two runners at once never send the same row: each claims rows in a
transaction (on PostgreSQL with SELECT ... FOR UPDATE SKIP LOCKED, on SQLite
under the IMMEDIATE write lock) and marks them "sending" before it lets go. A
runner that dies mid-send leaves rows "sending"; after CLAIM_TIMEOUT they are
claimed again, so a message is sent at least once and, barring such a crash,
exactly once. Rows are claimed one at a time, just before each is sent: a claim
covers one send (at most the SMTP timeout), never a batch that could outlive
CLAIM_TIMEOUT and have its later rows claimed, and sent, by another runner too.

Transports are chosen by channel: email through Django's mail (MAILERS),
texts through SMS_BACKEND (clinic.sms).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Q
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils import timezone

from clinic import sms
from clinic.models import KINDS, Notification, Texts

log = logging.getLogger(__name__)

BACKOFF = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
           timedelta(hours=2), timedelta(hours=12)]  # fmt: skip
CLAIM_TIMEOUT = timedelta(minutes=15)


def stamp(moment):
    """A moment as whole epoch seconds, for dedupe keys."""
    return int(moment.timestamp())


def render_text(name, context):
    """A plain-text template, not HTML-escaped: "St John's wort" must not
    reach a patient as "St John&#x27;s wort"."""
    template = engines["django"].engine.get_template(name)
    return template.render(Context(context, autoescape=False))


# Quiet hours: no text at night


def _quiet(moment):
    hour = timezone.localtime(moment).hour
    start, end = settings.SMS_QUIET_FROM, settings.SMS_QUIET_UNTIL
    return (start <= hour or hour < end) if start > end else (start <= hour < end)


def after_quiet_hours(moment):
    """`moment`, or the end of the quiet hours it falls in (no text at night)."""
    if not _quiet(moment):
        return moment
    local = timezone.localtime(moment)
    end = local.replace(hour=settings.SMS_QUIET_UNTIL, minute=0, second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)


# Writing


def _context(patient, appointment, context):
    return {
        "patient": patient,
        # Only patients with a portal login are told to use it.
        "has_portal": patient.user_id is not None,
        "appointment": appointment,
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "CLINIC_OUT_OF_HOURS_PHONE": settings.CLINIC_OUT_OF_HOURS_PHONE,
        "SITE_URL": settings.SITE_URL,
        **context,
    }


def _email(kind, *, patient, key, due_at, context, appointment, attachment, not_after):
    """The fields of one email row, rendered now; None when the patient has
    no email address."""
    if not patient.email:
        return None
    context = _context(patient, appointment, context)
    return {
        "channel": Notification.Channel.EMAIL,
        "dedupe_key": f"email:{key}",
        "kind": kind.code,
        "patient": patient,
        "appointment": appointment,
        "to_email": patient.email,
        "subject": render_text(f"emails/{kind}_subject.txt", context).strip(),
        "body_text": render_text(f"emails/{kind}.txt", context),
        "body_html": render_to_string(f"emails/{kind}.html", context),
        "attachment_name": attachment[0] if attachment else "",
        "attachment": attachment[1] if attachment else "",
        "due_at": due_at,
        "next_attempt_at": due_at,
        "not_after": not_after,
    }


def _text(kind, *, patient, key, due_at, context, appointment, not_after):
    """The fields of one text row, or None: only for a patient who agreed to
    texts, for a kind that goes as a text (to this patient)."""
    texted = kind.texts == Texts.ALWAYS or (kind.texts == Texts.WITHOUT_EMAIL and not patient.email)
    if not (texted and patient.gets_texts):
        return None
    due = after_quiet_hours(due_at)
    body = render_text(f"sms/{kind}.txt", _context(patient, appointment, context)).strip()
    return {
        "channel": Notification.Channel.SMS,
        "dedupe_key": f"sms:{key}",
        "kind": kind.code,
        "patient": patient,
        "appointment": appointment,
        "to_phone": patient.sms_number,
        "subject": "",
        "body_text": body,
        "due_at": due,
        "next_attempt_at": due,
        "not_after": not_after,
    }


def rows(kind, *, patient, key, due_at, context, appointment=None, attachment=None, not_after=None):
    """The outbox rows for one event, rendered now: an email to a patient with
    an address, a text to one who agreed to texts (as the kind says). Each
    row's dedupe key names its channel, so each event is sent once per
    channel. `not_after`: the moment the message becomes pointless."""
    kind = KINDS[str(kind)]
    fields = {
        "patient": patient,
        "key": key,
        "due_at": due_at,
        "context": context,
        "appointment": appointment,
        "not_after": not_after,
    }
    written = [_email(kind, attachment=attachment, **fields), _text(kind, **fields)]
    return [row for row in written if row is not None]


def staff_rows(kind, *, patient, key, due_at, context, to_email="", to_phone=""):
    """The outbox rows of an alert to staff about `patient` (the treating
    practitioner, the clinic's own mailbox): an email to `to_email` and,
    when the kind goes as a text, a text to `to_phone` (E.164), each only when
    given. Staff agreed to alerts by giving the number, so the patient's
    choice about texts plays no part; an urgent kind's text goes at any hour.
    Templates: `emails/<kind>*` and `sms/<kind>.txt`, with `to` = "email" or
    "sms" in the context."""
    kind = KINDS[str(kind)]
    written = []
    base = {"kind": kind.code, "patient": patient, "due_at": due_at, "next_attempt_at": due_at}
    if to_email:
        mail = _context(patient, None, {**context, "to": "email"})
        written.append(
            {
                **base,
                "channel": Notification.Channel.EMAIL,
                "dedupe_key": f"email:{key}",
                "to_email": to_email,
                "subject": render_text(f"emails/{kind}_subject.txt", mail).strip(),
                "body_text": render_text(f"emails/{kind}.txt", mail),
                "body_html": render_to_string(f"emails/{kind}.html", mail),
            }
        )
    if to_phone and kind.texts != Texts.NEVER:
        due = due_at if kind.urgent else after_quiet_hours(due_at)
        text = _context(patient, None, {**context, "to": "sms"})
        written.append(
            {
                **base,
                "channel": Notification.Channel.SMS,
                "dedupe_key": f"sms:{key}",
                "to_phone": to_phone,
                "subject": "",
                "body_text": render_text(f"sms/{kind}.txt", text).strip(),
                "due_at": due,
                "next_attempt_at": due,
            }
        )
    return written


def enqueue(kind, **row):
    """Write the outbox rows of one event (see rows()), each unless a row
    with its key exists already; returns the first (None when the patient can
    be reached by neither channel)."""
    written = []
    for fields in rows(kind, **row):
        key = fields.pop("dedupe_key")
        notification, _ = Notification.objects.get_or_create(dedupe_key=key, defaults=fields)
        written.append(notification)
    return written[0] if written else None


def enqueue_all(fields_list):
    """Write the rows (from rows()) in one INSERT, skipping any whose key
    exists already, as enqueue() does: a booking writes three emails, and one
    at a time they cost twelve queries of the request."""
    Notification.objects.bulk_create(
        [Notification(**fields) for fields in fields_list], ignore_conflicts=True
    )


def withdraw(queryset, *, reason):
    """Cancel the pending messages of `queryset`, in one UPDATE."""
    return queryset.filter(status=Notification.Status.PENDING).update(
        status=Notification.Status.CANCELLED, last_error=reason
    )


def withdraw_texts(patient, *, now):
    """The patient stopped texts: no pending one goes out."""
    withdraw(
        Notification.objects.filter(patient=patient, channel=Notification.Channel.SMS),
        reason=f"Texts stopped {now:%d %b %H:%M}",
    )


# Sending


def _claim(now):
    """Mark the next due row "sending" and return it (None: nothing is due)."""
    stale = now - CLAIM_TIMEOUT
    with transaction.atomic():
        due = Notification.objects.filter(
            Q(status=Notification.Status.PENDING, due_at__lte=now, next_attempt_at__lte=now)
            | Q(status=Notification.Status.SENDING, claimed_at__lt=stale)
        ).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        claimed = due.first()
        if claimed is not None:
            Notification.objects.filter(pk=claimed.pk).update(
                status=Notification.Status.SENDING, claimed_at=now
            )
    return claimed


def _send(notification):
    if notification.channel == Notification.Channel.SMS:
        sms.send(to=notification.to_phone, body=notification.body_text)
        return
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        to=[notification.to_email],
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    if notification.attachment:
        message.attach(
            notification.attachment_name, notification.attachment, "text/calendar; charset=utf-8"
        )
    message.send()


OUTDATED_VISIT = "The appointment had already started."
OUTDATED_LATE = "Too late to be useful: the sender was not running when it was due."


def _outdated(notification, now):
    if notification.not_after and notification.not_after <= now:
        return OUTDATED_VISIT
    kind = KINDS.get(notification.kind)
    if kind and kind.shelf_life and now > notification.due_at + kind.shelf_life:
        return OUTDATED_LATE
    return None


def send_due(*, now=None, batch=50):
    """Send up to `batch` due messages; returns (sent, failed). Messages that
    have become pointless (see _outdated) are marked so, not sent."""
    fixed_now = now
    sent = failed = 0
    for _ in range(batch):
        now = fixed_now or timezone.now()
        notification = _claim(now)
        if notification is None:
            break
        urgent = getattr(KINDS.get(notification.kind), "urgent", False)
        if notification.channel == Notification.Channel.SMS and _quiet(now) and not urgent:
            # Claimed late, at night: it waits for the morning.
            notification.status = Notification.Status.PENDING
            notification.next_attempt_at = after_quiet_hours(now)
            notification.save(update_fields=["status", "next_attempt_at"])
            continue
        reason = _outdated(notification, now)
        if reason:
            notification.status = Notification.Status.CANCELLED
            notification.last_error = reason
            notification.save(update_fields=["status", "last_error"])
            continue
        try:
            _send(notification)
        except Exception as exc:  # any failure is recorded, and retried with backoff
            notification.attempts += 1
            notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if notification.attempts >= len(BACKOFF):
                notification.status = Notification.Status.FAILED
            else:
                notification.status = Notification.Status.PENDING
                notification.next_attempt_at = now + BACKOFF[notification.attempts - 1]
            log.warning("Notification %s failed: %s", notification.pk, notification.last_error)
            failed += 1
        else:
            notification.attempts += 1
            notification.status = Notification.Status.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
            sent += 1
        notification.save(
            update_fields=["attempts", "status", "next_attempt_at", "last_error", "sent_at"]
        )
    return sent, failed
