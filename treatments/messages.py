"""The messages of the clinical records: consent links, aftercare when a
record is signed (with the link to report a problem), the rebooking recall on
its follow-up date, and the alerts a red-flag report raises. Written through
the base layer's outbox (clinic.outbox), in the caller's transaction."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from bookings.messages import RECALL, RECALL_TIME
from clinic import outbox
from clinic.models import Texts, message_kind
from treatments.aftercare import red_flags_for
from treatments.reports import report_token

CONSENT = message_kind("consent", "Consent to sign", texts=Texts.ALWAYS)
AFTERCARE = message_kind("aftercare", "Aftercare instructions")
COMPLICATION_CHECK = message_kind(
    "complication_check", "Check-in after a complication", texts=Texts.ALWAYS
)
REPORT_ALERT = message_kind(
    "report_alert", "Red-flag report (alert to staff)", texts=Texts.ALWAYS, urgent=True
)


def consent_requested(appointment, *, url, request_pk, now):
    outbox.enqueue(
        CONSENT,
        patient=appointment.patient,
        appointment=appointment,
        key=f"consent:{request_pk}",
        due_at=now,
        not_after=appointment.starts_at,
        context={"url": url, "hours": settings.CONSENT_LINK_HOURS},
    )


def treatment_signed(record, *, now):
    """Aftercare at once; a rebooking recall on the follow-up date."""
    appointment = record.appointment
    outbox.enqueue(
        AFTERCARE,
        patient=record.patient,
        appointment=appointment,
        key=f"aftercare:{record.pk}",
        due_at=now,
        context={
            "record": record,
            "lines": [x for x in record.postcare_given.splitlines() if x.strip()],
            "red_flags": red_flags_for(appointment.procedure.agents),
            "report_url": settings.SITE_URL
            + reverse("treatments:report_link", args=[report_token(record)]),
            "report_days": settings.PATIENT_REPORT_DAYS,
        },
    )
    if record.rebook_date:
        outbox.enqueue(
            RECALL,
            patient=record.patient,
            appointment=appointment,
            key=f"recall:{record.pk}",
            due_at=max(now, timezone.make_aware(datetime.combine(record.rebook_date, RECALL_TIME))),
            context={"record": record},
        )


def report_alert(report, *, now):
    """A red-flag report: an email (and a text where there is a number) to the
    treating practitioner and to the clinic, due now, in the report's own
    transaction. They name the patient and their number so the call back
    needs nothing else; the answers in full are on the report's page."""
    record = report.record
    practitioner = record.practitioner
    context = {
        "report": report,
        "record": record,
        "signs": [q.sign for q in report.red_flags],
        "url": settings.SITE_URL + reverse("treatments:report", args=[report.pk]),
    }
    recipients = [
        ("practitioner", practitioner.user.email, practitioner.alert_phone),
        ("clinic", settings.CLINIC_ALERT_EMAIL, settings.CLINIC_ALERT_PHONE),
    ]
    rows = []
    for who, email, phone in recipients:
        rows += outbox.staff_rows(
            REPORT_ALERT,
            patient=report.patient,
            key=f"report:{report.pk}:{who}",
            due_at=now,
            context={**context, "recipient": who},
            to_email=email,
            to_phone=phone,
        )
    outbox.enqueue_all(rows)
    return rows


def complication_check_ins(complication, check_ins):
    """At each check-in the patient is asked the red-flag questions and given
    the link to tell the clinic; by text too when they agreed to texts (a
    message that reaches them matters more here than anywhere)."""
    record = complication.record
    url = settings.SITE_URL + reverse("treatments:report_link", args=[report_token(record)])
    for check_in in check_ins:
        outbox.enqueue(
            COMPLICATION_CHECK,
            patient=complication.patient,
            appointment=record.appointment,
            key=f"complication_check:{check_in.pk}",
            due_at=check_in.due_at,
            context={
                "record": record,
                "red_flags": red_flags_for(record.procedure.agents),
                "report_url": url,
            },
        )
