"""Clinical records: today's safety check, treatment records, injection lines,
addenda. A signed record never changes."""

import hashlib
import hmac

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.db import AppendOnlyModel, AppendOnlyQuerySet, RecordIsFinal
from clinic.models import User
from treatments.models.catalog import Lot, Procedure, Product
from treatments.models.consent import ConsentSignature
from treatments.models.prescriptions import Prescription
from treatments.sites import BY_CODE as SITE_BY_CODE
from treatments.sites import CHOICES as SITE_CHOICES


class SameDayCheck(AppendOnlyModel):
    """Today's safety answers, asked by the treating practitioner before the
    treatment record opens. Never changed: asking again is a new row; the
    record keeps the check it relied on."""

    appointment = models.ForeignKey(
        "bookings.Appointment", on_delete=models.PROTECT, related_name="same_day_checks"
    )
    asked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    asked_on = models.DateField(help_text=_("The clinic's local date the answers are for."))
    window_kept = models.BooleanField(_("kept the pre-care window"))
    window_from = models.DateField(_("asked about the days since"))
    pregnant_or_breastfeeding = models.BooleanField(_("pregnant or breastfeeding now"))
    active_cold_sore = models.BooleanField(_("active cold sore"))
    infection_at_site = models.BooleanField(_("infection or inflammation at the lips"))
    antibiotics_now = models.BooleanField(_("taking antibiotics now"))
    dental_work_recent = models.BooleanField(_("dental work in the last 2 weeks"))
    illness_or_vaccination_recent = models.BooleanField(
        _("illness or vaccination in the last 2 weeks")
    )
    toxin_elsewhere_on = models.DateField(
        _("toxin elsewhere since the last visit, on"), null=True, blank=True
    )
    outcome = models.CharField(max_length=8)  # the engine's worst outcome: clear/flag/refuse
    codes = models.JSONField(default=list, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-asked_at", "-pk"]
        indexes = [
            models.Index(fields=["appointment", "-asked_at"], name="treatments_sameday_appt"),
        ]

    def __str__(self):
        return f"Same-day check for appointment {self.appointment_id} ({self.asked_on})"

    @property
    def blocks(self):
        return self.outcome == "refuse"


class TreatmentRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.has_perm("treatments.view_treatmentrecord"):
            return self
        return self.filter(patient__user=user, status=TreatmentRecord.Status.SIGNED)

    def signed(self):
        return self.filter(status=TreatmentRecord.Status.SIGNED)

    def update(self, **kwargs):
        if self.signed().exists():
            raise RecordIsFinal("Signed treatment records cannot change: add an addendum.")
        return super().update(**kwargs)

    def delete(self):
        raise RecordIsFinal("Treatment records are kept; they are never deleted.")


class TreatmentRecord(models.Model):
    """What was done at one appointment, written at the chair and signed.

    A draft may change; once signed it never does (the app refuses, and on
    PostgreSQL a trigger refuses any UPDATE or DELETE of a signed row).
    Corrections are Addenda."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")

    class Anaesthetic(models.TextChoices):
        NONE = "none", _("None")
        TOPICAL = "topical", _("Topical anaesthetic cream")
        IN_PRODUCT = "in_product", _("Lidocaine in the filler only")
        TOPICAL_AND_PRODUCT = "topical_and_product", _("Topical cream and lidocaine in the filler")
        DENTAL_BLOCK = "dental_block", _("Dental (nerve) block")

    appointment = models.OneToOneField(
        "bookings.Appointment", on_delete=models.PROTECT, related_name="treatment_record"
    )
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="treatment_records"
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="treatment_records"
    )
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status, default=Status.DRAFT)
    started_at = models.DateTimeField()
    medical_history = models.ForeignKey(
        "clinic.MedicalHistory",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The medical history version reviewed before treatment."),
    )
    consents = models.ManyToManyField(ConsentSignature, related_name="+", blank=True)
    precare_kept = models.BooleanField(_("pre-care window kept"), default=False)
    same_day_check = models.ForeignKey(
        SameDayCheck,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Today's safety answers the treatment relied on."),
    )
    prescription = models.ForeignKey(
        Prescription,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="treatment_records",
        help_text=_("The prescription a prescription-only medicine was given under."),
    )
    supervising_prescriber = models.CharField(
        _("supervising prescriber"),
        max_length=120,
        blank=True,
        help_text=_("If the injector works under a prescriber: their name and registration."),
    )
    anaesthetic = models.CharField(_("anaesthetic"), max_length=24, choices=Anaesthetic, blank=True)
    no_adverse_events = models.BooleanField(_("no adverse events"), default=False)
    adverse_events = models.TextField(_("adverse events"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    over_maximum_reason = models.TextField(_("reason for going above the maximum dose"), blank=True)
    postcare_given = models.TextField(_("aftercare instructions given"), blank=True)
    review_date = models.DateField(_("review on"), null=True, blank=True)
    rebook_date = models.DateField(_("rebook from"), null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content_sha256 = models.CharField(max_length=64, blank=True)

    objects = TreatmentRecordQuerySet.as_manager()
    history_log = HistoricalRecords(excluded_fields=["consents"])

    class Meta:
        ordering = ["-started_at"]
        permissions = [("recall_lot", _("Can find every patient treated from a lot"))]
        indexes = [
            models.Index(fields=["patient", "-started_at"], name="treatments_record_patient")
        ]

    def __str__(self):
        day = timezone.localdate(self.started_at)
        return f"{self.procedure} for {self.patient} on {day:%d %b %Y}"

    def save(self, *args, **kwargs):
        if not self._state.adding and type(self).objects.filter(pk=self.pk).signed().exists():
            raise RecordIsFinal(f"Treatment record {self.pk} is signed and cannot change.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("treatments:record", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise RecordIsFinal("Treatment records are kept; they are never deleted.")

    @property
    def is_signed(self):
        return self.status == self.Status.SIGNED

    def content(self):
        """Everything the signature covers, as text in a fixed order."""
        lines = [
            f"{line.site}|{line.lot_id}|{line.amount}|{line.dilution}|{line.depth}|"
            f"{line.technique}|{line.needle}"
            for line in self.lines.order_by("pk")
        ]
        fields = [
            str(self.appointment_id),
            str(self.patient_id),
            str(self.practitioner_id),
            str(self.procedure_id),
            str(self.medical_history_id),
            self.started_at.isoformat(),
            str(self.precare_kept),
            self.supervising_prescriber,
            self.anaesthetic,
            str(self.no_adverse_events),
            self.adverse_events,
            self.notes,
            self.over_maximum_reason,
            self.postcare_given,
            str(self.review_date),
            str(self.rebook_date),
            ",".join(str(pk) for pk in sorted(self.consents.values_list("pk", flat=True))),
        ]
        # Records signed before same-day checks existed keep their hash.
        if self.same_day_check_id:
            fields.append(f"same-day check {self.same_day_check_id}")
        # Likewise records signed before prescriptions existed.
        if self.prescription_id:
            fields.append(f"prescription {self.prescription_id}")
        return "\n".join(fields + lines)

    def verify(self):
        return bool(self.content_sha256) and hmac.compare_digest(
            hashlib.sha256(self.content().encode()).hexdigest(), self.content_sha256
        )


class InjectionLine(models.Model):
    class Depth(models.TextChoices):
        INTRADERMAL = "intradermal", _("Superficial (intradermal)")
        INTRAMUSCULAR = "intramuscular", _("Intramuscular, superficial")
        SUBMUCOSAL = "submucosal", _("Submucosal")
        SUBCUTANEOUS = "subcutaneous", _("Subcutaneous")

    class Technique(models.TextChoices):
        POINT = "point", _("Single point")
        SERIAL = "serial", _("Serial puncture")
        LINEAR = "linear", _("Linear threading")
        FANNING = "fanning", _("Fanning")
        BOLUS = "bolus", _("Bolus")
        MICRODROPLET = "microdroplet", _("Microdroplets")

    class Needle(models.TextChoices):
        N33 = "33G needle", _("33G needle")
        N32 = "32G needle", _("32G needle")
        N30 = "30G needle", _("30G needle")
        N29 = "29G needle", _("29G needle")
        N27 = "27G needle", _("27G needle")
        C27 = "27G cannula", _("27G cannula")
        C25 = "25G cannula", _("25G cannula")

    record = models.ForeignKey(TreatmentRecord, on_delete=models.CASCADE, related_name="lines")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="injections")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    site = models.CharField(_("site"), max_length=8, choices=SITE_CHOICES)
    amount = models.DecimalField(_("amount"), max_digits=6, decimal_places=2)
    dilution = models.CharField(_("dilution"), max_length=80, blank=True)
    depth = models.CharField(_("depth"), max_length=16, choices=Depth)
    technique = models.CharField(_("technique"), max_length=16, choices=Technique, blank=True)
    needle = models.CharField(_("needle or cannula"), max_length=16, choices=Needle)
    created_at = models.DateTimeField(default=timezone.now)

    history_log = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="treatments_injectionline_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["lot", "record"], name="treatments_line_lot")]

    def __str__(self):
        return f"{self.amount:g} {self.product.unit} {self.product} at {self.site}"

    def save(self, *args, **kwargs):
        self._refuse_if_signed()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_signed()
        return super().delete(*args, **kwargs)

    def _refuse_if_signed(self):
        if TreatmentRecord.objects.filter(pk=self.record_id).signed().exists():
            raise RecordIsFinal("Injection lines of a signed record cannot change.")

    @property
    def site_info(self):
        return SITE_BY_CODE[self.site]


class Addendum(AppendOnlyModel):
    """A dated, signed correction to a signed treatment record."""

    record = models.ForeignKey(TreatmentRecord, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(_("reason for the correction"), max_length=200)
    text = models.TextField(_("correction"))
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = _("addenda")

    def __str__(self):
        return f"Addendum to record {self.record_id} by {self.author}"
