"""The patient page, the hub staff work from: contact details, screening, what
is coming up and what is past, signed treatments, messages."""

from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone

from bookings.models import Appointment
from bookings.safety import next_toxin_dates
from clinic.access import permission_required
from clinic.audit import log_view
from clinic.models import MedicalHistory, Notification
from clinic.views import _patient_for
from treatments.consent import attach_consent
from treatments.models import InjectionLine, Procedure, TreatmentRecord
from treatments.screening import screen_patient

PATIENT_PAGE_APPOINTMENTS = 30  # the newest; the calendar has the rest
PATIENT_PAGE_RECORDS = 10


@permission_required("clinic.view_patient")
def patient_detail(request, pk):
    patient = _patient_for(request, pk)
    today = timezone.localdate()
    history = MedicalHistory.objects.latest_for(patient)
    procedures = list(Procedure.objects.active().with_parts())
    screenings = [
        (
            procedure,
            screen_patient(
                patient=patient, procedure=procedure, on=today, today=today, history=history
            ),
        )
        for procedure in procedures
    ]
    clinical = request.user.has_perm("clinic.view_clinical_details")
    if clinical and history is not None:
        log_view(request, what="screening details", obj=history, patient=patient)
    now = timezone.now()
    appointments = attach_consent(
        Appointment.objects.filter(patient=patient)
        .select_related("practitioner", "procedure")
        .prefetch_related("procedure__components")
        .order_by("-starts_at")[:PATIENT_PAGE_APPOINTMENTS],
        now=now,
    )
    upcoming = [a for a in reversed(appointments) if a.is_active and a.blocked_until >= now]
    past = [a for a in appointments if a not in upcoming]
    records = []
    if request.user.has_perm("treatments.view_treatmentrecord"):
        records = list(
            TreatmentRecord.objects.signed()
            .filter(patient=patient)
            .select_related("procedure", "practitioner")
            .prefetch_related(
                Prefetch("lines", InjectionLine.objects.select_related("product", "lot"))
            )[:PATIENT_PAGE_RECORDS]
        )
        for record in records:
            totals = {}
            for line in record.lines.all():
                key = (line.product, line.lot.lot_number)
                totals[key] = totals.get(key, 0) + line.amount
            record.amounts = [(product, lot, amount) for (product, lot), amount in totals.items()]
        if records:
            log_view(request, what="treatment records (patient page)", patient=patient)
    return render(
        request,
        "clinic/patient_detail.html",
        {
            "patient": patient,
            "history": history,
            "state": MedicalHistory.state_of(history, today=today),
            "screenings": screenings,
            "clinical": clinical,
            "next_toxin": next_toxin_dates(
                patient, today=today, history=history, procedures=procedures
            ),
            "upcoming": upcoming,
            "past": past,
            "records": records,
            "emails": Notification.objects.filter(patient=patient).order_by("-due_at")[:10],
        },
    )
