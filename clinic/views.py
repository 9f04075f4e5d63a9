"""The base layer's staff pages: patients (find, register, edit), their
medical histories, portal invitations; and the 400 page."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from clinic import services
from clinic.access import permission_required, safe_next
from clinic.audit import log_view
from clinic.flash import call_service
from clinic.forms import MedicalHistoryForm, PatientForm, post_data
from clinic.models import AuditEvent, MedicalHistory, Patient
from clinic.paging import Window
from clinic.params import BadParameter, SearchField, read_query

PATIENTS_PER_PAGE = 25


def bad_request(request, exception):
    """The 400 page, with what could not be read when we know it."""
    problem = str(exception) if isinstance(exception, BadParameter) else ""
    return render(request, "400.html", {"problem": problem}, status=400)


# Patients (staff)


def _patient_for(request, pk):
    return get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)


class PatientSearchQuery(forms.Form):
    q = SearchField()


@permission_required("clinic.view_patient")
def patient_list(request):
    query = read_query(request, PatientSearchQuery)["q"]
    if query:
        log_view(request, what="patient search", action=AuditEvent.Action.EXPORT)
    patients = Patient.objects.search(query).only(
        "first_name", "last_name", "date_of_birth", "phone", "email"
    )
    page = Window(patients, request, per_page=PATIENTS_PER_PAGE)
    # Typing in the search box (htmx) asks for the results only.
    template = "clinic/_patient_results.html" if request.htmx else "clinic/patient_list.html"
    response = render(request, template, {"page": page, "query": query})
    patch_vary_headers(response, ["HX-Request"])
    return response


@permission_required("clinic.add_patient")
def patient_create(request):
    form = PatientForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        patient = form.save(user=request.user)
        if patient:
            messages.success(request, f"{patient} is registered.")
            return redirect(safe_next(request) or patient.get_absolute_url())
    return render(request, "clinic/patient_form.html", {"form": form})


@permission_required("clinic.change_patient")
def patient_edit(request, pk):
    patient = _patient_for(request, pk)
    initial = {name: getattr(patient, name) for name in services.PATIENT_FIELDS}
    initial["phone"] = patient.phone_display
    form = PatientForm(post_data(request), initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and form.save(user=request.user, patient=patient)
    ):
        messages.success(request, "Contact details saved.")
        return redirect(patient)
    return render(request, "clinic/patient_form.html", {"form": form, "patient": patient})


# Medical history (practitioners)


@permission_required("clinic.view_clinical_details")
def history_detail(request, pk, history_pk=None):
    patient = _patient_for(request, pk)
    versions = list(patient.histories.select_related("submitted_by"))
    if history_pk is None:
        shown = versions[0] if versions else None
    else:
        shown = next((v for v in versions if v.pk == history_pk), None)
        if shown is None:
            return render(request, "404.html", status=404)
    if shown is not None:
        log_view(request, what="medical history", obj=shown, patient=patient)
    return render(
        request,
        "clinic/history_detail.html",
        {"patient": patient, "history": shown, "versions": versions},
    )


@permission_required("clinic.view_clinical_details", "clinic.add_medicalhistory")
def history_new(request, pk):
    patient = _patient_for(request, pk)
    latest = MedicalHistory.objects.latest_for(patient)
    form = MedicalHistoryForm(post_data(request), initial_history=latest)
    if request.method == "GET" and latest is not None:
        log_view(request, what="medical history", obj=latest, patient=patient)
    if request.method == "POST" and form.is_valid():
        history = form.save(patient=patient, user=request.user, source=MedicalHistory.Source.STAFF)
        if history:
            messages.success(request, "Medical history saved as a new version.")
            return redirect("patients:history", pk=patient.pk)
    return render(request, "clinic/history_form.html", {"form": form, "patient": patient})


@require_POST
@permission_required("clinic.view_clinical_details", "clinic.add_medicalhistory")
def history_reconfirm(request, pk):
    patient = _patient_for(request, pk)
    called = call_service(
        request,
        services.medical_history_reconfirm,
        success="Re-confirmed: the same answers, dated today.",
        patient=patient,
        submitted_by=request.user,
        source=MedicalHistory.Source.STAFF,
    )
    if not called.ok and _needs_new_answers(called.refusal):
        return redirect("patients:history_new", pk=patient.pk)
    return redirect("patients:history", pk=patient.pk)


def _needs_new_answers(exc):
    """A re-confirmation refused because questions were added since: the
    caller sends the user to the form, old answers filled in, new ones blank."""
    return any(error.code == "reconfirm_incomplete" for error in exc.error_list)


@require_POST
@permission_required("clinic.change_patient")
def patient_invite(request, pk):
    patient = _patient_for(request, pk)
    call_service(
        request,
        services.patient_invite,
        success=f"Invitation emailed to {patient.email}. The link works for a day.",
        patient=patient,
        by=request.user,
    )
    return redirect(patient)
