"""The outbox for staff (the Emails page), and texts: the desk records a
patient's agreement, and the provider's webhook carries STOP replies."""

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clinic import services, sms
from clinic.access import permission_required
from clinic.forms import TextsForm
from clinic.models import Notification, Patient
from clinic.paging import Window
from clinic.params import choice_param

OUTBOX_FILTERS = {
    "problems": Q(status=Notification.Status.FAILED)
    | Q(status=Notification.Status.PENDING, attempts__gt=0),
    "failed": Q(status=Notification.Status.FAILED),
    "waiting": Q(status=Notification.Status.PENDING),
    "sent": Q(status=Notification.Status.SENT),
}


@permission_required("clinic.view_notification")
def outbox(request):
    show = choice_param(request, "show", OUTBOX_FILTERS, "problems")
    emails = Notification.objects.select_related("patient", "appointment").filter(
        OUTBOX_FILTERS[show]
    )
    emails = emails.order_by("-due_at") if show == "sent" else emails.order_by("due_at")
    page = Window(emails, request, per_page=50)
    return render(request, "clinic/outbox.html", {"page": page, "show": show})


# Texts (SMS)

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}


@csrf_exempt
@require_POST
def sms_inbound(request):
    """The SMS provider's webhook for replies: STOP (and its usual synonyms)
    stops texts to every patient at that number. Only genuine calls count
    (the provider's signature); the reply is empty TwiML."""
    if not sms.inbound_is_genuine(request):
        return HttpResponse(status=403)
    number = sms.to_e164(request.POST.get("From", ""))
    if number and request.POST.get("Body", "").strip().upper() in STOP_WORDS:
        for patient in Patient.objects.filter(sms_number=number, sms_opt_out_at__isnull=True):
            services.patient_texts_stop(patient=patient)
    return HttpResponse("<Response/>", content_type="text/xml")


@require_POST
@permission_required("clinic.change_patient")
def patient_texts(request, patient_pk):
    """Staff record the patient's agreement to texts, or that they stopped."""
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    if request.POST.get("stop"):
        services.patient_texts_stop(patient=patient)
        messages.success(request, "No more texts to this patient.")
        return redirect(patient)
    form = TextsForm(request.POST)
    if form.is_valid() and form.call_service(
        services.patient_texts_start,
        patient=patient,
        number=form.cleaned_data["number"],
        via=f"told {request.user.get_full_name()} at the clinic",
    ):
        messages.success(request, "Texts on: reminders and consent links go by text too.")
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect(patient)
