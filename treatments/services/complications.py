"""Complication records: opened from a treatment record, a step per tap at
the chair (the server's time on each), kit doses drawn from kit lots,
signed with the password and frozen; addenda after. Opening one schedules
its check-ins and the messages that go with them."""

import hashlib
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, Value
from django.db.models.functions import Concat, TruncMonth
from django.utils import timezone

from clinic.refusals import Refusal
from clinic.roles import Role
from clinic.rules import age_on
from treatments import messages
from treatments.models import (
    Complication,
    ComplicationCheckIn,
    ComplicationStep,
    InjectionLine,
    KitLot,
    KitMedicine,
    RegulatorReport,
    TreatmentRecord,
)
from treatments.rules import CHECK_IN_HOURS, plain

Kind = ComplicationStep.Kind

# What the practitioner looks for in a suspected vascular occlusion.
SIGNS = {
    "blanching": "Blanching (white skin)",
    "mottling": "Mottling or dusky, blue-grey skin",
    "pain": "Pain out of proportion",
    "refill": "Slow capillary refill (over 3 seconds)",
    "vision": "Any change in vision",
}
# The steps each kind of complication offers at the chair, in order.
STEPS_FOR = {
    Complication.Kind.VASCULAR_OCCLUSION: (
        Kind.STOPPED,
        Kind.SIGNS,
        Kind.HYALURONIDASE,
        Kind.ESCALATED,
        Kind.OUTCOME,
        Kind.NOTE,
    ),
    Complication.Kind.ANAPHYLAXIS: (
        Kind.STOPPED,
        Kind.ADRENALINE,
        Kind.ESCALATED,
        Kind.OUTCOME,
        Kind.NOTE,
    ),
}
STEPS_OTHERWISE = (Kind.NOTE, Kind.HYALURONIDASE, Kind.ESCALATED, Kind.OUTCOME)
# Which kit medicine a dose step draws from.
DOSE_MEDICINE = {
    Kind.HYALURONIDASE: KitMedicine.Kind.HYALURONIDASE,
    Kind.ADRENALINE: KitMedicine.Kind.ADRENALINE,
}
TEXT_LIMIT = 4000


def steps_for(kind):
    return STEPS_FOR.get(kind, STEPS_OTHERWISE)


COMPLICATION_NOT_ALLOWED = Refusal(
    "complication_not_allowed",
    "Only practitioners open and record complications. Ask the treating practitioner, or a "
    "colleague who is one.",
)
COMPLICATION_KIND = Refusal(
    "complication_kind", "Pick what kind of complication it is (Other if none fits).", "kind"
)
COMPLICATION_SIGNED = Refusal(
    "complication_signed",
    "This complication record is signed and cannot change. Add an addendum to correct it.",
)
COMPLICATION_NOT_SIGNED = Refusal(
    "complication_not_signed",
    "Addenda are for signed complication records: record it as a step or a note while it is open.",
)
STEP_NOT_OFFERED = Refusal(
    "step_not_offered", "That step is not part of this kind of complication record."
)
STEP_SIGNS_NONE = Refusal(
    "step_signs_none", "Tick the signs you see (at least one), then record them.", "signs"
)
STEP_DOSE_LOT = Refusal(
    "step_dose_lot",
    "Pick the kit lot the %(medicine)s came from (Clinic > Emergency kit lists them).",
    "kit_lot",
)
STEP_DOSE_WRONG_LOT = Refusal(
    "step_dose_wrong_lot", "That lot is %(lot_medicine)s, not %(medicine)s.", "kit_lot"
)
STEP_DOSE_EXPIRED = Refusal(
    "step_dose_expired",
    "Lot %(lot)s expired on %(expiry)s: do not use it. Take an in-date one from the kit.",
    "kit_lot",
)
STEP_DOSE_ITEMS = Refusal(
    "step_dose_items",
    "Enter how many %(pack)s were used: a whole number from 1 (lot %(lot)s has %(left)s left "
    "on record).",
    "items",
)
STEP_DOSE_NOT_ENOUGH = Refusal(
    "step_dose_not_enough",
    "Lot %(lot)s has %(left)s left on record, not %(items)s. If you used more, record the "
    "rest from the lot they came from.",
    "items",
)
STEP_DOSE_AMOUNT = Refusal(
    "step_dose_amount", "Enter the dose given (e.g. 1500 IU, or 0.5 mg IM).", "dose"
)
STEP_ESCALATION = Refusal("step_escalation", "Pick who was called.", "escalated_to")
STEP_OUTCOME = Refusal("step_outcome", "Pick the outcome.", "outcome")
STEP_TEXT = Refusal("step_text", "Write the note (up to 4,000 characters).", "text")
COMPLICATION_SIGN_OUTCOME = Refusal(
    "complication_sign_outcome",
    "Record the outcome before signing (the Outcome step), even if it is 'ongoing'.",
)
COMPLICATION_SIGN_PASSWORD = Refusal(
    "complication_sign_password",
    "That is not your password. Type the password you log in with to sign.",
    "password",
)
CHECK_IN_DONE = Refusal(
    "check_in_done", "This check-in was already recorded (%(when)s, by %(who)s)."
)
CHECK_IN_NOTE = Refusal(
    "check_in_note",
    "Write how the patient is (up to 4,000 characters): what they said, what you saw.",
    "note",
)
COMPLICATION_SIGNER = Refusal(
    "complication_signer",
    "Only %(opener)s, who opened this record, or a manager can sign it.",
)


def _practitioner(by):
    if not by.has_perm("treatments.add_complication"):
        raise COMPLICATION_NOT_ALLOWED.error()


@transaction.atomic
def complication_open(*, record, kind, by, now=None):
    """Open a complication record on a treatment record (draft or signed)."""
    _practitioner(by)
    if kind not in Complication.Kind.values:
        raise COMPLICATION_KIND.error()
    record = TreatmentRecord.objects.select_related("patient").get(pk=record.pk)
    complication = Complication(
        record=record,
        patient=record.patient,
        kind=kind,
        opened_at=now or timezone.now(),
        opened_by=by,
    )
    complication.full_clean()
    complication.save()
    opened = complication.opened_at
    check_ins = ComplicationCheckIn.objects.bulk_create(
        ComplicationCheckIn(complication=complication, due_at=opened + timedelta(hours=hours))
        for hours in CHECK_IN_HOURS[kind]
    )
    messages.complication_check_ins(complication, check_ins)
    return complication


@transaction.atomic
def check_in_done(*, check_in, by, note, now=None):
    """The practitioner checked in with the patient: what they found."""
    _practitioner(by)
    check_in = ComplicationCheckIn.objects.select_for_update().get(pk=check_in.pk)
    if check_in.done_at is not None:
        when = timezone.localtime(check_in.done_at).strftime("%d %b %H:%M")
        raise CHECK_IN_DONE.error(when=when, who=check_in.done_by)
    note = (note or "").strip()
    if not note or len(note) > TEXT_LIMIT:
        raise CHECK_IN_NOTE.error()
    check_in.done_at, check_in.done_by, check_in.note = now or timezone.now(), by, note
    check_in.full_clean()
    check_in.save()
    return check_in


def _locked(complication):
    return (
        Complication.objects.select_for_update().select_related("opened_by").get(pk=complication.pk)
    )


def _dose(step, medicine_kind, *, kit_lot, items, dose, today):
    """Check a kit dose and use up its stock (the lot is locked)."""
    medicine = KitMedicine.Kind(medicine_kind).label.split(" (")[0].lower()
    if kit_lot is None:
        raise STEP_DOSE_LOT.error(medicine=medicine)
    lot = KitLot.objects.select_for_update().select_related("medicine").get(pk=kit_lot.pk)
    if lot.medicine.kind != medicine_kind:
        raise STEP_DOSE_WRONG_LOT.error(lot_medicine=lot.medicine, medicine=medicine)
    if lot.expiry_date < today:
        raise STEP_DOSE_EXPIRED.error(
            lot=lot.lot_number, expiry=lot.expiry_date.strftime("%d %b %Y")
        )
    params = {"lot": lot.lot_number, "left": lot.quantity_remaining, "pack": lot.medicine.pack}
    if not isinstance(items, int) or items < 1:
        raise STEP_DOSE_ITEMS.error(**params)
    if items > lot.quantity_remaining:
        raise STEP_DOSE_NOT_ENOUGH.error(**params, items=items)
    if not (dose or "").strip():
        raise STEP_DOSE_AMOUNT.error()
    lot.quantity_remaining -= items
    lot.full_clean()
    lot.save()
    step.kit_lot, step.items, step.dose = lot, items, dose.strip()[:60]


@transaction.atomic
def complication_step(
    *,
    complication,
    kind,
    by,
    now=None,
    signs=(),
    kit_lot=None,
    items=None,
    dose="",
    escalated_to="",
    outcome="",
    text="",
    password="",
):
    """Record one step, stamped with the server's time (`now` is for tests
    and the demo; pages never pass it). A signed record takes addenda only,
    signed with the password."""
    now = now or timezone.now()
    _practitioner(by)
    complication = _locked(complication)
    text = (text or "").strip()
    if complication.is_signed:
        if kind != Kind.ADDENDUM:
            raise COMPLICATION_SIGNED.error()
        if not by.check_password(password or ""):
            raise COMPLICATION_SIGN_PASSWORD.error()
    elif kind == Kind.ADDENDUM:
        raise COMPLICATION_NOT_SIGNED.error()
    elif kind not in steps_for(complication.kind) and kind != Kind.NOTE:
        raise STEP_NOT_OFFERED.error()
    step = ComplicationStep(complication=complication, kind=kind, at=now, by=by)
    if kind == Kind.SIGNS:
        chosen = [code for code in SIGNS if code in set(signs or ())]
        if not chosen:
            raise STEP_SIGNS_NONE.error()
        step.signs = chosen
    elif kind in DOSE_MEDICINE:
        today = timezone.localdate(now)
        _dose(step, DOSE_MEDICINE[kind], kit_lot=kit_lot, items=items, dose=dose, today=today)
    elif kind == Kind.ESCALATED:
        if escalated_to not in ComplicationStep.Escalation.values:
            raise STEP_ESCALATION.error()
        step.escalated_to = escalated_to
    elif kind == Kind.OUTCOME:
        if outcome not in Complication.Outcome.values:
            raise STEP_OUTCOME.error()
        step.outcome = outcome
        Complication.objects.filter(pk=complication.pk).update(outcome=outcome)
    if len(text) > TEXT_LIMIT or (kind in (Kind.NOTE, Kind.ADDENDUM) and not text):
        raise STEP_TEXT.error()
    step.text = text
    step.full_clean()
    step.save()
    return step


@transaction.atomic
def complication_sign(*, complication, by, password, summary="", patient_sex="", now=None):
    """Sign: the record and its steps are frozen (a hash over them); the
    outcome must be recorded. Corrections from here on are addenda."""
    now = now or timezone.now()
    complication = _locked(complication)
    if complication.is_signed:
        raise COMPLICATION_SIGNED.error()
    if complication.opened_by_id != by.pk and not by.has_role(Role.MANAGER):
        raise COMPLICATION_SIGNER.error(opener=complication.opened_by)
    if not by.check_password(password or ""):
        raise COMPLICATION_SIGN_PASSWORD.error()
    if not complication.outcome:
        raise COMPLICATION_SIGN_OUTCOME.error()
    summary = (summary or "").strip()
    if len(summary) > TEXT_LIMIT:
        raise STEP_TEXT.error()
    complication.summary = summary or complication.summary
    if patient_sex:
        complication.patient_sex = patient_sex  # full_clean() checks the choice
    complication.status = Complication.Status.SIGNED
    complication.signed_at = now
    complication.signed_by = by
    complication.content_sha256 = hashlib.sha256(complication.content().encode()).hexdigest()
    complication.full_clean()
    complication.save()
    return complication


# Reporting to the regulator

REPORT_REFERENCE = Refusal(
    "yellow_card_reference",
    "Enter the reference the Yellow Card site gave (up to 60 characters).",
    "reference",
)
REPORT_DATE = Refusal(
    "yellow_card_date",
    "The report date must be between the day the complication was recorded (%(opened)s) and today.",
    "reported_on",
)
REPORT_NOT_ALLOWED = Refusal(
    "yellow_card_not_allowed", "Only practitioners and managers record reports to the regulator."
)


def incident_summary(complication):
    """What a Yellow Card report asks, from the records: the patient (initials,
    age on the day, sex), each suspect product with its lot, expiry, dose and
    date, the reaction, what was given for it, the outcome and the reporter.
    Plain values, for the printable page, CSV and JSON alike."""
    record = complication.record
    patient = complication.patient
    onset = timezone.localdate(complication.opened_at)
    lines = record.lines.select_related("product", "lot").order_by("pk")
    products = {}
    for line in lines:
        key = (line.product_id, line.lot_id)
        entry = products.setdefault(
            key,
            {
                "product": line.product.name,
                "brand": line.product.brand,
                "lot": line.lot.lot_number,
                "expiry": line.lot.expiry_date.isoformat(),
                "amount": 0,
                "unit": line.product.unit,
                "route": "injection into the lips",
                "given_on": timezone.localdate(record.started_at).isoformat(),
            },
        )
        entry["amount"] += line.amount
    for entry in products.values():
        entry["dose"] = f"{plain(entry.pop('amount'))} {entry['unit']}"
    steps = list(complication.steps.select_related("kit_lot__medicine", "by"))
    signs = [SIGNS[code] for step in steps for code in step.signs if code in SIGNS]
    given = [
        f"{step.kit_lot.medicine}: {step.dose}, lot {step.kit_lot.lot_number} (exp. "
        f"{step.kit_lot.expiry_date.isoformat()}) at {timezone.localtime(step.at):%H:%M}"
        for step in steps
        if step.kit_lot_id
    ]
    escalated = [step.get_escalated_to_display() for step in steps if step.escalated_to]
    practitioner = record.practitioner
    reports = list(complication.regulator_reports.all())
    return {
        "clinic_reference": f"complication {complication.pk}",
        "patient_initials": f"{patient.first_name[:1]}{patient.last_name[:1]}".upper(),
        "patient_age": age_on(patient.date_of_birth, onset),
        "patient_sex": complication.get_patient_sex_display() or "not recorded",
        "suspect_products": list(products.values()),
        "reaction": complication.get_kind_display(),
        "signs": sorted(set(signs), key=signs.index),
        "description": complication.summary,
        "onset_date": onset.isoformat(),
        "treatment_date": timezone.localdate(record.started_at).isoformat(),
        "treatment_given": given,
        "escalated_to": escalated,
        "outcome": complication.get_outcome_display() or "not yet recorded",
        "reporter": practitioner.user.get_full_name(),
        "reporter_profession": practitioner.get_profession_display()
        if practitioner.profession
        else "",
        "reporter_registration": practitioner.registration,
        "signed": complication.is_signed,
        "reported": [
            {"scheme": r.get_scheme_display(), "on": r.reported_on.isoformat(), "ref": r.reference}
            for r in reports
        ],
    }


@transaction.atomic
def regulator_report_record(*, complication, by, reported_on, reference, now=None):
    """Record that the complication was reported, when, and the reference."""
    if not by.has_perm("treatments.add_regulatorreport"):
        raise REPORT_NOT_ALLOWED.error()
    now = now or timezone.now()
    opened = timezone.localdate(complication.opened_at)
    if reported_on is None or not opened <= reported_on <= timezone.localdate(now):
        raise REPORT_DATE.error(opened=opened.strftime("%d %b %Y"))
    reference = (reference or "").strip()
    if not reference or len(reference) > 60 or "\x00" in reference:
        raise REPORT_REFERENCE.error()
    report = RegulatorReport(
        complication=complication,
        reported_on=reported_on,
        reference=reference,
        recorded_by=by,
        recorded_at=now,
    )
    report.full_clean()
    report.save()
    return report


# The manager's view: complications over treatments done


def _rate(count, done):
    return round(100 * count / done, 1) if done else None


def complication_rates(first, last):
    """Complications opened and treatments signed between two local days, by
    kind, product, lot, practitioner and month, each with the rate per 100
    treatments done (with that product, lot or practitioner). Ten queries
    whatever the period."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    done = TreatmentRecord.objects.signed().filter(started_at__gte=start, started_at__lt=end)
    opened = Complication.objects.filter(opened_at__gte=start, opened_at__lt=end)
    total_done = done.count()

    def by(key, label, done_by):
        counts = {
            row[key]: row["n"]
            for row in opened.values(key).annotate(n=Count("pk", distinct=True))
            if row[key] is not None
        }
        rows = []
        for row in done_by:
            count = counts.pop(row["key"], 0)
            rows.append({"name": row[label], "done": row["n"], "count": count})
        rows = [r | {"rate": _rate(r["count"], r["done"])} for r in rows if r["count"] or r["done"]]
        return sorted(rows, key=lambda r: (-r["count"], str(r["name"])))

    lines = InjectionLine.objects.filter(record__in=done)
    products = by(
        "record__lines__product",
        "product_name",
        lines.values(key=F("product"), product_name=F("product__name")).annotate(
            n=Count("record", distinct=True)
        ),
    )
    lots = by(
        "record__lines__lot",
        "lot_name",
        lines.values(
            key=F("lot"),
            lot_name=Concat(F("product__name"), Value(" lot "), F("lot__lot_number")),
        ).annotate(n=Count("record", distinct=True)),
    )
    practitioners = by(
        "record__practitioner",
        "practitioner_name",
        done.values(
            key=F("practitioner"), practitioner_name=F("practitioner__display_name")
        ).annotate(n=Count("pk")),
    )
    kinds = dict(Complication.Kind.choices)
    by_kind = [
        {"name": kinds.get(row["kind"], row["kind"]), "count": row["n"]}
        for row in opened.values("kind").annotate(n=Count("pk")).order_by("-n", "kind")
    ]
    months = [
        {"month": row["month"], "count": row["n"]}
        for row in opened.annotate(month=TruncMonth("opened_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    ]
    count = opened.count()
    return {
        "first": first,
        "last": last,
        "done": total_done,
        "count": count,
        "rate": _rate(count, total_done),
        "by_kind": by_kind,
        "by_product": products,
        "by_lot": lots,
        "by_practitioner": practitioners,
        "by_month": months,
    }
