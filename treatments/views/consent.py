"""Consent pages: the staff side (send, read, void, edit the forms) and the
patient's signing page (a link, the portal, the clinic's tablet)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings.models import Appointment
from clinic.access import client_ip, permission_required, role_required
from clinic.audit import log_view
from clinic.flash import call_service
from clinic.forms import ReasonForm, post_data
from clinic.roles import Role
from treatments import services
from treatments.consent import LinkProblem, consent_for, read_token
from treatments.forms import (
    ConsentFormEditForm,
    ConsentSignForm,
)
from treatments.guessing import consent_link_closed_by_guessing, consent_link_wrong_details
from treatments.models import (
    ConsentForm,
    ConsentSignature,
    Procedure,
)

# Consent: staff side


@require_POST
@permission_required("treatments.add_consentrequest")
def consent_send(request, appointment_pk):
    appointment = get_object_or_404(
        Appointment.objects.visible_to(request.user).select_related("patient", "procedure"),
        pk=appointment_pk,
    )
    called = call_service(
        request, services.consent_request_send, appointment=appointment, by=request.user
    )
    if not called.ok:
        return redirect(appointment)
    _, url = called.value
    where = (
        f"emailed to {appointment.patient.email}"
        if appointment.patient.email
        else "ready: the patient has no email address, so give them this link"
    )
    messages.success(
        request,
        f"Signing link {where}. It works for {settings.CONSENT_LINK_HOURS} hours: {url}",
    )
    return redirect(appointment)


def _consent_record_for(request, pk):
    records = ConsentSignature.objects.select_related(
        "patient", "appointment__practitioner", "form__procedure", "recorded_by", "supersedes"
    )
    if not request.user.has_perm("treatments.view_consentsignature"):
        records = records.filter(patient__user=request.user)
    return get_object_or_404(records, pk=pk)


@login_required
def consent_record(request, pk):
    record = _consent_record_for(request, pk)
    log_view(request, what="consent record", obj=record, patient=record.patient)
    later = ConsentSignature.objects.filter(supersedes=record).select_related("recorded_by")
    return render(
        request,
        "treatments/consent_record.html",
        {"record": record, "verified": record.verify(), "later": later},
    )


@login_required
def consent_signature_image(request, pk):
    record = _consent_record_for(request, pk)
    if not record.signature_png:
        raise Http404("This record has no drawn signature.")
    log_view(request, what="consent signature image", obj=record, patient=record.patient)
    response = HttpResponse(bytes(record.signature_png), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@permission_required("treatments.void_consentsignature")
def consent_void(request, pk):
    record = _consent_record_for(request, pk)
    form = ReasonForm(post_data(request))
    if (
        request.method == "POST"
        and form.is_valid()
        and form.call_service(
            services.consent_void,
            signature=record,
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    ):
        messages.success(request, "The consent is void. The patient must sign again.")
        return redirect(record.appointment)
    return render(request, "treatments/consent_void.html", {"record": record, "form": form})


@permission_required("treatments.view_consentform")
def consent_forms(request):
    forms = ConsentForm.objects.select_related("procedure", "created_by").order_by(
        "procedure", "-version"
    )
    return render(request, "treatments/consent_forms.html", {"forms": forms})


@permission_required("treatments.add_consentform")
def consent_form_edit(request, procedure_pk):
    procedure = get_object_or_404(Procedure, pk=procedure_pk, agent__gt="")
    current = ConsentForm.objects.filter(procedure=procedure).order_by("-version").first()
    initial = (
        {"title": current.title, "body": current.body, "statement": current.statement}
        if current
        else {}
    )
    form = ConsentFormEditForm(post_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        published = form.call_service(
            services.consent_form_publish, procedure=procedure, by=request.user, **form.cleaned_data
        )
        if published:
            messages.success(request, f"Published {published}. New signatures use it.")
            return redirect("treatments:consent_forms")
    return render(
        request,
        "treatments/consent_form_edit.html",
        {"form": form, "procedure": procedure, "current": current},
    )


# Consent: the patient signs


def _signing(
    request,
    *,
    appointment,
    via,
    link=None,
    recorded_by=None,
    done_template="treatments/consent_done.html",
):
    """The signing page for the next form the appointment needs."""
    now = timezone.now()
    status = consent_for([appointment], now=now)[appointment.pk]
    outstanding = status.outstanding()
    if not outstanding:
        return render(request, done_template, {"appointment": appointment, "status": status})
    part = outstanding[0]
    form = ConsentSignForm(
        post_data(request),
        ask_birth_date=via == ConsentSignature.Via.LINK,
        initial={"form_version": part.form.pk if part.form else None},
    )
    if request.method == "POST" and form.is_valid():
        signed = form.call_service(
            services.consent_sign,
            appointment=appointment,
            form=ConsentForm.objects.filter(pk=form.cleaned_data["form_version"]).first()
            or part.form,
            typed_name=form.cleaned_data["typed_name"],
            agreed=form.cleaned_data["agreed"],
            signature=form.cleaned_data["signature"],
            date_of_birth=form.cleaned_data.get("date_of_birth"),
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            via=via,
            recorded_by=recorded_by or (request.user if request.user.is_authenticated else None),
            request=link,
        )
        if signed:
            if len(outstanding) > 1:  # the last one lands on the "all signed" page
                messages.success(request, f"Thank you: “{signed.form.title}” is signed.")
            return redirect(request.path)
        if (
            link is not None
            and form.has_error(NON_FIELD_ERRORS, "details_mismatch")
            and consent_link_wrong_details(link=link, now=now)
        ):
            return _link_problem(request, LINK_CLOSED)
    return render(
        request,
        "treatments/consent_sign.html",
        {
            "appointment": appointment,
            "part": part,
            "form": form,
            "position": len(status.parts) - len(outstanding) + 1,
            "total": len(status.parts),
        },
        status=200 if not form.errors else 400,
    )


LINK_PROBLEMS = {
    LinkProblem.TAMPERED: (
        "This link is not valid",
        "It may have been copied incompletely. Open the link from the email again, or ask the "
        "clinic to send a new one.",
    ),
    LinkProblem.EXPIRED: (
        "This link has expired",
        "Signing links work for a limited time. Ask the clinic to send you a new one.",
    ),
    LinkProblem.USED: (
        "This link has been used",
        "The forms it was for are signed. If you need to sign again, ask the clinic for a "
        "new link.",
    ),
    LinkProblem.REVOKED: (
        "This link has been replaced",
        "The clinic has sent a newer link. Use the most recent email, or ask for a new one.",
    ),
}
LINK_CLOSED = "closed"
SOMEONE_ELSE = "someone_else"
LINK_PROBLEMS[LINK_CLOSED] = (
    "This link is closed",
    "The name and date of birth given did not match our records too many times, so the link "
    "no longer works. Please call the clinic: they will check your details and send a new one.",
)
LINK_PROBLEMS[SOMEONE_ELSE] = (
    "This link is for someone else",
    "It was sent for another patient. Log out, or use the link from your own email.",
)
GONE = (LinkProblem.EXPIRED, LinkProblem.USED)


def _link_problem(request, problem):
    title, advice = LINK_PROBLEMS[problem]
    return render(
        request,
        "treatments/consent_link_problem.html",
        {"title": title, "advice": advice},
        status=410 if problem in GONE else 403,
    )


def consent_link(request, token):
    now = timezone.now()
    link, problem = read_token(token, now=now)
    if problem == LinkProblem.USED:
        # Used up by signing everything: say so, rather than "used".
        status = consent_for([link.appointment], now=now)[link.appointment_id]
        if status.is_complete:
            return render(
                request,
                "treatments/consent_done.html",
                {"appointment": link.appointment, "status": status},
            )
    if problem is None and request.user.is_authenticated:
        own = (
            getattr(request.user, "patient", None) if request.user.has_role(Role.PATIENT) else None
        )
        if own is not None and own.pk != link.appointment.patient_id:
            problem = SOMEONE_ELSE
    if problem == LinkProblem.REVOKED and consent_link_closed_by_guessing(link, now=now):
        problem = LINK_CLOSED
    if problem is not None:
        return _link_problem(request, problem)
    appointment = link.appointment
    if appointment.status not in services.SIGNABLE:
        return render(
            request,
            "treatments/consent_link_problem.html",
            {
                "title": "This appointment is closed",
                "advice": "It has been cancelled or has already taken place. Call the clinic if "
                "you think this is wrong.",
            },
            status=410,
        )
    return _signing(request, appointment=appointment, via=ConsentSignature.Via.LINK, link=link)


@role_required(Role.PATIENT)
def portal_consent(request, appointment_pk):
    appointment = get_object_or_404(
        Appointment.objects.filter(
            patient__user=request.user, status__in=services.SIGNABLE
        ).select_related("patient", "procedure", "practitioner"),
        pk=appointment_pk,
    )
    return _signing(request, appointment=appointment, via=ConsentSignature.Via.PORTAL)
