"""Prescriptions: the prescriber's face-to-face assessment and prescription,
signed with their password, and its withdrawal. The safety engine's
prescription rule reads them (`prescription_facts`) when toxin is given."""

import hashlib
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clinic.models import Practitioner
from clinic.refusals import Refusal
from clinic.roles import Role
from treatments.models import (
    PrescriberAssessment,
    Prescription,
    PrescriptionItem,
    PrescriptionWithdrawal,
    ProductDose,
)
from treatments.safety.engine import Prescribed

PRESCRIPTION_HORIZON = timedelta(days=365)

PRESCRIBER_NOT_QUALIFIED = Refusal(
    "not_a_prescriber",
    "Only an independent prescriber (a doctor, a dentist, or a nurse or pharmacist independent "
    "prescriber) may assess for and prescribe toxin. Ask one to see the patient; a manager "
    "records qualifications on the practitioner's profile.",
)
ASSESSMENT_NOT_IN_PERSON = Refusal(
    "assessment_not_in_person",
    "Toxin may be prescribed only after seeing the patient face to face: a video call, a phone "
    "call or an online form is not enough. See the patient in the clinic, then prescribe.",
    field="mode",
)
ASSESSMENT_EMPTY = Refusal(
    "assessment_empty",
    "Write down your assessment: what you examined and discussed, and the plan.",
    field="findings",
)
PRESCRIPTION_NO_ITEMS = Refusal(
    "prescription_no_items",
    "Give at least one medicine and the most that may be given in one session.",
)
PRESCRIPTION_NOT_POM = Refusal(
    "prescription_not_pom",
    "%(product)s is not a prescription-only medicine here: it needs no prescription.",
)
PRESCRIPTION_AMOUNT = Refusal(
    "prescription_amount",
    "Give the most of %(product)s per session as a number above zero.",
)
PRESCRIPTION_VALIDITY = Refusal(
    "prescription_validity",
    "Give a last day from today to a year from now (%(latest)s).",
    field="valid_until",
)
PRESCRIPTION_WRONG_PASSWORD = Refusal(
    "prescription_wrong_password",
    "That password is not right. Sign with the password you log in with.",
    field="password",
)
WITHDRAWAL_REASON = Refusal(
    "withdrawal_reason", "Say why the prescription is withdrawn.", field="reason"
)
WITHDRAWAL_NOT_ALLOWED = Refusal(
    "withdrawal_not_allowed",
    "Only an independent prescriber or a manager may withdraw a prescription.",
)
ALREADY_WITHDRAWN = Refusal(
    "prescription_already_withdrawn", "This prescription has already been withdrawn."
)


def _prescriber(by):
    practitioner = Practitioner.objects.filter(user=by).first()
    if practitioner is None or not practitioner.independent_prescriber:
        raise PRESCRIBER_NOT_QUALIFIED.error()
    return practitioner


@transaction.atomic
def prescription_write(
    *,
    patient,
    by,
    password: str,
    mode: str,
    findings: str,
    items: list[tuple],
    valid_until,
    directions: str = "",
    now=None,
) -> Prescription:
    """Record the prescriber's assessment and their prescription for
    `patient`: `items` are (product, most per session in its units). Refused
    unless `by` is an independent prescriber who saw the patient face to
    face and signs with their password. Nothing is kept when refused."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    prescriber = _prescriber(by)
    if mode != PrescriberAssessment.Mode.IN_PERSON:
        raise ASSESSMENT_NOT_IN_PERSON.error()
    if not (findings or "").strip():
        raise ASSESSMENT_EMPTY.error()
    if not items:
        raise PRESCRIPTION_NO_ITEMS.error()
    for product, most in items:
        if not product.needs_prescription:
            raise PRESCRIPTION_NOT_POM.error(product=product)
        if most is None or Decimal(most) <= 0:
            raise PRESCRIPTION_AMOUNT.error(product=product)
    latest = today + PRESCRIPTION_HORIZON
    if valid_until is None or not today <= valid_until <= latest:
        raise PRESCRIPTION_VALIDITY.error(latest=f"{latest:%d/%m/%Y}")
    if not by.check_password(password or ""):
        raise PRESCRIPTION_WRONG_PASSWORD.error()
    assessment = PrescriberAssessment(
        patient=patient,
        prescriber=prescriber,
        mode=mode,
        assessed_at=now,
        findings=findings.strip(),
    )
    assessment.full_clean()
    assessment.save()
    prescription = Prescription(
        patient=patient,
        prescriber=prescriber,
        assessment=assessment,
        written_at=now,
        valid_until=valid_until,
        directions=(directions or "").strip(),
        prescriber_registration=f"{prescriber.display_name}, {prescriber.registration}",
    )
    rows = [
        PrescriptionItem(prescription=prescription, product=product, most_per_session=Decimal(most))
        for product, most in items
    ]
    prescription.content_sha256 = hashlib.sha256(prescription.content(rows).encode()).hexdigest()
    prescription.full_clean(exclude=["content_sha256"])
    prescription.save()
    for row in rows:
        row.prescription = prescription
        row.full_clean()
        row.save()
    return prescription


@transaction.atomic
def prescription_withdraw(*, prescription, by, reason: str, now=None) -> PrescriptionWithdrawal:
    """Withdraw a prescription (a prescriber or a manager), with a reason:
    from now on no treatment may rely on it."""
    prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
    is_prescriber = Practitioner.objects.filter(user=by, independent_prescriber=True).exists()
    if not (is_prescriber or by.has_role(Role.MANAGER)):
        raise WITHDRAWAL_NOT_ALLOWED.error()
    if PrescriptionWithdrawal.objects.filter(prescription=prescription).exists():
        raise ALREADY_WITHDRAWN.error()
    if not (reason or "").strip():
        raise WITHDRAWAL_REASON.error()
    withdrawal = PrescriptionWithdrawal(
        prescription=prescription,
        withdrawn_by=by,
        withdrawn_at=now or timezone.now(),
        reason=reason.strip(),
    )
    withdrawal.full_clean()
    withdrawal.save()
    return withdrawal


def prescription_facts(patient) -> tuple[Prescribed, ...]:
    """The patient's prescriptions, as the safety engine reads them."""
    return tuple(
        Prescribed(
            pk=p.pk,
            prescriber=str(p.prescriber),
            written_on=p.written_on,
            valid_until=p.valid_until,
            most=tuple((item.product.name, item.most_per_session) for item in p.items.all()),
            withdrawn=p.withdrawn,
        )
        for p in Prescription.objects.for_patient(patient)
    )


def prescription_only_products(procedure) -> frozenset[str]:
    """The names of the procedure's products that need a prescription."""
    return frozenset(
        ProductDose.objects.filter(
            procedure__in=procedure.parts(), product__needs_prescription=True
        ).values_list("product__name", flat=True)
    )
