"""Patients and their medical histories (append-only versions)."""

import unicodedata
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic import phones
from clinic.db import AppendOnlyModel, AppendOnlyQuerySet
from clinic.medical import YES_NO_FIELDS, YES_NO_QUESTIONS, Anticoagulant, OverTheCounterThinner
from clinic.models.people import User
from clinic.rules import history_expires_on, history_state

# Apostrophes people type, or not, inside names: O'Brien, O’Brien, OBrien.
APOSTROPHES = "'\u2019\u02bc\u2018`"


def search_key(text):
    """Lower-case, accent-free, apostrophe-free text for searching:
    'Zoë O'Brien' -> 'zoe obrien', so "obrien" and "o'brien" both find her."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    kept = (ch for ch in decomposed if not unicodedata.combining(ch) and ch not in APOSTROPHES)
    return "".join(kept).casefold().strip()


def phone_digits(text):
    return phones.digits(text)


SHORTEST_FRAGMENT = 3  # characters: what a trigram index can look up


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff who work with patients see all of them; a patient sees only
        themselves; anyone else sees none."""
        if not user.is_authenticated:
            return self.none()
        if user.has_perm("clinic.view_patient"):
            return self
        return self.filter(user=user)

    def search(self, query):
        """Match every word of `query` against name, phone and email, or a
        date of birth written as 31/12/1990 or 1990-12-31. A single word of
        one or two letters is a whole surname ("Ng", "Li"), not a fragment.

        Works on one indexed column (`search_text`): a trigram GIN index on
        PostgreSQL makes the substring match an index scan. It needs three
        characters, hence the rule for short words (an index on the upper-cased
        surname serves those). Results are in name order, case-insensitively:
        ordering by an expression also keeps PostgreSQL from walking the name
        index to find a rare surname (measured: 50 ms rather than 3 ms at
        200,000 patients, docs/BENCHMARKS.md).
        """
        query = (query or "").strip()
        if not query:
            return self
        by_name = (Lower("last_name"), Lower("first_name"), "pk")
        born = parse_date_of_birth(query)
        if born:
            return self.filter(date_of_birth=born).order_by(*by_name)
        words = query.split()
        if len(words) == 1 and len(query) < SHORTEST_FRAGMENT:
            return self.filter(last_name__iexact=query).order_by(*by_name)
        matches = self
        for word in words:
            digits = phone_digits(word)
            is_number = digits and not any(ch.isalpha() for ch in word)
            term = digits if is_number else search_key(word)
            matches = matches.filter(search_text__contains=term)
        return matches.order_by(*by_name)


def parse_date_of_birth(text):
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


class Patient(models.Model):
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80)
    date_of_birth = models.DateField(_("date of birth"))
    # Kept in E.164 (+447700900123, clinic.phones); a number typed before
    # numbers were checked, and unreadable, stays as typed until corrected
    # (manage.py unreadable_phones lists them).
    phone = models.CharField(_("mobile phone"), max_length=20, validators=[phones.PhoneValidator()])
    # Texts (SMS): only with the patient's say-so, recorded with when and how;
    # the number is kept in E.164 (phonenumbers), as providers want it.
    sms_number = models.CharField(_("number for texts"), max_length=20, blank=True)
    sms_opt_in_at = models.DateTimeField(_("agreed to texts on"), null=True, blank=True)
    sms_opt_in_via = models.CharField(_("agreed to texts via"), max_length=40, blank=True)
    sms_opt_out_at = models.DateTimeField(_("stopped texts on"), null=True, blank=True)
    email = models.EmailField(
        _("email"),
        blank=True,
        help_text=_("Needed for booking confirmations, consent links and reminders."),
    )
    user = models.OneToOneField(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patient",
        help_text=_("The patient's portal login, if they have one."),
    )
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()
    history_log = HistoricalRecords(excluded_fields=["search_text"])

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [
            models.Index(fields=["date_of_birth"], name="clinic_patient_dob"),
            models.Index(fields=["last_name", "first_name"], name="clinic_patient_name"),
            models.Index(Upper("last_name"), name="clinic_patient_surname_upper"),
        ]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        self.phone = phones.to_e164(self.phone) or (self.phone or "").strip()
        self.search_text = " ".join(
            part
            for part in (
                search_key(self.first_name),
                search_key(self.last_name),
                phones.search_digits(self.phone),
                self.email,
            )
            if part
        )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("patients:detail", args=[self.pk])

    @property
    def phone_display(self):
        return phones.display(self.phone)

    @property
    def phone_unreadable(self):
        return not phones.is_readable(self.phone)

    @property
    def gets_texts(self):
        return bool(self.sms_number and self.sms_opt_in_at and not self.sms_opt_out_at)

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"


def _added_question():
    """A yes/no question asked since the first release: NULL in the histories
    given before it (their answer is unknown, never assumed), required in every
    new one."""
    return models.BooleanField(null=True, error_messages={"blank": _("Answer yes or no.")})


# `MedicalHistory.is_complete` as a condition, for pages that work out many
# patients' history states in one query.
HISTORY_COMPLETE = Q(**{f"{name}__isnull": False for name in YES_NO_FIELDS}) & ~Q(
    toxin_elsewhere=True, toxin_elsewhere_date__isnull=True
)


class MedicalHistoryQuerySet(AppendOnlyQuerySet):
    def latest_for(self, patient):
        return self.filter(patient=patient).order_by("-submitted_at", "-pk").first()


class MedicalHistory(AppendOnlyModel):
    """One submission of the medical-history questionnaire.

    Never edited: a change or a re-confirmation is a new row, so what a
    practitioner relied on for a treatment stays readable forever.
    """

    class Source(models.TextChoices):
        PATIENT = "patient", _("the patient, online")
        STAFF = "staff", _("a practitioner, with the patient")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="histories")
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=Source)
    confirms = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Set when the patient re-confirmed an earlier version unchanged."),
    )

    pregnant_or_breastfeeding = models.BooleanField()
    neuromuscular_disease = models.BooleanField()
    allergy_botulinum_toxin = models.BooleanField()
    allergy_cows_milk_protein = models.BooleanField()
    allergy_lidocaine = models.BooleanField()
    allergy_gram_positive_bacteria = models.BooleanField()
    anaphylaxis_history = models.BooleanField()
    multiple_severe_allergies = models.BooleanField()
    cold_sores = models.BooleanField()
    active_cold_sore = models.BooleanField()
    infection_at_site = models.BooleanField()
    bleeding_disorder = models.BooleanField()
    immunosuppressed = models.BooleanField()
    aminoglycoside_antibiotics = models.BooleanField()
    reaction_to_ha_filler = _added_question()
    allergy_human_albumin = _added_question()
    allergy_hyaluronidase_or_bee_venom = _added_question()
    autoimmune_disease = _added_question()
    keloid_scarring = _added_question()
    permanent_lip_filler_or_implant = _added_question()
    previous_vascular_complication = _added_question()
    toxin_elsewhere = _added_question()
    toxin_elsewhere_date = models.DateField(
        _("date of the last anti-wrinkle injection at another clinic"), null=True, blank=True
    )
    allergy_details = models.TextField(_("allergy details"), blank=True)
    dental_work_date = models.DateField(
        _("date of recent or planned dental treatment"),
        null=True,
        blank=True,
        help_text=_("Any dental treatment in the last or next few weeks."),
    )
    prescribed_anticoagulants = models.JSONField(
        _("prescribed blood thinners"), default=list, blank=True
    )
    prescribed_anticoagulant_other = models.CharField(
        _("other prescribed blood thinner"), max_length=120, blank=True
    )
    otc_blood_thinners = models.JSONField(
        _("blood thinners taken without prescription"), default=list, blank=True
    )
    other_medicines = models.TextField(_("other medicines and supplements"), blank=True)
    notes = models.TextField(_("anything else the practitioner should know"), blank=True)

    objects = MedicalHistoryQuerySet.as_manager()
    history_log = HistoricalRecords()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name_plural = _("medical histories")
        permissions = [
            ("view_clinical_details", _("Can read medical histories and screening details")),
        ]
        indexes = [
            models.Index(fields=["patient", "-submitted_at"], name="clinic_history_latest"),
        ]

    def __str__(self):
        return f"Medical history of {self.patient} ({self.submitted_at:%d %b %Y})"

    def get_absolute_url(self):
        return reverse("patients:history_version", args=[self.patient_id, self.pk])

    @property
    def submitted_on(self):
        return timezone.localdate(self.submitted_at)

    @property
    def expires_on(self):
        """The first day this version counts as stale and must be re-confirmed."""
        return history_expires_on(
            self.submitted_on, max_age_months=settings.MEDICAL_HISTORY_MAX_AGE_MONTHS
        )

    @property
    def is_complete(self):
        """Every question answered, with the date of any toxin elsewhere. A
        history given before a question was added is not (HISTORY_COMPLETE in SQL)."""
        return all(getattr(self, name) is not None for name in YES_NO_FIELDS) and not (
            self.toxin_elsewhere and self.toxin_elsewhere_date is None
        )

    @staticmethod
    def state_of(history, *, today):
        """missing / stale / incomplete / current for a patient's latest
        history (or None)."""
        return history_state(
            history.submitted_on if history else None,
            today=today,
            max_age_months=settings.MEDICAL_HISTORY_MAX_AGE_MONTHS,
            complete=history.is_complete if history else True,
        )

    def anticoagulant_names(self):
        names = [Anticoagulant(code).label for code in self.prescribed_anticoagulants]
        if self.prescribed_anticoagulant_other:
            names.append(self.prescribed_anticoagulant_other)
        return names

    def otc_thinner_names(self):
        return [OverTheCounterThinner(code).label for code in self.otc_blood_thinners]

    def answers(self):
        """(question, yes/no) pairs in the questionnaire's order."""
        return [(question, getattr(self, name)) for name, question in YES_NO_QUESTIONS]
