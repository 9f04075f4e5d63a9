"""Writes about people: patients and their medical histories.

Every function is keyword-only, runs in one transaction, validates before it
saves, and raises ValidationError with a stable `code` and a message that says
what to do. Error messages are module constants that tests reuse.
"""

import unicodedata

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic import messages, outbox, sms
from clinic.medical import TOXIN_ELSEWHERE_MONTHS, YES_NO_FIELDS
from clinic.models import MedicalHistory, Patient, User
from clinic.refusals import Refusal
from clinic.roles import Role
from clinic.rules import add_months, age_on

DUPLICATE_PATIENT = Refusal(
    "duplicate_patient",
    "A patient named %(name)s, born %(born)s, is already registered. Open their record "
    "instead of creating a second one.",
)
BORN_IN_FUTURE = Refusal(
    "born_in_future",
    "The date of birth is in the future. Check the year.",
)
TOO_OLD = Refusal(
    "too_old",
    "That date of birth makes the patient over 120. Check the year.",
)
NOTHING_TO_CONFIRM = Refusal(
    "nothing_to_confirm",
    "There is no medical history to re-confirm yet. Fill in the questionnaire instead.",
)
RECONFIRM_INCOMPLETE = Refusal(
    "reconfirm_incomplete",
    "Questions have been added since this medical history was given (%(date)s), so it "
    "cannot be re-confirmed unchanged: answer the new questions.",
)
TOXIN_ELSEWHERE_DATE_REQUIRED = Refusal(
    "toxin_elsewhere_date_required",
    "You answered yes to an anti-wrinkle injection at another clinic: give its date "
    "(roughly, if you are not sure).",
)
TOXIN_ELSEWHERE_DATE_FUTURE = Refusal(
    "toxin_elsewhere_date_future",
    "The date of the injection at another clinic is in the future. Give the day it was done.",
)
TOXIN_ELSEWHERE_DATE_TOO_OLD = Refusal(
    "toxin_elsewhere_date_too_old",
    "That date is before %(earliest)s, more than %(months)s months ago. The question is "
    "about the last %(months)s months: check the year, or answer no.",
)

NAME_UNREADABLE = Refusal(
    "name_unreadable",
    "A name needs letters, and no invisible or control characters (they can come from "
    "copying and pasting). Type the name again.",
)
HISTORY_TEXT_TOO_LONG = Refusal(
    "history_text_too_long",
    "Keep this to %(limit)s characters (it has %(length)s): a summary here, the rest in "
    "person with the practitioner.",
)
DENTAL_DATE_OUT_OF_RANGE = Refusal(
    "dental_date_out_of_range",
    "Give a dental treatment date within a year of today (%(earliest)s to %(latest)s). "
    "Check the year.",
)
# Free text in a medical history: a page of notes, not a megabyte.
HISTORY_TEXT_LIMIT = 2000
HISTORY_TEXT_FIELDS = ("allergy_details", "other_medicines", "notes")
# Characters no name contains: controls, zero-width and other format marks,
# private-use and unassigned code points, line and paragraph separators.
UNPRINTABLE = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}

PATIENT_FIELDS = ("first_name", "last_name", "date_of_birth", "phone", "email")
# The history's answers beyond the yes/no questions, in the form's order.
HISTORY_DETAIL_FIELDS = (
    "allergy_details",
    "dental_work_date",
    "prescribed_anticoagulants",
    "prescribed_anticoagulant_other",
    "otc_blood_thinners",
    "other_medicines",
    "notes",
)
HISTORY_FIELDS = (*YES_NO_FIELDS, "toxin_elsewhere_date", *HISTORY_DETAIL_FIELDS)


def _readable_name(text):
    return any(ch.isalpha() for ch in text) and not any(
        unicodedata.category(ch) in UNPRINTABLE for ch in text
    )


def _check_patient(patient, *, today, namesakes_allowed=False):
    unreadable = {
        name: NAME_UNREADABLE.error()
        for name in ("first_name", "last_name")
        if not _readable_name(getattr(patient, name))
    }
    if unreadable:
        raise ValidationError(unreadable)
    born = patient.date_of_birth
    if born and born > today:
        raise BORN_IN_FUTURE.error()
    if born and age_on(born, today) > 120:
        raise TOO_OLD.error()
    if namesakes_allowed:
        return
    duplicate = Patient.objects.filter(
        first_name__iexact=patient.first_name.strip(),
        last_name__iexact=patient.last_name.strip(),
        date_of_birth=born,
    ).exclude(pk=patient.pk)
    if duplicate.exists():
        raise DUPLICATE_PATIENT.error(name=patient.full_name, born=born.strftime("%d/%m/%Y"))


def _save_patient(patient, now):
    patient.first_name, patient.last_name = patient.first_name.strip(), patient.last_name.strip()
    patient.full_clean()
    _check_patient(patient, today=timezone.localdate(now or timezone.now()))
    patient.save()
    return patient


@transaction.atomic
def patient_create(*, created_by, now=None, **fields):
    patient = Patient(created_by=created_by, **{k: fields[k] for k in PATIENT_FIELDS})
    return _save_patient(patient, now)


def patient_online_check(*, first_name, last_name, date_of_birth, email, phone, now=None):
    """What someone booking online typed, checked as a new patient's details
    would be (nothing saved): so a bad name or phone is said on the form,
    before the email goes."""
    patient = Patient(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
    )
    patient.full_clean(exclude=["search_text"])
    _check_patient(patient, today=timezone.localdate(now), namesakes_allowed=True)


@transaction.atomic
def patient_online_sign_up(*, first_name, last_name, date_of_birth, email, phone, now=None):
    """The patient behind an online booking whose email is proved. The same
    name, date of birth and email as a patient on file is that patient (never
    a second record, and nothing on file is changed by what was typed
    online); otherwise a new patient. Whoever calls this must not let the
    visitor tell the two apart."""
    found = (
        Patient.objects.filter(
            first_name__iexact=first_name.strip(),
            last_name__iexact=last_name.strip(),
            date_of_birth=date_of_birth,
            email__iexact=email.strip(),
        )
        .order_by("pk")
        .first()
    )
    if found is not None:
        return found
    # Not the desk's namesake refusal: someone with the same name and date
    # of birth but another email is, by the clinic's rule, another person,
    # and refusing would tell the visitor that such a patient exists.
    patient = Patient(
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        phone=phone,
        email=email.strip().lower(),
    )
    patient.first_name, patient.last_name = patient.first_name.strip(), patient.last_name.strip()
    patient.full_clean()
    _check_patient(patient, today=timezone.localdate(now), namesakes_allowed=True)
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, patient, now=None, **fields):
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    for name in PATIENT_FIELDS:
        if name in fields:
            setattr(patient, name, fields[name])
    return _save_patient(patient, now)


def _check_toxin_elsewhere(history, *, today):
    if not history.toxin_elsewhere:
        return
    given = history.toxin_elsewhere_date
    earliest = add_months(today, -TOXIN_ELSEWHERE_MONTHS)
    if given is None:
        raise TOXIN_ELSEWHERE_DATE_REQUIRED.error()
    if given > today:
        raise TOXIN_ELSEWHERE_DATE_FUTURE.error()
    if given < earliest:
        raise TOXIN_ELSEWHERE_DATE_TOO_OLD.error(
            earliest=earliest.strftime("%d %B %Y"), months=TOXIN_ELSEWHERE_MONTHS
        )


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
    if not history.toxin_elsewhere:
        history.toxin_elsewhere_date = None  # a date means nothing without a yes
    history.full_clean()
    _check_toxin_elsewhere(history, today=timezone.localdate(history.submitted_at))
    _check_history_bounds(history, today=timezone.localdate(history.submitted_at))
    history.save()
    return history


def _check_history_bounds(history, *, today):
    """Free text of a sensible length, and a dental date near today (the
    question asks about the last or next four weeks; a year either side
    allows for a rough answer, not the year 1 or 9999)."""
    problems = {}
    for name in HISTORY_TEXT_FIELDS:
        length = len(getattr(history, name) or "")
        if length > HISTORY_TEXT_LIMIT:
            problems[name] = HISTORY_TEXT_TOO_LONG.error(limit=HISTORY_TEXT_LIMIT, length=length)
    dental = history.dental_work_date
    earliest, latest = add_months(today, -12), add_months(today, 12)
    if dental is not None and not earliest <= dental <= latest:
        problems["dental_work_date"] = DENTAL_DATE_OUT_OF_RANGE.error(
            earliest=f"{earliest:%d/%m/%Y}", latest=f"{latest:%d/%m/%Y}"
        )
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def medical_history_reconfirm(*, patient, submitted_by, source, now=None):
    """The patient says nothing has changed: a new version with the same answers."""
    latest = MedicalHistory.objects.latest_for(patient)
    if latest is None:
        raise NOTHING_TO_CONFIRM.error()
    if not latest.is_complete:
        raise RECONFIRM_INCOMPLETE.error(date=latest.submitted_on.strftime("%d %B %Y"))
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


NO_EMAIL = Refusal(
    "no_email",
    "Add the patient's email address first: the invitation is sent there.",
)
ALREADY_INVITED = Refusal(
    "already_invited",
    "%(patient)s already has a portal account (%(email)s).",
)
EMAIL_IN_USE = Refusal(
    "email_in_use",
    "%(email)s already belongs to another account. Check the address, or ask the manager.",
)


def _invitation_url(user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("portal_welcome", kwargs={"uidb64": uid, "token": token})


@transaction.atomic
def patient_invite(*, patient, by, now=None):
    """Give a patient a portal login and email them a link to choose a password.
    Sent again, it sends a fresh link to an account not used yet."""
    now = now or timezone.now()
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if not patient.email:
        raise NO_EMAIL.error()
    user = patient.user
    if user is not None and user.last_login is not None:
        raise ALREADY_INVITED.error(patient=patient, email=user.email)
    if user is None:
        if User.objects.filter(email__iexact=patient.email).exists():
            raise EMAIL_IN_USE.error(email=patient.email)
        user = User.objects.create_user(patient.email, password=None, full_name=patient.full_name)
        user.groups.add(Group.objects.get(name=str(Role.PATIENT)))
        patient.user = user
        patient.save()
    messages.portal_invitation(patient, url=_invitation_url(user), now=now)
    return user


# Texts (SMS): the patient's say-so, recorded with when and how

SMS_NUMBER_INVALID = Refusal(
    "sms_number_invalid",
    "That is not a number a text can reach. Give a mobile number, e.g. 07700 900123 or "
    "+44 7700 900123.",
    field="number",
)


@transaction.atomic
def patient_texts_start(*, patient, number, via, now=None) -> Patient:
    """The patient agrees to texts (reminders, consent links) at `number`,
    told to the clinic `via` ("at the front desk", "on the portal")."""
    e164 = sms.to_e164(number)
    if e164 is None:
        raise SMS_NUMBER_INVALID.error()
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    patient.sms_number = e164
    patient.sms_opt_in_at = now or timezone.now()
    patient.sms_opt_in_via = via[:40]
    patient.sms_opt_out_at = None
    patient.save(update_fields=["sms_number", "sms_opt_in_at", "sms_opt_in_via", "sms_opt_out_at"])
    return patient


@transaction.atomic
def patient_texts_stop(*, patient, now=None) -> Patient:
    """No more texts (a STOP reply, the portal, or told to the clinic):
    pending ones are withdrawn."""
    now = now or timezone.now()
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    patient.sms_opt_out_at = now
    patient.save(update_fields=["sms_opt_out_at"])
    outbox.withdraw_texts(patient, now=now)
    return patient
