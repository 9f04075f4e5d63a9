"""A copy of everything Vermilion holds on one patient (the right of access).

One zip: a JSON file per kind of record (every field, as Django serialises
it), the drawn signatures as the exact PNG bytes kept as evidence (with their
SHA-256 in the JSON), the clinical photos as the JPEGs stored (photos.json
lists them with theirs), and `index.html`, the same in a document a person can
read. Reads only: the caller audits the export.
"""

import hashlib
import io
import json
import zipfile

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone

from bookings.models import Appointment, AppointmentEvent, WaitlistEntry, WaitlistOffer
from clinic.models import AuditEvent, MedicalHistory, Notification, Patient
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
from treatments.services import photo_bytes

# Kept as evidence in the database, but not what a person wants to read in a
# JSON file: the signature goes in its own file, the .ics is in the email.
# A link's nonce is the secret that makes it work: never copied out.
LEFT_OUT = {
    "signature_png": "signatures/",
    "attachment": "(the .ics of the email)",
    "nonce": "(secret)",
    "image_name": "photos/",
    "thumbnail_name": "(a smaller copy of the photo)",
}


def _rows(queryset):
    rows = serializers.serialize("python", queryset)
    for row in rows:
        for name, note in LEFT_OUT.items():
            if name in row["fields"]:
                row["fields"][name] = note if row["fields"][name] else ""
    return rows


def patient_records(patient: Patient) -> dict:
    """Every record of the patient, by kind, in the order a person reads them."""
    appointments = Appointment.objects.filter(patient=patient).order_by("starts_at")
    records = TreatmentRecord.objects.filter(patient=patient).order_by("started_at")
    signatures = ConsentSignature.objects.filter(patient=patient).order_by("signed_at")
    return {
        "patient": Patient.objects.filter(pk=patient.pk),
        "medical_histories": MedicalHistory.objects.filter(patient=patient).order_by(
            "submitted_at"
        ),
        "appointments": appointments,
        "appointment_events": AppointmentEvent.objects.filter(
            appointment__in=appointments
        ).order_by("at"),
        "same_day_checks": SameDayCheck.objects.filter(appointment__in=appointments),
        "consent_links": ConsentRequest.objects.filter(appointment__in=appointments),
        "consents": signatures,
        "prescriber_assessments": PrescriberAssessment.objects.filter(patient=patient).order_by(
            "assessed_at"
        ),
        "prescriptions": Prescription.objects.filter(patient=patient).order_by("written_at"),
        "prescribed_medicines": PrescriptionItem.objects.filter(
            prescription__patient=patient
        ).order_by("pk"),
        "prescription_withdrawals": PrescriptionWithdrawal.objects.filter(
            prescription__patient=patient
        ).order_by("withdrawn_at"),
        "treatment_records": records,
        "injections": InjectionLine.objects.filter(record__in=records).order_by("pk"),
        "addenda": Addendum.objects.filter(record__in=records).order_by("pk"),
        "complications": Complication.objects.filter(patient=patient).order_by("opened_at"),
        "complication_steps": ComplicationStep.objects.filter(
            complication__patient=patient
        ).order_by("at", "pk"),
        "complication_check_ins": ComplicationCheckIn.objects.filter(
            complication__patient=patient
        ).order_by("due_at", "pk"),
        "complication_reports": RegulatorReport.objects.filter(
            complication__patient=patient
        ).order_by("reported_on", "pk"),
        "problem_reports": PatientReport.objects.filter(patient=patient).order_by("submitted_at"),
        "problem_report_reviews": PatientReportReview.objects.filter(
            report__patient=patient
        ).order_by("reviewed_at"),
        "photo_records": Photo.objects.filter(patient=patient).order_by("taken_at", "pk"),
        "waitlist": WaitlistEntry.objects.filter(patient=patient).order_by("created_at"),
        "waitlist_offers": WaitlistOffer.objects.filter(entry__patient=patient).order_by(
            "offered_at"
        ),
        "photo_consents": PhotoConsent.objects.filter(patient=patient).order_by("signed_at", "pk"),
        "emails": Notification.objects.filter(patient=patient).order_by("due_at"),
        "who_read_the_records": AuditEvent.objects.filter(patient=patient)
        .select_related("user")
        .order_by("at"),
    }


def _readable(obj):
    """(label, value) for each field of `obj`, as a person reads them."""
    pairs = []
    for field in obj._meta.concrete_fields:
        if field.name in LEFT_OUT or field.name == "id":
            continue
        display = getattr(obj, f"get_{field.name}_display", None)
        value = display() if display else getattr(obj, field.name)
        if value in ("", None, []):
            continue
        pairs.append((str(field.verbose_name).capitalize(), value))
    return pairs


def patient_export(patient: Patient, *, now=None) -> bytes:
    now = now or timezone.now()
    records = patient_records(patient)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, queryset in records.items():
            archive.writestr(
                f"{name}.json", json.dumps(_rows(queryset), cls=DjangoJSONEncoder, indent=2)
            )
        signatures = []
        for record in records["consents"]:
            if record.signature_png:
                png = bytes(record.signature_png)
                path = f"signatures/consent-{record.pk}.png"
                archive.writestr(path, png)
                signatures.append(
                    {"consent": record.pk, "file": path, "sha256": hashlib.sha256(png).hexdigest()}
                )
        for record in records["photo_consents"]:
            if record.signature_png:
                png = bytes(record.signature_png)
                path = f"signatures/photo-consent-{record.pk}.png"
                archive.writestr(path, png)
                signatures.append(
                    {
                        "photo_consent": record.pk,
                        "file": path,
                        "sha256": hashlib.sha256(png).hexdigest(),
                    }
                )
        archive.writestr("signatures.json", json.dumps(signatures, indent=2))
        photos = []
        for photo in records["photo_records"]:
            jpeg = photo_bytes(photo)
            path = f"photos/photo-{photo.pk}-{photo.phase}-{photo.view}.jpg"
            archive.writestr(path, jpeg)
            photos.append(
                {
                    "photo": photo.pk,
                    "file": path,
                    "taken_at": photo.taken_at.isoformat(),
                    "phase": photo.get_phase_display(),
                    "view": photo.get_view_display(),
                    "sha256": hashlib.sha256(jpeg).hexdigest(),
                }
            )
        archive.writestr("photos.json", json.dumps(photos, indent=2))
        archive.writestr(
            "index.html",
            render_to_string(
                "privacy/export.html",
                {
                    "patient": patient,
                    "now": now,
                    "sections": [
                        (name.replace("_", " ").capitalize(), [_readable(o) for o in queryset])
                        for name, queryset in records.items()
                    ],
                    "signatures": signatures,
                    "photos": photos,
                },
            ),
        )
    return buffer.getvalue()
