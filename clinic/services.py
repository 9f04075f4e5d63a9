"""Writes about people: patients and their medical histories.

Every function is keyword-only, runs in one transaction, validates before it
saves, and raises ValidationError with a stable `code` and a message that says
what to do. Error messages are module constants that tests reuse.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.medical import YES_NO_FIELDS
from clinic.models import MedicalHistory, Patient
from clinic.rules import age_on

DUPLICATE_PATIENT = (
    "A patient named %(name)s, born %(born)s, is already registered. Open their record "
    "instead of creating a second one."
)
BORN_IN_FUTURE = "The date of birth is in the future. Check the year."
TOO_OLD = "That date of birth makes the patient over 120. Check the year."
NOTHING_TO_CONFIRM = (
    "There is no medical history to re-confirm yet. Fill in the questionnaire instead."
)

PATIENT_FIELDS = ("first_name", "last_name", "date_of_birth", "phone", "email")
HISTORY_FIELDS = (
    *YES_NO_FIELDS,
    "allergy_details",
    "dental_work_date",
    "prescribed_anticoagulants",
    "prescribed_anticoagulant_other",
    "otc_blood_thinners",
    "other_medicines",
    "notes",
)


def _check_patient(patient, *, today):
    born = patient.date_of_birth
    if born and born > today:
        raise ValidationError(BORN_IN_FUTURE, code="born_in_future")
    if born and age_on(born, today) > 120:
        raise ValidationError(TOO_OLD, code="too_old")
    duplicate = Patient.objects.filter(
        first_name__iexact=patient.first_name.strip(),
        last_name__iexact=patient.last_name.strip(),
        date_of_birth=born,
    ).exclude(pk=patient.pk)
    if duplicate.exists():
        raise ValidationError(
            DUPLICATE_PATIENT,
            code="duplicate_patient",
            params={"name": patient.full_name, "born": born.strftime("%d/%m/%Y")},
        )


@transaction.atomic
def patient_create(*, created_by, now=None, **fields):
    now = now or timezone.now()
    patient = Patient(created_by=created_by, **{k: fields[k] for k in PATIENT_FIELDS})
    patient.first_name, patient.last_name = patient.first_name.strip(), patient.last_name.strip()
    patient.full_clean()
    _check_patient(patient, today=timezone.localdate(now))
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, patient, now=None, **fields):
    now = now or timezone.now()
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    for name in PATIENT_FIELDS:
        if name in fields:
            setattr(patient, name, fields[name])
    patient.first_name, patient.last_name = patient.first_name.strip(), patient.last_name.strip()
    patient.full_clean()
    _check_patient(patient, today=timezone.localdate(now))
    patient.save()
    return patient


@transaction.atomic
def medical_history_submit(*, patient, submitted_by, source, now=None, **answers):
    """Record a new version of the patient's medical history."""
    history = MedicalHistory(
        patient=patient,
        submitted_by=submitted_by,
        source=source,
        submitted_at=now or timezone.now(),
        **{name: answers[name] for name in HISTORY_FIELDS if name in answers},
    )
    if history.active_cold_sore:
        history.cold_sores = True  # a sore now means a history of them
    history.full_clean()
    history.save()
    return history


@transaction.atomic
def medical_history_reconfirm(*, patient, submitted_by, source, now=None):
    """The patient says nothing has changed: a new version with the same answers."""
    latest = MedicalHistory.objects.latest_for(patient)
    if latest is None:
        raise ValidationError(NOTHING_TO_CONFIRM, code="nothing_to_confirm")
    history = MedicalHistory(
        patient=patient,
        submitted_by=submitted_by,
        source=source,
        submitted_at=now or timezone.now(),
        confirms=latest,
        **{name: getattr(latest, name) for name in HISTORY_FIELDS},
    )
    history.full_clean()
    history.save()
    return history
