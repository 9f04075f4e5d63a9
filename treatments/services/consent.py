"""Consent: forms published, links sent, signatures, withdrawals and voids."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment
from clinic.models import Patient, search_key
from clinic.refusals import Refusal
from treatments import messages
from treatments.consent import consent_for, make_token, new_nonce
from treatments.models import (
    ConsentForm,
    ConsentRequest,
    ConsentSignature,
)
from treatments.signature import signature_png

# Consent


CONSENT_NOT_AGREED = Refusal(
    "not_agreed",
    "Tick the box to agree to sign electronically.",
)
CONSENT_NAME_MISMATCH = Refusal(
    "name_mismatch",
    "The name you typed does not match the name the clinic has for you. Type your first and "
    "last name as you gave them to the clinic.",
)
# Through a link: one message whichever detail is wrong, so that an answer
# never confirms the other half (a right date of birth with a wrong name).
CONSENT_DETAILS_MISMATCH = Refusal(
    "details_mismatch",
    "Your name and date of birth do not match our records. Check both and try again, or "
    "call the clinic. After %(limit)s tries the link is closed.",
)
CONSENT_NOT_NEEDED = Refusal(
    "not_needed",
    "This form is not one this appointment needs, or it is already signed.",
)
CONSENT_APPOINTMENT_CLOSED = Refusal(
    "appointment_closed",
    "This appointment is %(status)s, so its consent can no longer be signed. Contact the "
    "clinic if you think this is wrong.",
)
CONSENT_FORM_OUTDATED = Refusal(
    "form_outdated",
    "The clinic has updated this form since the page was opened. Read the new version below "
    "and sign again.",
)
CONSENT_NOT_SIGNED = Refusal(
    "consent_not_signed",
    "Only a signed consent can be withdrawn or voided.",
)
CONSENT_REASON_REQUIRED = Refusal(
    "consent_reason_required",
    "Give a reason: it is kept with the record.",
    field="reason",
)
CONSENT_LINK_CLOSED_APPOINTMENT = Refusal(
    "link_appointment_closed",
    "Consent links can only be sent for a booked or checked-in appointment.",
)
CONSENT_FORM_EMPTY = Refusal(
    "form_empty",
    "Fill in the title, the text and the consent statement.",
)

SIGNABLE = ("booked", "checked_in")


def _name_key(text):
    """Name for comparison: accents, case, punctuation and spacing ignored."""
    key = "".join(ch if ch.isalnum() else " " for ch in search_key(text))
    return " ".join(key.split())


@transaction.atomic
def consent_form_publish(*, procedure, title, body, statement, by, now=None):
    """Publish a new version of a procedure's consent form; it becomes current."""
    if not (title.strip() and body.strip() and statement.strip()):
        raise CONSENT_FORM_EMPTY.error()
    latest = (
        ConsentForm.objects.select_for_update().filter(procedure=procedure).order_by("-version")
    ).first()
    form = ConsentForm(
        procedure=procedure,
        version=(latest.version + 1) if latest else 1,
        title=title.strip(),
        body=body.strip(),
        statement=statement.strip(),
        created_by=by,
        created_at=now or timezone.now(),
    )
    form.full_clean()
    form.save()
    return form


@transaction.atomic
def consent_request_send(*, appointment, by, now=None):
    """A new signing link for an appointment, emailed through the outbox;
    earlier open links stop working. Returns (request, url)."""
    now = now or timezone.now()
    if appointment.status not in SIGNABLE:
        raise CONSENT_LINK_CLOSED_APPOINTMENT.error()
    ConsentRequest.objects.filter(
        appointment=appointment, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    request = ConsentRequest.objects.create(
        appointment=appointment,
        nonce=new_nonce(),
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(hours=settings.CONSENT_LINK_HOURS),
    )
    url = settings.SITE_URL + reverse("treatments:consent_link", args=[make_token(request)])
    messages.consent_requested(appointment, url=url, request_pk=request.pk, now=now)
    return request, url


@transaction.atomic
def consent_sign(
    *,
    appointment,
    form,
    typed_name,
    agreed,
    signature,
    ip_address,
    user_agent,
    via,
    recorded_by=None,
    request=None,
    date_of_birth=None,
    now=None,
):
    """Record a patient's signature on `form` for `appointment`.

    `form` must be the current version of a form the appointment still needs.
    Through a link, the patient also confirms their date of birth; when the
    last outstanding form is signed, the link is used up."""
    now = now or timezone.now()
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=appointment.pk)
    )
    # Locked apart: PostgreSQL cannot lock the nullable side of the outer
    # join (an appointment's patient is empty on a hold).
    list(Patient.objects.select_for_update().filter(pk=appointment.patient_id).values_list("pk"))
    patient = appointment.patient
    if appointment.status not in SIGNABLE:
        raise CONSENT_APPOINTMENT_CLOSED.error(status=appointment.get_status_display().lower())
    status = consent_for([appointment], now=now)[appointment.pk]
    outstanding = {part.procedure.pk: part for part in status.outstanding()}
    part = outstanding.get(form.procedure_id)
    if part is None:
        raise CONSENT_NOT_NEEDED.error()
    if part.form is None or part.form.pk != form.pk:
        raise CONSENT_FORM_OUTDATED.error()
    if not agreed:
        raise CONSENT_NOT_AGREED.error()
    name_wrong = _name_key(typed_name) != _name_key(patient.full_name)
    birth_date_wrong = date_of_birth != patient.date_of_birth
    if via == ConsentSignature.Via.LINK and (name_wrong or birth_date_wrong):
        raise CONSENT_DETAILS_MISMATCH.error(limit=settings.CONSENT_LINK_GUESSES)
    if name_wrong:
        raise CONSENT_NAME_MISMATCH.error()
    png = signature_png(signature)

    record = ConsentSignature(
        kind=ConsentSignature.Kind.SIGNED,
        patient=patient,
        appointment=appointment,
        form=form,
        text_shown=form.full_text(),
        statement=form.statement,
        typed_name=typed_name.strip(),
        agreed_to_sign_electronically=True,
        signature_png=png,
        signed_at=now,
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:400],
        via=via,
        request=request,
        recorded_by=recorded_by,
    )
    record.seal()
    record.full_clean()
    record.save()
    if request is not None and len(outstanding) == 1:
        ConsentRequest.objects.filter(pk=request.pk).update(used_at=now)
    return record


def _close_consent(*, signature, kind, reason, by, via, now):
    if not (reason or "").strip():
        raise CONSENT_REASON_REQUIRED.error()
    latest = (
        ConsentSignature.objects.filter(
            appointment_id=signature.appointment_id, form__procedure_id=signature.form.procedure_id
        )
        .order_by("-signed_at", "-pk")
        .first()
    )
    if signature.kind != ConsentSignature.Kind.SIGNED or latest != signature:
        raise CONSENT_NOT_SIGNED.error()
    record = ConsentSignature(
        kind=kind,
        patient_id=signature.patient_id,
        appointment_id=signature.appointment_id,
        form=signature.form,
        supersedes=signature,
        text_shown=signature.text_shown,
        statement=signature.statement,
        reason=reason.strip(),
        signed_at=now or timezone.now(),
        via=via,
        recorded_by=by,
    )
    record.seal()
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def consent_withdraw(*, signature, reason, by, via=ConsentSignature.Via.CLINIC, now=None):
    """The patient withdraws a consent they signed (told to the clinic, or on
    the portal). A new record; the signature itself is kept."""
    return _close_consent(
        signature=signature,
        kind=ConsentSignature.Kind.WITHDRAWN,
        reason=reason,
        by=by,
        via=via,
        now=now,
    )


@transaction.atomic
def consent_void(*, signature, reason, by, now=None):
    """Staff void a signature (e.g. signed for the wrong procedure)."""
    return _close_consent(
        signature=signature,
        kind=ConsentSignature.Kind.VOIDED,
        reason=reason,
        by=by,
        via=ConsentSignature.Via.CLINIC,
        now=now,
    )
