import re
import secrets
import unicodedata
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.db import AppendOnlyModel, AppendOnlyQuerySet
from clinic.medical import YES_NO_FIELDS, YES_NO_QUESTIONS, Anticoagulant, OverTheCounterThinner
from clinic.roles import Role
from clinic.rules import history_expires_on, history_state


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required to create a user.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields.get("is_staff") is not True:
            raise ValueError("A superuser must have is_staff=True.")
        if extra_fields.get("is_superuser") is not True:
            raise ValueError("A superuser must have is_superuser=True.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in: staff of every role and patients with a portal account.

    People sign in with their email address. What a user may do comes from
    their groups (see clinic/roles.py); `is_staff` only opens the Django admin.
    """

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    is_staff = models.BooleanField(
        _("admin access"),
        default=False,
        help_text=_("Can log in to the Django admin. Give it to managers only."),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Untick instead of deleting: the person can no longer log in."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def roles(self):
        """The user's roles, in the order Role lists them. Cached per instance."""
        if not hasattr(self, "_roles"):
            names = set(self.groups.values_list("name", flat=True))
            roles = [role for role in Role if role.value in names]
            if self.is_superuser and Role.MANAGER not in roles:
                roles.append(Role.MANAGER)
            self._roles = roles
        return self._roles

    def has_role(self, role):
        return role in self.roles

    @property
    def primary_role(self):
        return self.roles[0] if self.roles else None


hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # followed by six hex digits, e.g. #b8325a.")
)


def new_feed_token():
    return secrets.token_urlsafe(32)


class PractitionerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True, user__is_active=True)


class Practitioner(models.Model):
    """The clinical side of a user who injects: how they appear on the calendar."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="practitioner")
    display_name = models.CharField(_("display name"), max_length=80)
    credentials = models.CharField(
        _("credentials"),
        max_length=120,
        blank=True,
        help_text=_("Shown on treatment records, e.g. 'RN, NMC 12A3456B' or 'Dr, GMC 7654321'."),
    )

    class Profession(models.TextChoices):
        DOCTOR = "doctor", _("Doctor")
        DENTIST = "dentist", _("Dentist")
        NURSE = "nurse", _("Nurse")
        PHARMACIST = "pharmacist", _("Pharmacist")
        OTHER = "other", _("Other (not a registered healthcare professional)")

    class Regulator(models.TextChoices):
        GMC = "GMC", _("GMC (doctors)")
        GDC = "GDC", _("GDC (dentists)")
        NMC = "NMC", _("NMC (nurses)")
        GPHC = "GPhC", _("GPhC (pharmacists)")
        NONE = "", _("None")

    profession = models.CharField(_("profession"), max_length=12, choices=Profession, blank=True)
    regulator = models.CharField(_("regulator"), max_length=4, choices=Regulator, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=20, blank=True)
    independent_prescriber = models.BooleanField(
        _("independent prescriber"),
        default=False,
        help_text=_(
            "A doctor or dentist, or a nurse or pharmacist independent prescriber: may "
            "assess patients and prescribe prescription-only medicines such as toxin."
        ),
    )
    colour = models.CharField(
        _("calendar colour"), max_length=7, default="#b8325a", validators=[hex_colour]
    )
    is_active = models.BooleanField(
        _("taking bookings"),
        default=True,
        help_text=_("Untick when the practitioner leaves; their records stay."),
    )
    online_booking = models.BooleanField(
        _("patients may book them online"),
        default=True,
        help_text=_("Untick to take bookings for them at the desk only."),
    )
    feed_token = models.CharField(
        _("calendar feed key"),
        max_length=43,
        default=new_feed_token,
        unique=True,
        help_text=_("The secret part of the practitioner's calendar feed address."),
    )

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name

    def clean(self):
        if self.independent_prescriber and self.profession not in (
            self.Profession.DOCTOR,
            self.Profession.DENTIST,
            self.Profession.NURSE,
            self.Profession.PHARMACIST,
        ):
            raise ValidationError(
                {
                    "independent_prescriber": _(
                        "Only a doctor, dentist, nurse or pharmacist prescribes."
                    )
                }
            )
        if self.registration_number and not self.regulator:
            raise ValidationError({"regulator": _("Say which regulator the number is with.")})

    @property
    def registration(self):
        """'NMC 12A3456B, independent prescriber', as shown on records."""
        parts = [f"{self.regulator} {self.registration_number}".strip()]
        if self.independent_prescriber:
            parts.append("independent prescriber")
        return ", ".join(part for part in parts if part)


# Apostrophes people type, or not, inside names: O'Brien, O’Brien, OBrien.
APOSTROPHES = "'\u2019\u02bc\u2018`"


def search_key(text):
    """Lower-case, accent-free, apostrophe-free text for searching:
    'Zoë O'Brien' -> 'zoe obrien', so "obrien" and "o'brien" both find her."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    kept = (ch for ch in decomposed if not unicodedata.combining(ch) and ch not in APOSTROPHES)
    return "".join(kept).casefold().strip()


def phone_digits(text):
    return re.sub(r"\D", "", text or "")


phone_validator = RegexValidator(
    r"^\+?[0-9 ()\-.]{7,20}$",
    _("Enter a phone number of 7 to 20 digits, e.g. 07700 900123 or +44 7700 900123."),
)


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
    phone = models.CharField(_("mobile phone"), max_length=20, validators=[phone_validator])
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
        self.search_text = " ".join(
            part
            for part in (
                search_key(self.first_name),
                search_key(self.last_name),
                phone_digits(self.phone),
                self.email,
            )
            if part
        )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("patients:detail", args=[self.pk])

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


class AuditEvent(AppendOnlyModel):
    """A read of clinical information: who looked at what, when, from where.

    Writes are kept by django-simple-history on each model that changes; this
    table records what the history of writes cannot: that somebody looked."""

    class Action(models.TextChoices):
        VIEW = "view", _("viewed")
        EXPORT = "export", _("searched or printed")

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=8, choices=Action, default=Action.VIEW)
    what = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40, blank=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    path = models.CharField(max_length=300)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["-at"], name="clinic_audit_at"),
            models.Index(fields=["patient", "-at"], name="clinic_audit_patient"),
            models.Index(fields=["user", "-at"], name="clinic_audit_user"),
        ]

    def __str__(self):
        return f"{self.user} {self.get_action_display()} {self.what} {self.object_id}"
