"""The patient portal in one place: the patient's appointments and what to do
before each, booking, moving and cancelling online, the medical history,
texts, and reporting a problem after a treatment. A page of the top layer: it
combines bookings, clinical records and the people. (The consent page stays
with consent: treatments.views.portal_consent.)"""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings import messages as appointment_messages
from bookings import services, waitlist
from bookings.availability import first_compliant_slots
from bookings.forms import (
    ConfirmForm,
    ProposalForm,
    SlotSearchForm,
    WaitlistForm,
)
from bookings.models import Appointment, WaitlistEntry
from bookings.online import offered_online
from bookings.safety import next_toxin_dates, patient_window
from bookings.views.booking import assess_or_error, slot_days
from bookings.views.common import SLOT_DAYS
from clinic import services as clinic_services
from clinic.access import role_required
from clinic.audit import log_view
from clinic.flash import call_service
from clinic.forms import MedicalHistoryForm, ReasonForm, TextsForm, post_data
from clinic.models import MedicalHistory, Patient, Practitioner
from clinic.params import DayField, read_query
from clinic.roles import Role
from treatments import views as treatment_views
from treatments.consent import attach_consent
from treatments.models import PatientReport, Procedure, TreatmentRecord
from treatments.safety.engine import TOO_LATE_TO_CHANGE, Step
from treatments.services import reportable_since

PortalMoveQuery = type("PortalMoveQuery", (forms.Form,), {"from": DayField()})
# The booking page's "nothing soon enough?" link names the procedure.
WaitlistQuery = type(
    "WaitlistQuery",
    (forms.Form,),
    {"procedure": forms.IntegerField(min_value=1, max_value=2**31 - 1, required=False)},
)


def _own_patient(request):
    return get_object_or_404(Patient, user=request.user)


def _own_appointments(request):
    return (
        Appointment.objects.filter(patient__user=request.user)
        .select_related("patient", "practitioner", "procedure")
        .prefetch_related("procedure__components")
    )


def _changeable(appointment, now):
    """Whether the portal offers Move and Cancel: the services decide (the
    safety engine's online policy); this only hides buttons that would be
    refused."""
    return (
        appointment.status == Appointment.Status.BOOKED
        and appointment.starts_at - now >= timedelta(hours=settings.CANCELLATION_NOTICE_HOURS)
    )


@role_required(Role.PATIENT)
def portal_home(request):
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        return render(request, "bookings/portal_unlinked.html")
    now = timezone.now()
    today = timezone.localdate(now)
    history = MedicalHistory.objects.latest_for(patient)
    anticoagulants = history.anticoagulant_names() if history else []
    appointments = attach_consent(_own_appointments(request).order_by("starts_at"), now=now)
    upcoming = [
        a
        for a in appointments
        if a.is_active and a.blocked_until >= now and a.status != "completed"
    ]
    for appointment in upcoming:
        appointment.instructions = appointment_messages.precare_instructions(
            appointment, anticoagulants=anticoagulants, today=today
        )
        appointment.changeable = _changeable(appointment, now)
    past = [a for a in reversed(appointments) if a not in upcoming]
    records = {
        record.appointment_id: record
        for record in TreatmentRecord.objects.signed().filter(patient=patient)
    }
    since = reportable_since(now)
    for appointment in past:
        appointment.record = records.get(appointment.pk)
        appointment.reportable = bool(appointment.record and appointment.record.started_at >= since)
    return render(
        request,
        "bookings/portal_home.html",
        {
            "patient": patient,
            "upcoming": upcoming,
            "past": past,
            "history_state": MedicalHistory.state_of(history, today=today),
            "notice_hours": settings.CANCELLATION_NOTICE_HOURS,
            "next_toxin": next_toxin_dates(patient, today=today, history=history),
        },
    )


@role_required(Role.PATIENT)
def portal_cancel(request, pk):
    appointment = get_object_or_404(_own_appointments(request), pk=pk)
    form = ReasonForm(post_data(request), label="Anything we should know? (optional)")
    form.fields["reason"].required = False
    if (
        request.method == "POST"
        and form.is_valid()
        and form.call_service(
            services.patient_cancel,
            appointment=appointment,
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
    ):
        messages.success(request, "Your appointment is cancelled. We have emailed you to confirm.")
        return redirect("portal_home")
    return render(
        request,
        "bookings/portal_cancel.html",
        {
            "appointment": appointment,
            "form": form,
            "changeable": _changeable(appointment, timezone.now()),
        },
    )


@role_required(Role.PATIENT)
def portal_move(request, pk):
    appointment = get_object_or_404(_own_appointments(request), pk=pk)
    now = timezone.now()
    if not _changeable(appointment, now):
        refusal = (
            TOO_LATE_TO_CHANGE.text(
                hours=settings.CANCELLATION_NOTICE_HOURS, phone=settings.CLINIC_PHONE
            )
            if appointment.status == Appointment.Status.BOOKED
            else f"This appointment is no longer booked. Please call us on {settings.CLINIC_PHONE}."
        )
        messages.error(request, refusal)
        return redirect("portal_home")
    on_or_after = read_query(request, PortalMoveQuery)["from"]
    history = MedicalHistory.objects.latest_for(appointment.patient)
    result = first_compliant_slots(
        procedure=appointment.procedure,
        days=SLOT_DAYS,
        on_or_after=on_or_after,
        now=now,
        window=patient_window(appointment.patient, appointment.procedure, history=history),
    )
    # A patient moving online gets the full recommended window, never the
    # minimum-window warning: that needs a conversation with the front desk.
    slots = [s for s in result.slots if s.local_start.date() >= result.recommended_date]
    days = slot_days(
        slots,
        confirm_url=reverse("portal_move_confirm", args=[appointment.pk]),
        procedure=appointment.procedure,
    )
    later = max(result.recommended_date, on_or_after or now.date())
    return render(
        request,
        "bookings/portal_move.html",
        {
            "appointment": appointment,
            "days": days,
            "later_url": f"?from={(later + timedelta(days=SLOT_DAYS)).isoformat()}",
        },
    )


@role_required(Role.PATIENT)
def portal_move_confirm(request, pk):
    appointment = get_object_or_404(_own_appointments(request), pk=pk)
    proposal = ProposalForm(request.GET)
    if not proposal.is_valid() or proposal.cleaned_data["procedure"] != appointment.procedure:
        messages.error(request, "That time could not be read. Pick one again.")
        return redirect("portal_move", pk=appointment.pk)
    data = proposal.cleaned_data
    form = ConfirmForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        moved = form.call_service(
            services.patient_move,
            appointment=appointment,
            by=request.user,
            starts_at=data["start"],
            practitioner=data["practitioner"],
        )
        if moved:
            messages.success(
                request, "Moved. We have emailed you the new date and what to do before it."
            )
            return redirect("portal_home")
    assessment, refusal = assess_or_error(proposal, patient=appointment.patient, ignore=appointment)
    instructions = []
    if assessment is not None:
        preview = Appointment(
            precare_stop_date=assessment.precare.stop_date, precare_flag=assessment.precare_flag
        )
        instructions = appointment_messages.precare_instructions(
            preview, anticoagulants=appointment_messages.anticoagulants_of(appointment.patient)
        )
    return render(
        request,
        "bookings/portal_move_confirm.html",
        {
            "appointment": appointment,
            "proposal": data,
            "form": form,
            "assessment": assessment,
            "refusal": refusal,
            "instructions": instructions,
        },
    )


@role_required(Role.PATIENT)
def portal_book(request):
    """The patient picks a procedure, then a time: only times that leave the
    full recommended pre-care window (for them: their blood thinners count)."""
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        return render(request, "bookings/portal_unlinked.html")
    now = timezone.now()
    procedures = list(Procedure.objects.active().filter(online_booking=True).with_parts())
    search = SlotSearchForm(request.GET)
    procedure = search.cleaned_data["procedure"] if search.is_valid() else None
    context = {"patient": patient, "procedures": procedures, "procedure": procedure}
    if procedure is not None:
        on_or_after = search.cleaned_data.get("on_or_after")
        history = MedicalHistory.objects.latest_for(patient)
        result = first_compliant_slots(
            procedure=procedure,
            practitioners=list(Practitioner.objects.active().filter(online_booking=True)),
            days=SLOT_DAYS,
            on_or_after=on_or_after,
            now=now,
            window=patient_window(patient, procedure, history=history),
        )
        slots = offered_online(result.slots, recommended_date=result.recommended_date, now=now)
        later = max(result.recommended_date, on_or_after or timezone.localdate(now))
        later += timedelta(days=SLOT_DAYS)
        context.update(
            days=slot_days(slots, confirm_url=reverse("portal_book_confirm"), procedure=procedure),
            next_toxin=next_toxin_dates(
                patient, today=timezone.localdate(now), history=history, procedures=[procedure]
            ),
            later_url=f"?{urlencode({'procedure': procedure.pk, 'on_or_after': later})}",
        )
    return render(request, "bookings/portal_book.html", context)


@role_required(Role.PATIENT)
def portal_book_confirm(request):
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        return render(request, "bookings/portal_unlinked.html")
    proposal = ProposalForm(request.GET)
    if not proposal.is_valid():
        messages.error(request, "That time could not be read. Pick one again.")
        return redirect("portal_book")
    data = proposal.cleaned_data
    form = ConfirmForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        booked = form.call_service(
            services.patient_book,
            patient=patient,
            practitioner=data["practitioner"],
            procedure=data["procedure"],
            starts_at=data["start"],
            by=request.user,
        )
        if booked:
            messages.success(
                request,
                "Booked. We have emailed you the details and what to do before the visit; "
                "you can sign the consent form now.",
            )
            return redirect("treatments:portal_consent", appointment_pk=booked.pk)
    assessment = refusal = None
    try:
        assessment = services.assess(
            patient=patient,
            practitioner=data["practitioner"],
            procedure=data["procedure"],
            starts_at=data["start"],
            step=Step.PATIENT_BOOK,
        )
    except ValidationError as exc:
        refusal = exc
    instructions = appointment_messages.assessment_instructions(assessment)
    return render(
        request,
        "bookings/portal_book_confirm.html",
        {
            "proposal": data,
            "form": form,
            "assessment": assessment,
            "refusal": refusal,
            "instructions": instructions,
        },
    )


@require_POST
@role_required(Role.PATIENT)
def portal_texts(request):
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        return redirect("portal_home")
    if request.POST.get("stop"):
        clinic_services.patient_texts_stop(patient=patient)
        messages.success(request, "Texts are off. We will still email you.")
        return redirect("portal_home")
    form = TextsForm(request.POST)
    if form.is_valid() and form.call_service(
        clinic_services.patient_texts_start,
        patient=patient,
        number=form.cleaned_data["number"],
        via="on the portal",
    ):
        messages.success(request, "Texts are on: we will text your reminders too.")
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect("portal_home")


@role_required(Role.PATIENT)
def portal_history(request):
    patient = _own_patient(request)
    latest = MedicalHistory.objects.latest_for(patient)
    form = MedicalHistoryForm(post_data(request), initial_history=latest)
    if request.method == "GET" and latest is not None:
        log_view(request, what="medical history", obj=latest, patient=patient)
    if (
        request.method == "POST"
        and form.is_valid()
        and form.save(patient=patient, user=request.user, source=MedicalHistory.Source.PATIENT)
    ):
        messages.success(request, "Thank you: your medical history is saved.")
        return redirect("portal_home")
    state = MedicalHistory.state_of(latest, today=timezone.localdate())
    return render(
        request,
        "clinic/portal_history.html",
        {"patient": patient, "history": latest, "form": form, "state": state},
    )


@require_POST
@role_required(Role.PATIENT)
def portal_history_reconfirm(request):
    patient = _own_patient(request)
    called = call_service(
        request,
        clinic_services.medical_history_reconfirm,
        success="Thank you: your answers are confirmed as up to date.",
        patient=patient,
        submitted_by=request.user,
        source=MedicalHistory.Source.PATIENT,
    )
    return redirect("portal_home" if called.ok else "portal_history")


@role_required(Role.PATIENT)
def portal_report(request, record_pk):
    """Tell the clinic about a problem after one of your treatments."""
    record = get_object_or_404(
        TreatmentRecord.objects.signed()
        .filter(patient__user=request.user)
        .select_related("patient", "practitioner", "procedure"),
        pk=record_pk,
    )
    return treatment_views.report_page(
        request,
        record=record,
        via=PatientReport.Via.PORTAL,
        sent=lambda report: redirect("portal_report_sent", pk=report.pk),
    )


@role_required(Role.PATIENT)
def portal_report_sent(request, pk):
    report = get_object_or_404(
        PatientReport.objects.filter(patient__user=request.user).select_related(
            "record__procedure", "record__practitioner"
        ),
        pk=pk,
    )
    return treatment_views.report_sent_page(request, report)


@role_required(Role.PATIENT)
def portal_waitlist(request):
    """Ask to hear of an earlier time: a procedure the clinic books online,
    any day in a range, maybe with one practitioner. The patient's entries
    still waiting are listed, each with a way off the list."""
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        return render(request, "bookings/portal_unlinked.html")
    query = WaitlistQuery(request.GET)
    initial = {"procedure": query.cleaned_data["procedure"]} if query.is_valid() else {}
    form = WaitlistForm(post_data(request), online=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        entry = form.join(patient=patient, by=request.user)
        if entry is not None:
            messages.success(
                request,
                f"You are on the waitlist for {entry.procedure}. If a time opens between "
                f"{entry.earliest:%-d %B} and {entry.latest:%-d %B}, we will email you a link "
                "to book it.",
            )
            return redirect("portal_waitlist")
    entries = (
        WaitlistEntry.objects.waiting()
        .filter(patient=patient)
        .select_related("procedure", "practitioner")
    )
    return render(
        request,
        "bookings/portal_waitlist.html",
        {"patient": patient, "form": form, "entries": entries},
    )


@require_POST
@role_required(Role.PATIENT)
def portal_waitlist_remove(request, pk):
    entry = get_object_or_404(WaitlistEntry.objects.filter(patient__user=request.user), pk=pk)
    waitlist.waitlist_remove(entry=entry)
    messages.success(request, f"You are off the waitlist for {entry.procedure}.")
    return redirect("portal_waitlist")


@require_POST
@role_required(Role.PATIENT)
def portal_waitlist_earlier(request, pk):
    """ "Email me if an earlier time opens" on one of the patient's bookings:
    a claimed offer moves it (bookings.waitlist)."""
    appointment = get_object_or_404(_own_appointments(request), pk=pk)
    call_service(
        request,
        waitlist.waitlist_join_earlier,
        success="We will email you if an earlier time opens before this appointment; it stays "
        "booked until you take one.",
        appointment=appointment,
        by=request.user,
    )
    return redirect("portal_home")
