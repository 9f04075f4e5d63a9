"""Keeping clinical records for as long as the law asks, and no longer.

`retention_due(today)` finds the patients whose last treatment (or, without
one, last appointment or registration) is more than RETENTION_YEARS ago;
`patient_purge()` deletes everything held on one of them. The append-only
guards exist to stop records being changed or deleted while they must be kept;
the purge is the one sanctioned way past them once they need not be: it calls
Django's own QuerySet.delete() under the app-level guard and, on PostgreSQL,
disables the append-only triggers on the tables it purges inside its own
transaction (ALTER TABLE is transactional there, so nothing else ever sees
them off, and a failure leaves every trigger on).
"""

from datetime import date

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models import Max, ProtectedError, Q
from django.db.models.functions import Coalesce, Greatest

from bookings.models import Appointment, AppointmentEvent, WaitlistEntry, WaitlistOffer
from clinic.models import AuditEvent, MedicalHistory, Notification, Patient
from clinic.privacy.models import ErasureRequest
from clinic.rules import add_months
from treatments.models import (
    Addendum,
    Complication,
    ComplicationCheckIn,
    ComplicationStep,
    ConsentRequest,
    ConsentSignature,
    InjectionLine,
    PatientReport,
    PatientReportReview,
    Photo,
    PhotoConsent,
    PrescriberAssessment,
    Prescription,
    PrescriptionItem,
    PrescriptionWithdrawal,
    RegulatorReport,
    SameDayCheck,
    TreatmentRecord,
)
from treatments.services import photo_storage


def retention_cutoff(today: date) -> date:
    return add_months(today, -12 * settings.RETENTION_YEARS)


def retention_due(today: date):
    """Patients whose records the clinic no longer has to keep on `today`."""
    cutoff = retention_cutoff(today)
    return Patient.objects.annotate(
        last_seen=Greatest(
            Coalesce(Max("treatment_records__started_at"), "created_at"),
            Coalesce(Max("appointments__starts_at"), "created_at"),
        )
    ).filter(last_seen__date__lt=cutoff)


def _delete(queryset):
    # Django's own delete, past AppendOnlyQuerySet's refusal.
    return models.QuerySet.delete(queryset)


def _append_only_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE %s",
            ["%append_only%"],
        )
        return cursor.fetchall()


def _set_triggers(triggers, *, enabled):
    verb = "ENABLE" if enabled else "DISABLE"
    with connection.cursor() as cursor:
        for table, trigger in triggers:
            cursor.execute(
                f"ALTER TABLE {connection.ops.quote_name(table)} "
                f"{verb} TRIGGER {connection.ops.quote_name(trigger)}"
            )


@transaction.atomic
def patient_purge(*, patient: Patient, now) -> None:
    """Delete every record of `patient`, in the order the foreign keys need."""
    triggers = []
    if connection.vendor == "postgresql":
        # Foreign keys are checked at commit by default; PostgreSQL will not
        # ALTER a table with such checks pending, so check them as we go.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        triggers = _append_only_triggers()
    _set_triggers(triggers, enabled=False)
    appointments = Appointment.objects.filter(patient=patient)
    records = TreatmentRecord.objects.filter(patient=patient)
    record_ids = list(records.values_list("pk", flat=True))
    user = patient.user
    read_by_or_about = Q(patient=patient) | (Q(user=user) if user else Q(pk__in=[]))
    photos = Photo.objects.filter(patient=patient)
    files = [name for pair in photos.values_list("image_name", "thumbnail_name") for name in pair]
    # Each photo consent may supersede the one before: newest first.
    for pk in PhotoConsent.objects.filter(patient=patient).order_by("-pk").values_list("pk"):
        _delete(PhotoConsent.objects.filter(pk=pk[0]))
    for queryset in (
        photos,
        PatientReportReview.objects.filter(report__patient=patient),
        PatientReport.objects.filter(patient=patient),
        RegulatorReport.objects.filter(complication__patient=patient),
        ComplicationCheckIn.objects.filter(complication__patient=patient),
        ComplicationStep.objects.filter(complication__patient=patient),
        Complication.objects.filter(patient=patient),
        InjectionLine.objects.filter(record__in=records),
        Addendum.objects.filter(record__in=records),
        records,
        PrescriptionWithdrawal.objects.filter(prescription__patient=patient),
        PrescriptionItem.objects.filter(prescription__patient=patient),
        Prescription.objects.filter(patient=patient),
        PrescriberAssessment.objects.filter(patient=patient),
        SameDayCheck.objects.filter(appointment__in=appointments),
        ConsentSignature.objects.filter(patient=patient, supersedes__isnull=False),
        ConsentSignature.objects.filter(patient=patient),
        ConsentRequest.objects.filter(appointment__in=appointments),
        Notification.objects.filter(patient=patient),
        WaitlistOffer.objects.filter(entry__patient=patient),
        WaitlistEntry.objects.filter(patient=patient),
        AppointmentEvent.objects.filter(appointment__in=appointments),
        appointments,
        MedicalHistory.objects.filter(patient=patient, confirms__isnull=False),
        MedicalHistory.objects.filter(patient=patient),
        AuditEvent.objects.filter(read_by_or_about),
    ):
        _delete(queryset)
    ErasureRequest.objects.filter(patient=patient).update(purged_at=now)
    patient_id = patient.pk
    _delete(Patient.objects.filter(pk=patient_id))
    _purge_history(patient_id, record_ids)
    if user is not None:
        try:
            _delete(get_user_model().objects.filter(pk=user.pk))
        except ProtectedError:  # the account also did something kept elsewhere
            get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    _set_triggers(triggers, enabled=True)
    # The photo files go once the rows are gone for good.
    transaction.on_commit(lambda: [photo_storage().delete(name) for name in files])


def _purge_history(patient_id, record_ids):
    """django-simple-history's copies, including the ones the deletes just wrote."""
    for app_label, name, field in (
        ("clinic", "Patient", "id"),
        ("clinic", "MedicalHistory", "patient_id"),
        ("bookings", "Appointment", "patient_id"),
        ("treatments", "TreatmentRecord", "patient_id"),
    ):
        history = apps.get_model(app_label, name).history_log.model
        _delete(history.objects.filter(**{field: patient_id}))
    _delete(InjectionLine.history_log.model.objects.filter(record_id__in=record_ids))
