"""Treatment records: today's safety check, the record at the chair, lines,
signing and addenda. Every step runs the safety engine."""

import hashlib
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from bookings.models import Appointment
from bookings.safety import safety_case
from bookings.services import appointment_complete
from clinic.models import Patient
from clinic.refusals import Refusal, Refused
from clinic.roles import Role
from treatments import messages
from treatments.consent import consent_for
from treatments.models import (
    Addendum,
    InjectionLine,
    Lot,
    ProductDose,
    SameDayCheck,
    TreatmentRecord,
)
from treatments.rules import Agent, DoseLimit, FollowUpRule, dose_summary, follow_up, plain
from treatments.safety.engine import Dose, SameDay, Step, evaluate, relied_on, window_days
from treatments.services.kit import kit_state
from treatments.services.prescriptions import prescription_facts, prescription_only_products
from treatments.sites import BY_CODE as SITE_BY_CODE

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


def _locked_appointment(appointment):
    """The appointment, its patient, practitioner and procedure, locked. The
    patient's row is locked by a second statement: the appointment's patient
    may be empty (a hold), and PostgreSQL cannot lock the nullable side of
    the outer join that select_related() makes for it."""
    locked = (
        Appointment.objects.select_for_update(
            of=("self", "practitioner", "practitioner__user", "procedure")
        )
        .select_related("patient", "practitioner__user", "procedure")
        .get(pk=appointment.pk)
    )
    list(Patient.objects.select_for_update().filter(pk=locked.patient_id).values_list("pk"))
    return locked


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
    prescription_only = prescription_only_products(appointment.procedure)
    if prescription_only:
        kwargs["prescription_only"] = prescription_only
        kwargs["prescriptions"] = prescription_facts(appointment.patient)
    if step == Step.TREATMENT_START and Agent.FILLER in appointment.procedure.agents:
        kwargs["kit"] = kit_state(now)  # filler starts only with the emergency kit ready
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
    appointment = _locked_appointment(appointment)
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
    appointment = _locked_appointment(appointment)
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
        needs_prescription=product.needs_prescription,
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
    case = _record_case(
        record,
        step=Step.SIGN,
        now=now,
        lines=lines,
        over_maximum_reason=bool(record.over_maximum_reason.strip()),
        rebook_date=record.rebook_date,
    )
    safety = evaluate(case)
    if safety.refused:
        raise Refused(safety.refusals)
    if any(line.product.needs_prescription for line in lines):
        record.prescription_id = relied_on(case).pk

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
    messages.treatment_signed(record, now=now)
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
