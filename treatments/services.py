"""Writes about the catalog and stock."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bookings.models import Appointment
from clinic.models import search_key
from treatments.consent import consent_for, make_token, new_nonce
from treatments.models import ConsentForm, ConsentRequest, ConsentSignature, Lot
from treatments.signature import signature_png

LOT_ALREADY_EXPIRED = "This lot expired on %(expiry)s. Do not put it into stock; return it."
LOT_EXPIRY_MISMATCH = (
    "Lot %(lot)s of %(product)s is already recorded with expiry %(recorded)s, not "
    "%(given)s. Check the box label; if the label really differs, ask the supplier."
)
QUANTITY_NOT_POSITIVE = "Enter how much arrived: a number above zero."


@transaction.atomic
def lot_receive(*, product, lot_number, expiry_date, quantity, received_by, now=None):
    """Record a delivery. A lot number seen before adds to that lot's stock."""
    today = timezone.localdate(now or timezone.now())
    lot_number = lot_number.strip().upper()
    if quantity is None or quantity <= 0:
        raise ValidationError(QUANTITY_NOT_POSITIVE, code="quantity_not_positive")
    if expiry_date < today:
        raise ValidationError(
            LOT_ALREADY_EXPIRED,
            code="lot_expired",
            params={"expiry": expiry_date.strftime("%d %b %Y")},
        )
    lot = Lot.objects.select_for_update().filter(product=product, lot_number=lot_number).first()
    if lot is None:
        lot = Lot(
            product=product,
            lot_number=lot_number,
            expiry_date=expiry_date,
            quantity_received=quantity,
            quantity_remaining=quantity,
            received_on=today,
            received_by=received_by,
        )
    elif lot.expiry_date != expiry_date:
        raise ValidationError(
            LOT_EXPIRY_MISMATCH,
            code="lot_expiry_mismatch",
            params={
                "lot": lot_number,
                "product": product,
                "recorded": lot.expiry_date.strftime("%d %b %Y"),
                "given": expiry_date.strftime("%d %b %Y"),
            },
        )
    else:
        lot.quantity_received += quantity
        lot.quantity_remaining += quantity
    lot.full_clean()
    lot.save()
    return lot


# Consent


CONSENT_NOT_AGREED = "Tick the box to agree to sign electronically."
CONSENT_NAME_MISMATCH = (
    "The name you typed does not match the name the clinic has for you. Type your first and "
    "last name as you gave them to the clinic."
)
CONSENT_BIRTH_DATE_MISMATCH = (
    "That date of birth does not match our records. Check it, or call the clinic."
)
CONSENT_NOT_NEEDED = "This form is not one this appointment needs, or it is already signed."
CONSENT_APPOINTMENT_CLOSED = (
    "This appointment is %(status)s, so its consent can no longer be signed. Contact the "
    "clinic if you think this is wrong."
)
CONSENT_FORM_OUTDATED = (
    "The clinic has updated this form since the page was opened. Read the new version below "
    "and sign again."
)
CONSENT_NOT_SIGNED = "Only a signed consent can be withdrawn or voided."
CONSENT_REASON_REQUIRED = "Give a reason: it is kept with the record."
CONSENT_LINK_CLOSED_APPOINTMENT = (
    "Consent links can only be sent for a booked or checked-in appointment."
)
CONSENT_FORM_EMPTY = "Fill in the title, the text and the consent statement."

SIGNABLE = ("booked", "checked_in")


def _name_key(text):
    """Name for comparison: accents, case, punctuation and spacing ignored."""
    key = "".join(ch if ch.isalnum() else " " for ch in search_key(text))
    return " ".join(key.split())


@transaction.atomic
def consent_form_publish(*, procedure, title, body, statement, by, now=None):
    """Publish a new version of a procedure's consent form; it becomes current."""
    if not (title.strip() and body.strip() and statement.strip()):
        raise ValidationError(CONSENT_FORM_EMPTY, code="form_empty")
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
    """A new signing link for an appointment; earlier open links stop working.
    Returns (request, token)."""
    now = now or timezone.now()
    if appointment.status not in SIGNABLE:
        raise ValidationError(CONSENT_LINK_CLOSED_APPOINTMENT, code="appointment_closed")
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
    return request, make_token(request)


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
        Appointment.objects.select_for_update().select_related("patient").get(pk=appointment.pk)
    )
    patient = appointment.patient
    if appointment.status not in SIGNABLE:
        raise ValidationError(
            CONSENT_APPOINTMENT_CLOSED,
            code="appointment_closed",
            params={"status": appointment.get_status_display().lower()},
        )
    status = consent_for([appointment], now=now)[appointment.pk]
    outstanding = {part.procedure.pk: part for part in status.outstanding()}
    part = outstanding.get(form.procedure_id)
    if part is None:
        raise ValidationError(CONSENT_NOT_NEEDED, code="not_needed")
    if part.form is None or part.form.pk != form.pk:
        raise ValidationError(CONSENT_FORM_OUTDATED, code="form_outdated")
    if not agreed:
        raise ValidationError(CONSENT_NOT_AGREED, code="not_agreed")
    if via == ConsentSignature.Via.LINK and date_of_birth != patient.date_of_birth:
        raise ValidationError(CONSENT_BIRTH_DATE_MISMATCH, code="birth_date_mismatch")
    if _name_key(typed_name) != _name_key(patient.full_name):
        raise ValidationError(CONSENT_NAME_MISMATCH, code="name_mismatch")
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
        raise ValidationError(CONSENT_REASON_REQUIRED, code="reason_required")
    latest = (
        ConsentSignature.objects.filter(
            appointment_id=signature.appointment_id, form__procedure_id=signature.form.procedure_id
        )
        .order_by("-signed_at", "-pk")
        .first()
    )
    if signature.kind != ConsentSignature.Kind.SIGNED or latest != signature:
        raise ValidationError(CONSENT_NOT_SIGNED, code="not_signed")
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
        signature=signature, kind=ConsentSignature.Kind.WITHDRAWN, reason=reason, by=by, via=via,
        now=now,
    )  # fmt: skip


@transaction.atomic
def consent_void(*, signature, reason, by, now=None):
    """Staff void a signature (e.g. signed for the wrong procedure)."""
    return _close_consent(
        signature=signature, kind=ConsentSignature.Kind.VOIDED, reason=reason, by=by,
        via=ConsentSignature.Via.CLINIC, now=now,
    )  # fmt: skip
