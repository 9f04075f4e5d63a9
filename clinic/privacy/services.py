"""Erasure requests: restrict at once, wipe what need not be kept, keep the
clinical record until its retention ends (see privacy/retention.py)."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookings.models import WaitlistEntry
from clinic.models import Notification, Patient
from clinic.privacy.models import ErasureRequest
from clinic.rules import add_months
from treatments.models import TreatmentRecord

ERASED_NAME = "Erased patient"


def retain_until(patient: Patient, *, today):
    """RETENTION_YEARS after the last treatment, or after today if none."""
    last = (
        TreatmentRecord.objects.filter(patient=patient)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    start = timezone.localdate(last) if last else today
    return add_months(start, 12 * settings.RETENTION_YEARS)


@transaction.atomic
def erasure_request(*, patient: Patient, by, note: str = "", now=None) -> ErasureRequest:
    now = now or timezone.now()
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    user = patient.user
    if user is not None:
        # Closing the account ends its sessions (accounts.signals).
        user.is_active = False
        user.email = f"erased-{user.pk}@invalid.example"
        user.full_name = ERASED_NAME
        user.set_unusable_password()
        user.save()
    emails = Notification.objects.filter(patient=patient)
    emails.filter(status=Notification.Status.PENDING).update(
        status=Notification.Status.CANCELLED, last_error="The patient asked for erasure."
    )
    emails.update(to_email="", subject="(erased)", body_text="", body_html="", attachment="")
    patient.email = ""
    patient.save()
    WaitlistEntry.objects.waiting().filter(patient=patient).update(
        status=WaitlistEntry.Status.REMOVED
    )
    # The change history keeps old values too: the address goes there as well.
    Patient.history_log.filter(id=patient.pk).update(email="")
    return ErasureRequest.objects.create(
        patient=patient,
        patient_ref=patient.pk,
        requested_at=now,
        recorded_by=by,
        note=note,
        retain_until=retain_until(patient, today=timezone.localdate(now)),
    )
