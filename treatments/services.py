"""Writes of the treatments app: stock, consent, treatment records."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from bookings import notifications
from bookings.models import Appointment
from bookings.services import appointment_complete
from clinic.models import search_key
from clinic.roles import Role
from clinic.rules import HistoryState
from treatments.consent import consent_for, make_token, new_nonce
from treatments.models import (
    Addendum,
    ConsentForm,
    ConsentRequest,
    ConsentSignature,
    InjectionLine,
    Lot,
    ProductDose,
    TreatmentRecord,
)
from treatments.rules import Agent, DoseLimit, FollowUpRule, dose_summary, follow_up, plain
from treatments.screening import screen_patient
from treatments.signature import signature_png
from treatments.sites import BY_CODE as SITE_BY_CODE

LOT_ALREADY_EXPIRED = "This lot expired on %(expiry)s. Do not put it into stock; return it."
LOT_EXPIRY_MISMATCH = (
    "Lot %(lot)s of %(product)s is already recorded with expiry %(recorded)s, not "
    "%(given)s. Check the box label; if the label really differs, ask the supplier."
)
QUANTITY_NOT_POSITIVE = "Enter how much arrived: a number above zero."
LOT_NUMBER_MISSING = "Enter the lot number exactly as printed on the box."


@transaction.atomic
def lot_receive(*, product, lot_number, expiry_date, quantity, received_by, now=None):
    """Record a delivery. A lot number seen before adds to that lot's stock."""
    today = timezone.localdate(now or timezone.now())
    lot_number = lot_number.strip().upper()
    if not lot_number or "\x00" in lot_number:
        raise ValidationError(LOT_NUMBER_MISSING, code="lot_number_missing")
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
# Through a link: one message whichever detail is wrong, so that an answer
# never confirms the other half (a right date of birth with a wrong name).
CONSENT_DETAILS_MISMATCH = (
    "Your name and date of birth do not match our records. Check both and try again, or "
    "call the clinic. After %(limit)s tries the link is closed."
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
    """A new signing link for an appointment, emailed through the outbox;
    earlier open links stop working. Returns (request, url)."""
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
    url = settings.SITE_URL + reverse("treatments:consent_link", args=[make_token(request)])
    notifications.consent_requested(appointment, url=url, request_pk=request.pk, now=now)
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
    name_wrong = _name_key(typed_name) != _name_key(patient.full_name)
    birth_date_wrong = date_of_birth != patient.date_of_birth
    if via == ConsentSignature.Via.LINK and (name_wrong or birth_date_wrong):
        raise ValidationError(
            CONSENT_DETAILS_MISMATCH,
            code="details_mismatch",
            params={"limit": settings.CONSENT_LINK_GUESSES},
        )
    if name_wrong:
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


# Treatment records

RECORD_NOT_CHECKED_IN = (
    "The patient is not checked in. Check them in first: that is where they confirm the "
    "pre-care window."
)
RECORD_NOT_YOUR_PATIENT = (
    "This appointment is booked with %(practitioner)s, so only they can record it. If you "
    "are treating instead, move the appointment to yourself first."
)
RECORD_PRECARE_NOT_CONFIRMED = (
    "The patient has not confirmed at check-in that they kept the pre-care window. Check "
    "them in again and ask them."
)
RECORD_HISTORY_MISSING = (
    "There is no medical history on file. Go through the questionnaire with the patient "
    "first (Patients > Medical history)."
)
RECORD_HISTORY_STALE = (
    "The medical history needed re-confirming from %(expired)s. Go through it with the "
    "patient and save or re-confirm it first."
)
RECORD_HISTORY_INCOMPLETE = (
    "The medical history is missing answers to questions added since it was given "
    "(%(date)s). Update it with the patient before starting the treatment record."
)
RECORD_CONTRAINDICATED = (
    "The medical history rules out %(procedure)s: %(reasons)s Do not treat; discuss the "
    "alternatives with the patient."
)
RECORD_CONSENT_MISSING = (
    "Consent is not signed for: %(forms)s. Send the signing link, or let the patient sign "
    "on their phone or the clinic's tablet, then start again."
)
RECORD_SIGNED = "This record is signed and cannot change. Add an addendum to correct it."
RECORD_NOT_YOURS = "Only the treating practitioner (%(practitioner)s) can change this record."
RECORD_SIGNER_NOT_ALLOWED = (
    "Only the treating practitioner (%(practitioner)s) or a manager can sign or amend this record."
)
LINE_WRONG_PRODUCT = "%(product)s is not used for %(procedure)s. Pick a lot of one of its products."
LINE_WRONG_SITE = "%(site)s is not a site for %(product)s. Pick a %(agent)s site."
LINE_AMOUNT = "Enter the amount injected: a number above zero."
LINE_LOT_EXPIRED = (
    "Lot %(lot)s of %(product)s expired on %(expiry)s. Do not use it: take another lot and "
    "put this one aside for return."
)
LINE_LOT_EMPTY = "Lot %(lot)s of %(product)s has none left in stock. Pick another lot."
LINE_NOT_ENOUGH = (
    "Lot %(lot)s of %(product)s has %(left)s %(unit)s left, less than this record would use. "
    "Pick another lot for the rest, or check the stock count."
)
LINE_DILUTION = "Give the dilution for toxin, e.g. '100 U in 2.5 mL saline'."
LINE_COWS_MILK = (
    "The patient is allergic to cow's milk protein: Dysport must not be used. Use Botox."
)
SIGN_WRONG_PASSWORD = "That password is not right. Enter the password you log in with."
SIGN_NO_LINES = "Record at least one injection before signing."
SIGN_ANAESTHETIC = "Say which anaesthetic was used, or 'None'."
SIGN_ADVERSE_EVENTS = "Record adverse events: tick 'No adverse events', or describe what happened."
SIGN_ADVERSE_CONFLICT = (
    "You ticked 'No adverse events' and also described one. Untick the box or clear the text."
)
SIGN_REASON_REQUIRED = "A dose is above the maximum. Give the clinical reason before signing."
ADDENDUM_NOT_SIGNED = "Only a signed record takes addenda; a draft can still be edited."
ADDENDUM_EMPTY = "Give both the reason for the correction and the correction itself."

RECORD_FIELDS = (
    "supervising_prescriber",
    "anaesthetic",
    "no_adverse_events",
    "adverse_events",
    "notes",
    "over_maximum_reason",
    "postcare_given",
    "review_date",
    "rebook_date",
)


def _treatment_day(record):
    return timezone.localdate(record.appointment.starts_at)


def _dose_limits(procedure):
    """{product: DoseLimit} for the procedure's single parts."""
    doses = ProductDose.objects.filter(procedure__in=procedure.parts()).select_related("product")
    return {dose.product: DoseLimit(dose.typical, dose.maximum) for dose in doses}


def record_doses(record, lines=None):
    lines = list(record.lines.select_related("product")) if lines is None else lines
    return dose_summary(
        [(line.product, line.site_info.lip, line.amount) for line in lines],
        _dose_limits(record.procedure),
    )


def _follow_up(record):
    return follow_up(
        treated_on=_treatment_day(record),
        rules=[
            FollowUpRule(
                review_after=part.review_after_days,
                rebook_from=part.rebook_after_days_min,
                rebook_by=part.rebook_after_days_max,
                min_days_between=part.min_days_between,
            )
            for part in record.procedure.parts()
        ],
    )


@transaction.atomic
def treatment_start(*, appointment, by, now=None):
    """Open the treatment record of a checked-in appointment (or return the
    one already open). Refuses, saying what to do, unless the patient is
    checked in with the pre-care window confirmed, the history is current and
    does not rule the procedure out, and every consent it needs is signed."""
    now = now or timezone.now()
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("patient", "practitioner__user", "procedure")
        .get(pk=appointment.pk)
    )
    existing = TreatmentRecord.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    if appointment.status != Appointment.Status.CHECKED_IN:
        raise ValidationError(RECORD_NOT_CHECKED_IN, code="not_checked_in")
    if appointment.practitioner.user_id != by.pk:
        raise ValidationError(
            RECORD_NOT_YOUR_PATIENT,
            code="not_your_patient",
            params={"practitioner": appointment.practitioner},
        )
    if appointment.precare_confirmed_at is None:
        raise ValidationError(RECORD_PRECARE_NOT_CONFIRMED, code="precare_not_confirmed")
    today = timezone.localdate(now)
    screening = screen_patient(
        patient=appointment.patient, procedure=appointment.procedure, on=today, today=today
    )
    if screening.history_state == HistoryState.MISSING:
        raise ValidationError(RECORD_HISTORY_MISSING, code="history_missing")
    if screening.history_state == HistoryState.STALE:
        raise ValidationError(
            RECORD_HISTORY_STALE,
            code="history_stale",
            params={"expired": screening.history.expires_on.strftime("%d %B %Y")},
        )
    if screening.history_state == HistoryState.INCOMPLETE:
        raise ValidationError(
            RECORD_HISTORY_INCOMPLETE,
            code="history_incomplete",
            params={"date": screening.history.submitted_on.strftime("%d %B %Y")},
        )
    if screening.is_contraindicated:
        raise ValidationError(
            RECORD_CONTRAINDICATED,
            code="contraindicated",
            params={
                "procedure": appointment.procedure,
                "reasons": " ".join(
                    r.detail for r in screening.screening.reasons if r.outcome == "contraindicated"
                ),
            },
        )
    consent = consent_for([appointment], now=now)[appointment.pk]
    if not consent.is_complete:
        raise ValidationError(
            RECORD_CONSENT_MISSING,
            code="consent_missing",
            params={"forms": ", ".join(str(p.form or p.procedure) for p in consent.outstanding())},
        )
    record = TreatmentRecord(
        appointment=appointment,
        patient=appointment.patient,
        practitioner=appointment.practitioner,
        procedure=appointment.procedure,
        started_at=now,
        medical_history=screening.history,
        precare_kept=True,
        postcare_given="\n".join(appointment.procedure.postcare_lines()),
    )
    dates = _follow_up(record)
    record.review_date, record.rebook_date = dates.review_date, dates.rebook_date
    record.full_clean()
    record.save()
    record.consents.set([part.record for part in consent.parts])
    return record


def _draft_for(record, by):
    record = (
        TreatmentRecord.objects.select_for_update()
        .select_related("practitioner__user", "procedure", "appointment", "medical_history")
        .get(pk=record.pk)
    )
    if record.is_signed:
        raise ValidationError(RECORD_SIGNED, code="record_signed")
    if record.practitioner.user_id != by.pk:
        raise ValidationError(
            RECORD_NOT_YOURS, code="not_your_record", params={"practitioner": record.practitioner}
        )
    return record


@transaction.atomic
def injection_add(
    *, record, by, lot, site, amount, depth, needle, dilution="", technique="", now=None
):
    record = _draft_for(record, by)
    lot = Lot.objects.select_for_update().select_related("product").get(pk=lot.pk)
    product = lot.product
    part_products = ProductDose.objects.filter(procedure__in=record.procedure.parts())
    if not part_products.filter(product=product).exists():
        raise ValidationError(
            LINE_WRONG_PRODUCT,
            code="wrong_product",
            params={"product": product, "procedure": record.procedure},
        )
    site_info = SITE_BY_CODE.get(site)
    if site_info is None or site_info.agent != product.agent:
        raise ValidationError(
            LINE_WRONG_SITE,
            code="wrong_site",
            params={
                "site": site_info.label if site_info else site,
                "product": product,
                "agent": Agent(product.agent).label.lower(),
            },
        )
    if amount is None or amount <= 0:
        raise ValidationError(LINE_AMOUNT, code="amount_not_positive")
    who = {"lot": lot.lot_number, "product": product}
    if lot.is_expired_on(_treatment_day(record)):
        raise ValidationError(
            LINE_LOT_EXPIRED,
            code="lot_expired",
            params={**who, "expiry": lot.expiry_date.strftime("%d %b %Y")},
        )
    if lot.quantity_remaining <= 0:
        raise ValidationError(LINE_LOT_EMPTY, code="lot_empty", params=who)
    planned = record.lines.filter(lot=lot).aggregate(total=Sum("amount"))["total"] or 0
    if planned + amount > lot.quantity_remaining:
        raise ValidationError(
            LINE_NOT_ENOUGH,
            code="not_enough_stock",
            params={**who, "left": plain(lot.quantity_remaining), "unit": product.unit},
        )
    if product.agent == Agent.TOXIN and not dilution.strip():
        raise ValidationError(LINE_DILUTION, code="dilution_required")
    if product.contains_cows_milk_protein and record.medical_history.allergy_cows_milk_protein:
        raise ValidationError(LINE_COWS_MILK, code="cows_milk_allergy")
    line = InjectionLine(
        record=record,
        lot=lot,
        product=product,
        site=site,
        amount=amount,
        dilution=dilution.strip() if product.agent == Agent.TOXIN else "",
        depth=depth,
        technique=technique,
        needle=needle,
        created_at=now or timezone.now(),
    )
    line.full_clean()
    line.save()
    return line


@transaction.atomic
def injection_remove(*, line, by):
    _draft_for(line.record, by)
    line.delete()


@transaction.atomic
def record_update(*, record, by, **fields):
    record = _draft_for(record, by)
    for name in RECORD_FIELDS:
        if name in fields:
            setattr(record, name, fields[name])
    record.full_clean()
    record.save()
    return record


def _check_signer(record, by, password):
    if record.practitioner.user_id != by.pk and not by.has_role(Role.MANAGER):
        raise ValidationError(
            RECORD_SIGNER_NOT_ALLOWED,
            code="not_allowed",
            params={"practitioner": record.practitioner},
        )
    if not by.check_password(password or ""):
        raise ValidationError(SIGN_WRONG_PASSWORD, code="wrong_password")


@transaction.atomic
def treatment_sign(*, record, by, password, now=None):
    """Sign a draft: check it is complete, use up the stock of each lot, close
    the appointment. From here on the record never changes."""
    now = now or timezone.now()
    record = (
        TreatmentRecord.objects.select_for_update()
        .select_related("practitioner__user", "procedure", "appointment")
        .get(pk=record.pk)
    )
    if record.is_signed:
        raise ValidationError(RECORD_SIGNED, code="record_signed")
    _check_signer(record, by, password)
    lines = list(record.lines.select_related("product", "lot"))
    if not lines:
        raise ValidationError(SIGN_NO_LINES, code="no_lines")
    if not record.anaesthetic:
        raise ValidationError(SIGN_ANAESTHETIC, code="anaesthetic_missing")
    described = bool(record.adverse_events.strip())
    if record.no_adverse_events and described:
        raise ValidationError(SIGN_ADVERSE_CONFLICT, code="adverse_events_conflict")
    if not (record.no_adverse_events or described):
        raise ValidationError(SIGN_ADVERSE_EVENTS, code="adverse_events_missing")
    if record_doses(record, lines).needs_reason and not record.over_maximum_reason.strip():
        raise ValidationError(SIGN_REASON_REQUIRED, code="reason_required")

    used = {}
    for line in lines:
        used[line.lot_id] = used.get(line.lot_id, 0) + line.amount
    for lot in (
        Lot.objects.select_for_update().select_related("product").filter(pk__in=used).order_by("pk")
    ):
        if lot.quantity_remaining < used[lot.pk]:
            raise ValidationError(
                LINE_NOT_ENOUGH,
                code="not_enough_stock",
                params={
                    "lot": lot.lot_number,
                    "product": lot.product,
                    "left": plain(lot.quantity_remaining),
                    "unit": lot.product.unit,
                },
            )
        lot.quantity_remaining -= used[lot.pk]
        lot.full_clean()
        lot.save()

    if record.review_date is None and record.rebook_date is None:
        dates = _follow_up(record)
        record.review_date, record.rebook_date = dates.review_date, dates.rebook_date
    record.status = TreatmentRecord.Status.SIGNED
    record.signed_at = now
    record.signed_by = by
    record.content_sha256 = hashlib.sha256(record.content().encode()).hexdigest()
    record.save()
    appointment_complete(appointment=record.appointment, by=by, now=now)
    notifications.treatment_signed(record, now=now)
    return record


@transaction.atomic
def addendum_add(*, record, by, password, reason, text, now=None):
    record = TreatmentRecord.objects.select_related("practitioner__user").get(pk=record.pk)
    if not record.is_signed:
        raise ValidationError(ADDENDUM_NOT_SIGNED, code="not_signed")
    _check_signer(record, by, password)
    if not (reason or "").strip() or not (text or "").strip():
        raise ValidationError(ADDENDUM_EMPTY, code="addendum_empty")
    now = now or timezone.now()
    content = "\n".join([str(record.pk), str(by.pk), now.isoformat(), reason.strip(), text.strip()])
    addendum = Addendum(
        record=record,
        author=by,
        created_at=now,
        reason=reason.strip(),
        text=text.strip(),
        content_sha256=hashlib.sha256(content.encode()).hexdigest(),
    )
    addendum.full_clean()
    addendum.save()
    return addendum
