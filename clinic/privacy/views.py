from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from clinic.access import role_required
from clinic.audit import log_view
from clinic.forms import ServiceForm, post_data
from clinic.models import AuditEvent, Patient
from clinic.privacy.export import patient_export
from clinic.privacy.models import ErasureRequest
from clinic.privacy.services import erasure_request, retain_until
from clinic.roles import Role


def _download(request, patient):
    """The zip, audited as an export of the patient's records."""
    now = timezone.now()
    data = patient_export(patient, now=now)
    log_view(request, what="data export", obj=patient, patient=patient,
             action=AuditEvent.Action.EXPORT)  # fmt: skip
    response = HttpResponse(data, content_type="application/zip")
    name = f"vermilion-records-{patient.pk}-{now:%Y%m%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@role_required(Role.PATIENT)
def portal_data(request):
    patient = get_object_or_404(Patient, user=request.user)
    if request.method == "POST":
        return _download(request, patient)
    return render(
        request,
        "privacy/portal_data.html",
        {"patient": patient, "retention_years": settings.RETENTION_YEARS},
    )


@require_POST
@role_required(Role.MANAGER)
def patient_data_export(request, pk):
    """For a patient who asks the clinic rather than the portal."""
    return _download(request, get_object_or_404(Patient, pk=pk))


class ErasureForm(ServiceForm):
    note = forms.CharField(
        label=_("How the patient asked, and anything to keep with the request"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@role_required(Role.MANAGER)
def patient_erasure(request, pk):
    patient = get_object_or_404(Patient, pk=pk)
    form = ErasureForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        done = form.call_service(
            erasure_request, patient=patient, by=request.user, note=form.cleaned_data["note"]
        )
        if done:
            messages.success(
                request,
                f"Done: the portal account is closed and contact details wiped. The clinical "
                f"record is kept until {done.retain_until:%d/%m/%Y}, then deleted.",
            )
            return redirect(patient)
    return render(
        request,
        "privacy/erasure.html",
        {
            "patient": patient,
            "form": form,
            "retain_until": retain_until(patient, today=timezone.localdate()),
            "requests": ErasureRequest.objects.filter(patient=patient),
            "retention_years": settings.RETENTION_YEARS,
        },
    )
