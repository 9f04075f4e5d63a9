"""Writes of the treatments app: stock, consent, treatment records."""

import hashlib
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from bookings import notifications
from bookings.models import Appointment
from bookings.safety import safety_case
from bookings.services import appointment_complete
from clinic.models import search_key
from clinic.refusals import Refusal, Refused
from clinic.roles import Role
from treatments.consent import consent_for, make_token, new_nonce
from treatments.models import (
    Addendum,
    ConsentForm,
    ConsentRequest,
    ConsentSignature,
    InjectionLine,
    Lot,
    ProductDose,
    SameDayCheck,
    TreatmentRecord,
)
from treatments.rules import Agent, DoseLimit, FollowUpRule, dose_summary, follow_up, plain
from treatments.safety.engine import Dose, SameDay, Step, evaluate, window_days
from treatments.signature import signature_png
from treatments.sites import BY_CODE as SITE_BY_CODE

LOT_ALREADY_EXPIRED = Refusal(
    "lot_already_expired",
    "This lot expired on %(expiry)s. Do not put it into stock; return it.",
)
LOT_EXPIRY_MISMATCH = Refusal(
    "lot_expiry_mismatch",
    "Lot %(lot)s of %(product)s is already recorded with expiry %(recorded)s, not "
    "%(given)s. Check the box label; if the label really differs, ask the supplier.",
)
QUANTITY_NOT_POSITIVE = Refusal(
    "quantity_not_positive",
    "Enter how much arrived: a number above zero.",
)
LOT_NUMBER_MISSING = Refusal(
    "lot_number_missing",
    "Enter the lot number exactly as printed on the box.",
)


@transaction.atomic
def lot_receive(*, product, lot_number, expiry_date, quantity, received_by, now=None):
    """Record a delivery. A lot number seen before adds to that lot's stock."""
    today = timezone.localdate(now or timezone.now())
    lot_number = lot_number.strip().upper()
    if not lot_number or "\x00" in lot_number:
        raise LOT_NUMBER_MISSING.error()
    if quantity is None or quantity <= 0:
        raise QUANTITY_NOT_POSITIVE.error()
    if expiry_date < today:
        raise LOT_ALREADY_EXPIRED.error(expiry=expiry_date.strftime("%d %b %Y"))
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
        raise LOT_EXPIRY_MISMATCH.error(
            lot=lot_number,
            product=product,
            recorded=lot.expiry_date.strftime("%d %b %Y"),
            given=expiry_date.strftime("%d %b %Y"),
        )
    else:
        lot.quantity_received += quantity
        lot.quantity_remaining += quantity
    lot.full_clean()
    lot.save()
    return lot


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


# Treatment records

RECORD_NOT_CHECKED_IN = Refusal(
    "not_checked_in", "The patient is not checked in. Check them in first (the front desk does)."
)
RECORD_NOT_YOUR_PATIENT = Refusal(
    "not_your_patient",
    "This appointment is booked with %(practitioner)s, so only they can ask today's questions "
    "and record it. If you are treating instead, move the appointment to yourself first.",
)
SAME_DAY_NOT_TODAY = Refusal(
    "same_day_not_today",
    "Today's safety questions are asked on the day of the appointment, %(day)s.",
)
RECORD_CONSENT_MISSING = Refusal(
    "consent_missing",
    "Consent is not signed for: %(forms)s. Send the signing link, or let the patient sign "
    "on their phone or the clinic's tablet, then start again.",
)
RECORD_SIGNED = Refusal(
    "record_signed", "This record is signed and cannot change. Add an addendum to correct it."
)
RECORD_NOT_YOURS = Refusal(
    "not_your_record", "Only the treating practitioner (%(practitioner)s) can change this record."
)
RECORD_SIGNER_NOT_ALLOWED = Refusal(
    "not_allowed",
    "Only the treating practitioner (%(practitioner)s) or a manager can sign or amend this record.",
)
LINE_WRONG_PRODUCT = Refusal(
    "wrong_product",
    "%(product)s is not used for %(procedure)s. Pick a lot of one of its products.",
    field="lot",
)
LINE_NOT_FOR_LIPS = Refusal(
    "not_for_lips",
    "%(product)s is not a lip product (or is no longer in use here). Pick a lot of a product "
    "made for lips.",
    field="lot",
)
LINE_WRONG_SITE = Refusal(
    "wrong_site", "%(site)s is not a site for %(product)s. Pick a %(agent)s site.", field="site"
)
LINE_AMOUNT = Refusal(
    "amount_not_positive", "Enter the amount injected: a number above zero.", field="amount"
)
LINE_LOT_EXPIRED = Refusal(
    "lot_expired",
    "Lot %(lot)s of %(product)s expired on %(expiry)s. Do not use it: take another lot and "
    "put this one aside for return.",
    field="lot",
)
LINE_LOT_EMPTY = Refusal(
    "lot_empty", "Lot %(lot)s of %(product)s has none left in stock. Pick another lot.", field="lot"
)
LINE_NOT_ENOUGH = Refusal(
    "not_enough_stock",
    "Lot %(lot)s of %(product)s has %(left)s %(unit)s left, less than this record would use. "
    "Pick another lot for the rest, or check the stock count.",
    field="amount",
)
LINE_DILUTION = Refusal(
    "dilution_required",
    "Give the dilution for toxin, e.g. '100 U in 2.5 mL saline'.",
    field="dilution",
)
SIGN_WRONG_PASSWORD = Refusal(
    "wrong_password",
    "That password is not right. Enter the password you log in with.",
    field="password",
)
SIGN_NO_LINES = Refusal("no_lines", "Record at least one injection before signing.")
SIGN_ANAESTHETIC = Refusal(
    "anaesthetic_missing", "Say which anaesthetic was used, or 'None'.", field="anaesthetic"
)
SIGN_ADVERSE_EVENTS = Refusal(
    "adverse_events_missing",
    "Record adverse events: tick 'No adverse events', or describe what happened.",
    field="adverse_events",
)
SIGN_ADVERSE_CONFLICT = Refusal(
    "adverse_events_conflict",
    "You ticked 'No adverse events' and also described one. Untick the box or clear the text.",
    field="adverse_events",
)
ADDENDUM_NOT_SIGNED = Refusal(
    "not_signed", "Only a signed record takes addenda; a draft can still be edited."
)
ADDENDUM_EMPTY = Refusal(
    "addendum_empty",
    "Give both the reason for the correction and the correction itself.",
    field="text",
)

FOLLOW_UP_OUT_OF_RANGE = Refusal(
    "follow_up_out_of_range",
    "Give a date from the treatment day to two years after it (%(latest)s). Check the year.",
)
FOLLOW_UP_HORIZON = timedelta(days=731)
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


def _treatment_case(appointment, *, step, now, history=None, **extra):
    kwargs = {} if history is None else {"history": history}
    return safety_case(
        patient=appointment.patient,
        procedure=appointment.procedure,
        day=appointment.local_date,
        step=step,
        now=now,
        exclude=appointment,
        **kwargs,
        **extra,
    )


def _same_day_answers(check):
    if check is None:
        return None
    return SameDay(
        on=check.asked_on,
        window_kept=check.window_kept,
        pregnant_or_breastfeeding=check.pregnant_or_breastfeeding,
        active_cold_sore=check.active_cold_sore,
        infection_at_site=check.infection_at_site,
        antibiotics_now=check.antibiotics_now,
        dental_work_recent=check.dental_work_recent,
        illness_or_vaccination_recent=check.illness_or_vaccination_recent,
        toxin_elsewhere_on=check.toxin_elsewhere_on,
    )


def _treating(appointment, by):
    if appointment.status != Appointment.Status.CHECKED_IN:
        raise RECORD_NOT_CHECKED_IN.error()
    if appointment.practitioner.user_id != by.pk:
        raise RECORD_NOT_YOUR_PATIENT.error(practitioner=appointment.practitioner)


def same_day_window_start(appointment, *, now=None):
    """The first day of the pre-care window the practitioner asks about: the
    minimum window (for this patient's blood thinners too) before the visit."""
    case = _treatment_case(appointment, step=Step.TREATMENT_START, now=now or timezone.now())
    minimum, _ = window_days(case)
    return appointment.local_date - timedelta(days=minimum)


SAME_DAY_FIELDS = (
    "window_kept",
    "pregnant_or_breastfeeding",
    "active_cold_sore",
    "infection_at_site",
    "antibiotics_now",
    "dental_work_recent",
    "illness_or_vaccination_recent",
    "toxin_elsewhere_on",
)


@transaction.atomic
def same_day_check_record(*, appointment, by, now=None, **answers):
    """Record today's safety answers, asked by the treating practitioner
    before the treatment record opens, and return (check, assessment): every
    verdict of the engine for starting the treatment now. The answers are
    kept whatever they say; a blocking answer stops the treatment (the
    assessment names the earliest new date)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("patient", "practitioner__user", "procedure")
        .get(pk=appointment.pk)
    )
    _treating(appointment, by)
    if appointment.local_date != today:
        raise SAME_DAY_NOT_TODAY.error(day=appointment.local_date.strftime("%A %d %B %Y"))
    values = {name: answers.get(name) for name in SAME_DAY_FIELDS}
    values["toxin_elsewhere_on"] = values["toxin_elsewhere_on"] or None
    case = _treatment_case(appointment, step=Step.TREATMENT_START, now=now)
    minimum, _ = window_days(case)
    check = SameDayCheck(
        appointment=appointment,
        asked_by=by,
        asked_at=now,
        asked_on=today,
        window_from=appointment.local_date - timedelta(days=minimum),
        **{
            name: bool(value) if name != "toxin_elsewhere_on" else value
            for name, value in values.items()
        },
    )
    safety = evaluate(replace(case, same_day=_same_day_answers(check)))
    check.outcome = "refuse" if safety.refused else ("flag" if safety.flags else "clear")
    check.codes = safety.codes()
    check.full_clean()
    check.save()
    if check.window_kept:
        Appointment.objects.filter(pk=appointment.pk).update(
            precare_confirmed_at=now, precare_confirmed_by=by
        )
    return check, safety


@transaction.atomic
def treatment_start(*, appointment, by, now=None):
    """Open the treatment record of a checked-in appointment (or return the
    one already open). Refuses, saying what to do, unless the treating
    practitioner has asked today's safety questions and the engine clears
    the treatment (history current and complete, nothing ruling it out, the
    window kept, age and toxin gap), and every consent it needs is signed."""
    now = now or timezone.now()
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("patient", "practitioner__user", "procedure")
        .get(pk=appointment.pk)
    )
    existing = TreatmentRecord.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    _treating(appointment, by)
    check = SameDayCheck.objects.filter(appointment=appointment).first()
    case = _treatment_case(
        appointment, step=Step.TREATMENT_START, now=now, same_day=_same_day_answers(check)
    )
    safety = evaluate(case)
    if safety.refused:
        raise Refused(safety.refusals)
    consent = consent_for([appointment], now=now)[appointment.pk]
    if not consent.is_complete:
        raise RECORD_CONSENT_MISSING.error(
            forms=", ".join(str(p.form or p.procedure) for p in consent.outstanding())
        )
    record = TreatmentRecord(
        appointment=appointment,
        patient=appointment.patient,
        practitioner=appointment.practitioner,
        procedure=appointment.procedure,
        started_at=now,
        medical_history=case.patient.history,
        precare_kept=check.window_kept,
        same_day_check=check,
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
        .select_related(
            "practitioner__user", "procedure", "appointment", "medical_history", "patient"
        )
        .get(pk=record.pk)
    )
    if record.is_signed:
        raise RECORD_SIGNED.error()
    if record.practitioner.user_id != by.pk:
        raise RECORD_NOT_YOURS.error(practitioner=record.practitioner)
    return record


def _dose(product, site_info, amount):
    amount = Decimal(amount)
    return Dose(
        product=product.name,
        agent=product.agent,
        unit=product.unit,
        amount=amount,
        lip=site_info.lip if site_info else None,
        agent_amount=product.botox_equivalent(amount) if product.agent == Agent.TOXIN else amount,
        contains_cows_milk_protein=product.contains_cows_milk_protein,
    )


def _record_case(record, *, step, now, lines=None, **extra):
    """The engine's case for a record: its patient and procedure on the
    treatment day, the history it relied on, and the lines charted so far."""
    lines = list(record.lines.select_related("product")) if lines is None else lines
    appointment = record.appointment
    appointment.patient = record.patient
    appointment.procedure = record.procedure
    return _treatment_case(
        appointment,
        step=step,
        now=now,
        history=record.medical_history,
        doses=tuple(_dose(line.product, line.site_info, line.amount) for line in lines),
        **extra,
    )


def record_safety(record, lines=None, *, now=None):
    """The dose verdicts of a draft as it stands (for the record page)."""
    return evaluate(
        _record_case(record, step=Step.LINE_ADD, now=now or timezone.now(), lines=lines)
    )


@transaction.atomic
def injection_add(
    *, record, by, lot, site, amount, depth, needle, dilution="", technique="", now=None
):
    now = now or timezone.now()
    record = _draft_for(record, by)
    lot = Lot.objects.select_for_update().select_related("product").get(pk=lot.pk)
    product = lot.product
    part_products = ProductDose.objects.filter(procedure__in=record.procedure.parts())
    if not part_products.filter(product=product).exists():
        raise LINE_WRONG_PRODUCT.error(product=product, procedure=record.procedure)
    if not (product.for_lips and product.is_active):
        raise LINE_NOT_FOR_LIPS.error(product=product)
    site_info = SITE_BY_CODE.get(site)
    if site_info is None or site_info.agent != product.agent:
        raise LINE_WRONG_SITE.error(
            site=site_info.label if site_info else site,
            product=product,
            agent=Agent(product.agent).label.lower(),
        )
    if amount is None or amount <= 0:
        raise LINE_AMOUNT.error()
    who = {"lot": lot.lot_number, "product": product}
    if lot.is_expired_on(_treatment_day(record)):
        raise LINE_LOT_EXPIRED.error(**who, expiry=lot.expiry_date.strftime("%d %b %Y"))
    if lot.quantity_remaining <= 0:
        raise LINE_LOT_EMPTY.error(**who)
    if product.agent == Agent.TOXIN and not dilution.strip():
        raise LINE_DILUTION.error()
    safety = evaluate(
        _record_case(
            record, step=Step.LINE_ADD, now=now, new_dose=_dose(product, site_info, amount)
        )
    )
    if safety.refused:
        raise Refused(safety.refusals)
    planned = record.lines.filter(lot=lot).aggregate(total=Sum("amount"))["total"] or 0
    if planned + amount > lot.quantity_remaining:
        raise LINE_NOT_ENOUGH.error(**who, left=plain(lot.quantity_remaining), unit=product.unit)
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
        created_at=now,
    )
    line.full_clean()
    line.save()
    return line


@transaction.atomic
def injection_remove(*, line, by):
    _draft_for(line.record, by)
    line.delete()


@transaction.atomic
def record_update(*, record, by, now=None, **fields):
    """Save a draft's details. A rebook date sooner than the agent's minimum
    gap (toxin: 90 days) is refused."""
    record = _draft_for(record, by)
    for name in RECORD_FIELDS:
        if name in fields:
            setattr(record, name, fields[name])
    _check_follow_up_dates(record)
    if record.rebook_date is not None:
        safety = evaluate(
            _record_case(
                record,
                step=Step.FOLLOW_UP,
                now=now or timezone.now(),
                lines=[],
                rebook_date=record.rebook_date,
            )
        )
        if safety.refused:
            raise Refused(safety.refusals)
    record.full_clean()
    record.save()
    return record


def _check_follow_up_dates(record):
    """Review and rebook dates fall between the treatment day and two years on."""
    first = timezone.localdate(record.started_at)
    latest = first + FOLLOW_UP_HORIZON
    wrong = {
        name: FOLLOW_UP_OUT_OF_RANGE.error(latest=f"{latest:%d/%m/%Y}")
        for name in ("review_date", "rebook_date")
        if getattr(record, name) is not None and not first <= getattr(record, name) <= latest
    }
    if wrong:
        raise ValidationError(wrong)


def _check_signer(record, by, password):
    if record.practitioner.user_id != by.pk and not by.has_role(Role.MANAGER):
        raise RECORD_SIGNER_NOT_ALLOWED.error(practitioner=record.practitioner)
    if not by.check_password(password or ""):
        raise SIGN_WRONG_PASSWORD.error()


@transaction.atomic
def treatment_sign(*, record, by, password, now=None, **fields):
    """Sign a draft: save any details given with it (nothing typed is lost),
    check it is complete and that the engine clears it (doses, reasons, age,
    toxin gap, the rebook date), use up the stock of each lot, close the
    appointment. From here on the record never changes."""
    now = now or timezone.now()
    record = (
        TreatmentRecord.objects.select_for_update()
        .select_related(
            "practitioner__user", "procedure", "appointment", "patient", "medical_history"
        )
        .get(pk=record.pk)
    )
    if record.is_signed:
        raise RECORD_SIGNED.error()
    _check_signer(record, by, password)
    if fields and record.practitioner.user_id != by.pk:
        raise RECORD_NOT_YOURS.error(practitioner=record.practitioner)
    for name in RECORD_FIELDS:
        if name in fields:
            setattr(record, name, fields[name])
    lines = list(record.lines.select_related("product", "lot"))
    if not lines:
        raise SIGN_NO_LINES.error()
    if not record.anaesthetic:
        raise SIGN_ANAESTHETIC.error()
    described = bool(record.adverse_events.strip())
    if record.no_adverse_events and described:
        raise SIGN_ADVERSE_CONFLICT.error()
    if not (record.no_adverse_events or described):
        raise SIGN_ADVERSE_EVENTS.error()
    if record.review_date is None and record.rebook_date is None:
        dates = _follow_up(record)
        record.review_date, record.rebook_date = dates.review_date, dates.rebook_date
    safety = evaluate(
        _record_case(
            record,
            step=Step.SIGN,
            now=now,
            lines=lines,
            over_maximum_reason=bool(record.over_maximum_reason.strip()),
            rebook_date=record.rebook_date,
        )
    )
    if safety.refused:
        raise Refused(safety.refusals)

    used = {}
    for line in lines:
        used[line.lot_id] = used.get(line.lot_id, 0) + line.amount
    for lot in (
        Lot.objects.select_for_update().select_related("product").filter(pk__in=used).order_by("pk")
    ):
        if lot.quantity_remaining < used[lot.pk]:
            raise LINE_NOT_ENOUGH.error(
                lot=lot.lot_number,
                product=lot.product,
                left=plain(lot.quantity_remaining),
                unit=lot.product.unit,
            )
        lot.quantity_remaining -= used[lot.pk]
        lot.full_clean()
        lot.save()

    record.status = TreatmentRecord.Status.SIGNED
    record.signed_at = now
    record.signed_by = by
    record.content_sha256 = hashlib.sha256(record.content().encode()).hexdigest()
    record.full_clean()
    record.save()
    appointment_complete(appointment=record.appointment, by=by, now=now)
    notifications.treatment_signed(record, now=now)
    return record


@transaction.atomic
def addendum_add(*, record, by, password, reason, text, now=None):
    record = TreatmentRecord.objects.select_related("practitioner__user").get(pk=record.pk)
    if not record.is_signed:
        raise ADDENDUM_NOT_SIGNED.error()
    _check_signer(record, by, password)
    if not (reason or "").strip() or not (text or "").strip():
        raise ADDENDUM_EMPTY.error()
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
