"""The outbox: which emails an event calls for, when they are due, and sending
them exactly once.

Services call the functions below inside their own transaction, so an email
exists if and only if what it announces was saved (the outbox pattern). The
`send_due_notifications` command sends what is due. Two runners at once never
send the same row: each claims rows in a transaction (on PostgreSQL with
SELECT ... FOR UPDATE SKIP LOCKED, on SQLite under the IMMEDIATE write lock)
and marks them "sending" before it lets go. A runner that dies mid-send leaves
rows "sending"; after CLAIM_TIMEOUT they are claimed again, so an email is
sent at least once and, barring such a crash, exactly once. Rows are claimed
one at a time, just before each is sent: a claim covers one send (at most the
SMTP timeout), never a batch that could outlive CLAIM_TIMEOUT and have its
later rows claimed, and sent, by another runner too.
"""

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Q
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format

from bookings.ics import appointment_ics
from bookings.models import Notification
from clinic import sms
from treatments.aftercare import red_flags_for

log = logging.getLogger(__name__)

Kind = Notification.Kind
MORNING = time(8)  # pre-care reminders go out at 08:00 on the stop date
REMINDER_TIME = time(10)  # day-before reminders at 10:00
RECALL_TIME = time(9)
BACKOFF = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
           timedelta(hours=2), timedelta(hours=12)]  # fmt: skip
CLAIM_TIMEOUT = timedelta(minutes=15)
REMINDERS = (Kind.PRECARE, Kind.DAY_BEFORE)
# About an appointment still to come: pointless once it has started.
BEFORE_THE_VISIT = (*REMINDERS, Kind.CONFIRMATION, Kind.CONSENT, Kind.MOVED)
# A reminder this late (the sender was down) would only confuse: the
# confirmation already gave the dates.
REMINDER_SHELF_LIFE = timedelta(hours=12)


def _local(day, at):
    return timezone.make_aware(datetime.combine(day, at))


def _stamp(moment):
    return int(moment.timestamp())


def precare_instructions(appointment, *, anticoagulants=(), today=None):
    """What the patient does before the visit, as sentences with real dates.

    It never tells anyone to stop a prescribed blood thinner: patients who take
    one are told, by name, to keep taking it."""
    stop = appointment.precare_stop_date
    today = today or timezone.localdate()
    lines = [
        f"From {'today, ' if stop == today else ''}{date_format(stop, 'l j F')} until after "
        "your appointment, please have no alcohol.",
        "Over the same days, do not take blood thinners you can buy without a prescription: "
        "aspirin bought over the counter, ibuprofen, naproxen and other anti-inflammatory "
        "painkillers, fish oil, vitamin E, ginkgo, garlic tablets or St John's wort. "
        "Paracetamol is fine for pain.",
    ]
    if anticoagulants:
        lines.append(
            f"Keep taking {', '.join(anticoagulants)} exactly as your doctor prescribed: do not "
            "stop or change a prescribed medicine for this treatment. Your practitioner will "
            "talk it through with you."
        )
    else:
        lines.append(
            "If a doctor has prescribed you a blood thinner, keep taking it as prescribed and "
            "tell us before your visit."
        )
    if appointment.precare_flag == "short_window":
        lines.append("Only the minimum time is left, so please start straight away.")
    return lines


def anticoagulants_of(patient):
    from clinic.models import MedicalHistory

    history = MedicalHistory.objects.latest_for(patient)
    return history.anticoagulant_names() if history else []


def render_text(name, context):
    """A plain-text template, not HTML-escaped: "St John's wort" must not
    reach a patient as "St John&#x27;s wort"."""
    template = engines["django"].engine.get_template(name)
    return template.render(Context(context, autoescape=False))


# What goes out as a text too, for patients who agreed to texts: short
# reminders in plain words. A patient without an email also gets the
# confirmation and cancellation as texts.
SMS_KINDS = {Kind.PRECARE, Kind.DAY_BEFORE, Kind.CONSENT}
SMS_KINDS_WITHOUT_EMAIL = {Kind.CONFIRMATION, Kind.MOVED, Kind.CANCELLED}


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


def _rows(kind, *, patient, key, due_at, context, appointment=None, attachment=None):
    """The outbox rows for one event, rendered now: an email to a patient with
    an address, a text to one who agreed to texts (SMS_KINDS). Each row's
    dedupe key names its channel."""
    rows = [
        _rendered(
            kind,
            patient=patient,
            key=key,
            due_at=due_at,
            context=context,
            appointment=appointment,
            attachment=attachment,
        )
    ]
    texted = kind in SMS_KINDS or (kind in SMS_KINDS_WITHOUT_EMAIL and not patient.email)
    if patient.gets_texts and texted:
        body = render_text(f"sms/{kind}.txt", _context(patient, appointment, context)).strip()
        due = after_quiet_hours(due_at)
        rows.append(
            {
                "channel": Notification.Channel.SMS,
                "dedupe_key": f"sms:{key}",
                "kind": kind,
                "patient": patient,
                "appointment": appointment,
                "to_phone": patient.sms_number,
                "subject": "",
                "body_text": body,
                "due_at": due,
                "next_attempt_at": due,
            }
        )
    return [row for row in rows if row is not None]


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


def _rendered(kind, *, patient, key, due_at, context, appointment=None, attachment=None):
    """The fields of one email row, rendered now; None when the patient has
    no email address."""
    if not patient.email:
        return None
    context = _context(patient, appointment, context)
    return {
        "channel": Notification.Channel.EMAIL,
        "dedupe_key": f"email:{key}",
        "kind": kind,
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
    }


def enqueue(kind, **row):
    """Write the outbox rows of one event (an email, a text: see _rows), each
    unless a row with its key exists already; returns the first (None when
    the patient can be reached by neither)."""
    written = []
    for fields in _rows(kind, **row):
        key = fields.pop("dedupe_key")
        notification, _ = Notification.objects.get_or_create(dedupe_key=key, defaults=fields)
        written.append(notification)
    return written[0] if written else None


def _enqueue_all(rows):
    """Write the rows (from _rendered; None skipped) in one INSERT, skipping
    any whose key exists already, as enqueue() does: a booking writes three
    emails, and one at a time they cost twelve queries of the request."""
    Notification.objects.bulk_create(
        [Notification(**fields) for fields in rows if fields is not None], ignore_conflicts=True
    )


def _cancel_pending(appointment, kinds, *, now):
    Notification.objects.filter(
        appointment=appointment, status=Notification.Status.PENDING, kind__in=kinds
    ).update(status=Notification.Status.CANCELLED, last_error=f"Not needed after {now:%d %b %H:%M}")


def _reminders(appointment, *, now, instructions, moves=0):
    """Rows for pre-care on the morning of the stop date (at once if that has
    passed) and a reminder the day before (none when booked later than that).
    The keys name the move too: moved away and back to the same time, the
    appointment gets new reminders, not the keys of the cancelled ones."""
    start = f"{_stamp(appointment.starts_at)}:{moves}" if moves else _stamp(appointment.starts_at)
    rows = [
        *_rows(
            Kind.PRECARE,
            patient=appointment.patient,
            appointment=appointment,
            key=f"precare:{appointment.pk}:{start}",
            due_at=max(now, _local(appointment.precare_stop_date, MORNING)),
            context={"instructions": instructions},
        )
    ]
    day_before = _local(appointment.local_date - timedelta(days=1), REMINDER_TIME)
    if day_before > now:
        rows.extend(
            _rows(
                Kind.DAY_BEFORE,
                patient=appointment.patient,
                appointment=appointment,
                key=f"day_before:{appointment.pk}:{start}",
                due_at=day_before,
                context={"instructions": instructions},
            )
        )
    return rows


def appointment_booked(appointment, *, now, anticoagulants=None):
    """`anticoagulants`: the names from the patient's latest history, when the
    caller has it (the booking service does), to save reading it again."""
    if anticoagulants is None:
        anticoagulants = anticoagulants_of(appointment.patient)
    instructions = precare_instructions(
        appointment, anticoagulants=anticoagulants, today=timezone.localdate(now)
    )
    confirmation = _rows(
        Kind.CONFIRMATION,
        patient=appointment.patient,
        appointment=appointment,
        key=f"confirmation:{appointment.pk}",
        due_at=now,
        context={
            "instructions": instructions,
            "red_flags": red_flags_for(appointment.procedure.agents),
        },
        attachment=("appointment.ics", appointment_ics(appointment)),
    )
    _enqueue_all([*confirmation, *_reminders(appointment, now=now, instructions=instructions)])
    _withdraw_recalls(appointment, now=now)


def _withdraw_recalls(appointment, *, now):
    """A booking answers the recall for what it books: pending recalls of the
    patient's earlier treatments with the same agent (toxin, filler) are
    withdrawn, in one UPDATE."""
    agents = appointment.procedure.agents
    Notification.objects.filter(
        Q(appointment__procedure__agent__in=agents)
        | Q(appointment__procedure__components__agent__in=agents),
        patient=appointment.patient,
        kind=Kind.RECALL,
        status=Notification.Status.PENDING,
    ).exclude(appointment=appointment).update(
        status=Notification.Status.CANCELLED,
        last_error=f"Not needed: booked again on {now:%d %b %H:%M}",
    )


def appointment_moved(appointment, *, now, previous_start, moves):
    """The old reminders go; a notice with the updated calendar entry and new
    reminders come."""
    _cancel_pending(appointment, REMINDERS, now=now)
    instructions = precare_instructions(
        appointment,
        anticoagulants=anticoagulants_of(appointment.patient),
        today=timezone.localdate(now),
    )
    moved = _rows(
        Kind.MOVED,
        patient=appointment.patient,
        appointment=appointment,
        key=f"moved:{appointment.pk}:{_stamp(appointment.starts_at)}:{moves}",
        due_at=now,
        context={"previous_start": previous_start, "instructions": instructions},
        attachment=("appointment.ics", appointment_ics(appointment, sequence=moves)),
    )
    _enqueue_all(
        [*moved, *_reminders(appointment, now=now, instructions=instructions, moves=moves)]
    )


def appointment_cancelled(appointment, *, now, moves):
    _cancel_pending(appointment, [*REMINDERS, Kind.CONSENT, Kind.CONFIRMATION], now=now)
    enqueue(
        Kind.CANCELLED,
        patient=appointment.patient,
        appointment=appointment,
        key=f"cancelled:{appointment.pk}",
        due_at=now,
        context={},
        attachment=(
            "appointment.ics",
            appointment_ics(appointment, sequence=moves + 1, cancelled=True),
        ),
    )


def consent_requested(appointment, *, url, request_pk, now):
    enqueue(
        Kind.CONSENT,
        patient=appointment.patient,
        appointment=appointment,
        key=f"consent:{request_pk}",
        due_at=now,
        context={"url": url, "hours": settings.CONSENT_LINK_HOURS},
    )


def treatment_signed(record, *, now):
    """Aftercare at once; a rebooking recall on the follow-up date."""
    appointment = record.appointment
    enqueue(
        Kind.AFTERCARE,
        patient=record.patient,
        appointment=appointment,
        key=f"aftercare:{record.pk}",
        due_at=now,
        context={
            "record": record,
            "lines": [x for x in record.postcare_given.splitlines() if x.strip()],
            "red_flags": red_flags_for(appointment.procedure.agents),
        },
    )
    if record.rebook_date:
        enqueue(
            Kind.RECALL,
            patient=record.patient,
            appointment=appointment,
            key=f"recall:{record.pk}",
            due_at=max(now, _local(record.rebook_date, RECALL_TIME)),
            context={"record": record},
        )


def portal_invitation(patient, *, url, now):
    enqueue(
        Kind.INVITATION,
        patient=patient,
        key=f"invitation:{patient.pk}:{_stamp(now)}",
        due_at=now,
        context={"url": url},
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
        claimed = due.select_related("appointment").first()
        if claimed is not None:
            Notification.objects.filter(pk=claimed.pk).update(
                status=Notification.Status.SENDING, claimed_at=now
            )
    return claimed


def withdraw_texts(patient, *, now):
    """The patient stopped texts: no pending one goes out."""
    Notification.objects.filter(
        patient=patient, channel=Notification.Channel.SMS, status=Notification.Status.PENDING
    ).update(status=Notification.Status.CANCELLED, last_error=f"Texts stopped {now:%d %b %H:%M}")


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


def _outdated(notification, now):
    appointment = notification.appointment
    if notification.kind in BEFORE_THE_VISIT and appointment and appointment.starts_at <= now:
        return "The appointment had already started."
    if notification.kind in REMINDERS and now > notification.due_at + REMINDER_SHELF_LIFE:
        return "Too late to be useful: the sender was not running when it was due."
    return None


def send_due(*, now=None, batch=50):
    """Send up to `batch` due notifications; returns (sent, failed). Emails
    that have become pointless (see _outdated) are marked so, not sent."""
    fixed_now = now
    sent = failed = 0
    for _ in range(batch):
        now = fixed_now or timezone.now()
        notification = _claim(now)
        if notification is None:
            break
        if notification.channel == Notification.Channel.SMS and _quiet(now):
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
