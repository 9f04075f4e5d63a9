"""The messages of the clinical records: consent links, aftercare when a
record is signed, and the rebooking recall on its follow-up date. Written
through the base layer's outbox (clinic.outbox), in the caller's transaction."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from bookings.messages import RECALL, RECALL_TIME
from clinic import outbox
from clinic.models import Texts, message_kind
from treatments.aftercare import red_flags_for

CONSENT = message_kind("consent", "Consent to sign", texts=Texts.ALWAYS)
AFTERCARE = message_kind("aftercare", "Aftercare instructions")


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
