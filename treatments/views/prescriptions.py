"""Prescriptions: a patient's list with the prescriber's assess-and-prescribe
form, one prescription, its withdrawal."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from clinic.access import permission_required
from clinic.accounts.models import Attempt
from clinic.accounts.services import attempts_clear
from clinic.audit import log_view
from clinic.forms import post_data
from clinic.models import Patient, Practitioner
from clinic.roles import Role
from treatments import services
from treatments.forms import PrescriptionForm, WithdrawalForm
from treatments.models import Prescription, Product
from treatments.views.records import wrong_signing_password


def _is_prescriber(user):
    return Practitioner.objects.filter(user=user, independent_prescriber=True).exists()


@permission_required("treatments.view_prescription", "clinic.view_patient")
def prescriptions(request, patient_pk):
    """The patient's prescriptions; for an independent prescriber, the
    face-to-face assessment and a new prescription, signed with a password."""
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    may_prescribe = request.user.has_perm("treatments.add_prescription") and _is_prescriber(
        request.user
    )
    if request.method == "POST" and not may_prescribe:
        raise PermissionDenied
    form = None
    if may_prescribe:
        products = Product.objects.filter(needs_prescription=True, is_active=True)
        form = PrescriptionForm(post_data(request), products=products)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            written = form.call_service(
                services.prescription_write,
                patient=patient,
                by=request.user,
                **form.service_fields(),
            )
            if written:
                attempts_clear(kind=Attempt.Kind.SIGN_PASSWORD, key=request.user.pk)
                messages.success(request, "Prescription signed and kept.")
                return redirect(written)
            ended = wrong_signing_password(
                request,
                form,
                patient,
                code="prescription_wrong_password",
                what="a prescription",
            )
            if ended:
                return ended
        status = 400
    log_view(request, what="prescriptions", obj=patient, patient=patient)
    context = {
        "patient": patient,
        "prescriptions": Prescription.objects.for_patient(patient),
        "form": form,
    }
    return render(request, "treatments/prescriptions.html", context, status=status)


def _prescription(request, pk):
    visible = Prescription.objects.filter(patient__in=Patient.objects.visible_to(request.user))
    return get_object_or_404(
        visible.select_related("patient", "prescriber", "assessment", "withdrawal__withdrawn_by"),
        pk=pk,
    )


def _may_withdraw(user):
    return user.has_perm("treatments.add_prescriptionwithdrawal") and (
        _is_prescriber(user) or user.has_role(Role.MANAGER)
    )


def _page(request, prescription, *, form=None, status=200):
    may_withdraw = _may_withdraw(request.user)
    context = {
        "prescription": prescription,
        "items": prescription.items.select_related("product"),
        "records": prescription.treatment_records.select_related("practitioner", "procedure"),
        "verified": prescription.verify(),
        "withdraw_form": (form or WithdrawalForm())
        if may_withdraw and not prescription.withdrawn
        else None,
    }
    return render(request, "treatments/prescription.html", context, status=status)


@permission_required("treatments.view_prescription", "clinic.view_patient")
def prescription_detail(request, pk):
    prescription = _prescription(request, pk)
    log_view(request, what="prescription", obj=prescription, patient=prescription.patient)
    return _page(request, prescription)


@require_POST
@permission_required("treatments.add_prescriptionwithdrawal", "clinic.view_patient")
def prescription_withdraw(request, pk):
    prescription = _prescription(request, pk)
    if not _may_withdraw(request.user):
        raise PermissionDenied
    form = WithdrawalForm(request.POST)
    if form.is_valid() and form.call_service(
        services.prescription_withdraw,
        prescription=prescription,
        by=request.user,
        reason=form.cleaned_data["reason"],
    ):
        messages.success(request, "Prescription withdrawn: no treatment may rely on it now.")
        return redirect(prescription)
    return _page(request, prescription, form=form, status=400)
