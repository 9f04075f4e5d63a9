"""Photo consent (issue 19): the patient signs their choice of uses on the
portal, or at the clinic on the practitioner's tablet; staff record a
withdrawal told to the clinic; and the photo library, the one place photos
are shown outside the clinical record, which follows the consent."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from clinic.access import client_ip, permission_required, role_required
from clinic.audit import log_view
from clinic.forms import ReasonForm, post_data
from clinic.models import AuditEvent, Patient
from clinic.params import choice_param
from clinic.roles import Role
from treatments import services
from treatments.forms import PhotoConsentSignForm
from treatments.models import Marketing, Photo, PhotoConsent, PhotoConsentForm, Use

LIBRARY_MOST = 200


def _page(request, *, patient, via, sign_form=None, withdraw_form=None, status=200):
    latest = PhotoConsent.objects.latest_for(patient)
    form = PhotoConsentForm.objects.current()
    in_force = latest if latest is not None and latest.in_force else None
    initial = {"form_version": form.pk if form else None, "marketing": Marketing.NO}
    if in_force:
        initial.update(training=in_force.training, marketing=in_force.marketing)
    context = {
        "patient": patient,
        "portal": via == PhotoConsent.Via.PORTAL,
        "latest": latest,
        "in_force": in_force,
        "consent_form": form,
        "history": patient.photo_consents.select_related("form", "recorded_by").order_by(
            "-signed_at", "-pk"
        ),
        "sign_form": sign_form or PhotoConsentSignForm(initial=initial),
        "withdraw_form": withdraw_form
        or ReasonForm(label="How the patient withdrew it" if via == "clinic" else "Why (optional)"),
    }
    return render(request, "treatments/photo_consent.html", context, status=status)


def _sign(request, *, patient, via, recorded_by=None):
    form = PhotoConsentSignForm(post_data(request))
    if form.is_valid():
        data = form.cleaned_data
        signed = form.call_service(
            services.photo_consent_sign,
            patient=patient,
            form=PhotoConsentForm.objects.filter(pk=data["form_version"]).first()
            or PhotoConsentForm.objects.current(),
            training=data["training"],
            marketing=data["marketing"],
            typed_name=data["typed_name"],
            agreed=data["agreed"],
            signature=data["signature"],
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            via=via,
            recorded_by=recorded_by,
        )
        if signed:
            messages.success(request, f"Signed: {signed.statement}")
            return None
    return _page(request, patient=patient, via=via, sign_form=form, status=400)


def _withdraw(request, *, patient, via):
    form = ReasonForm(request.POST)
    if via == PhotoConsent.Via.PORTAL:
        form.fields["reason"].required = False
    if form.is_valid() and form.call_service(
        services.photo_consent_withdraw,
        patient=patient,
        reason=form.cleaned_data["reason"],
        by=request.user,
        via=via,
    ):
        messages.success(request, "Withdrawn: the photos are for the clinical record only.")
        return None
    return _page(request, patient=patient, via=via, withdraw_form=form, status=400)


@permission_required("treatments.view_photoconsent", "clinic.view_patient")
def photo_consent(request, patient_pk):
    """The patient's photo consent: what it allows, its history; the patient
    signs a new choice here on the clinic's tablet."""
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    via = PhotoConsent.Via.CLINIC
    if request.method == "POST":
        if not request.user.has_perm("treatments.add_photoconsent"):
            return _page(request, patient=patient, via=via, status=403)
        return _sign(request, patient=patient, via=via, recorded_by=request.user) or redirect(
            request.path
        )
    log_view(request, what="photo consent", obj=patient, patient=patient)
    return _page(request, patient=patient, via=via)


@require_POST
@permission_required("treatments.add_photoconsent", "clinic.view_patient")
def photo_consent_withdraw(request, patient_pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    return _withdraw(request, patient=patient, via=PhotoConsent.Via.CLINIC) or redirect(
        "treatments:photo_consent", patient_pk=patient.pk
    )


@role_required(Role.PATIENT)
def portal_photo_consent(request):
    patient = get_object_or_404(Patient, user=request.user)
    via = PhotoConsent.Via.PORTAL
    if request.method == "POST":
        return _sign(request, patient=patient, via=via) or redirect(request.path)
    return _page(request, patient=patient, via=via)


@require_POST
@role_required(Role.PATIENT)
def portal_photo_consent_withdraw(request):
    patient = get_object_or_404(Patient, user=request.user)
    return _withdraw(request, patient=patient, via=PhotoConsent.Via.PORTAL) or redirect(
        "treatments:portal_photo_consent"
    )


@permission_required("treatments.view_photo")
def photo_library(request):
    """Photos for teaching or for marketing: only those whose patient's
    newest photo consent allows it, and never a name."""
    use = choice_param(request, "use", [Use.TRAINING, Use.MARKETING], Use.TRAINING)
    photos = list(
        Photo.objects.visible_to(request.user)
        .shown()
        .for_use(use)
        .select_related("appointment__procedure")
        .order_by("-taken_at", "-pk")[:LIBRARY_MOST]
    )
    log_view(request, what="photo library", object_id=use, action=AuditEvent.Action.VIEW)
    context = {
        "use": use,
        "uses": [(Use.TRAINING, "Teaching and training"), (Use.MARKETING, "Marketing")],
        "photos": photos,
        "most": LIBRARY_MOST,
        "identifiable": Marketing.IDENTIFIABLE,
    }
    return render(request, "treatments/photo_library.html", context)
