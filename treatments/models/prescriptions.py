"""Prescriptions: a prescriber's face-to-face assessment of a patient and the
prescription-only medicines (toxin, in the UK) it allows, the most of each per
session, until a date. Written once and signed with the prescriber's
password; never changed (the app refuses, and on PostgreSQL a trigger). A
withdrawal is a new, reasoned row."""

import hashlib
import hmac
from datetime import UTC

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.db import AppendOnlyModel, AppendOnlyQuerySet
from clinic.models import User
from treatments.models.catalog import Product


class PrescriberAssessment(AppendOnlyModel):
    """The prescriber saw the patient: how (face to face only: remote
    prescribing of cosmetic toxin is not allowed), when, and what they found."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("Face to face, in the clinic")
        VIDEO = "video", _("Video call")
        PHONE = "phone", _("Telephone")
        ONLINE = "online", _("Online form only")

    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="prescriber_assessments"
    )
    prescriber = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="assessments"
    )
    mode = models.CharField(_("how the patient was seen"), max_length=10, choices=Mode)
    assessed_at = models.DateTimeField(default=timezone.now)
    findings = models.TextField(
        _("assessment"),
        help_text=_("What you examined and discussed: the areas, suitability, the plan."),
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-assessed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mode="in_person"),
                name="treatments_prescriberassessment_in_person",
                violation_error_message=_("A prescription needs a face-to-face assessment."),
            ),
        ]

    def __str__(self):
        return f"Assessment of {self.patient} by {self.prescriber}"


class PrescriptionQuerySet(AppendOnlyQuerySet):
    def for_patient(self, patient):
        return (
            self.filter(patient=patient)
            .select_related("prescriber", "withdrawal", "assessment")
            .prefetch_related("items__product")
        )


class Prescription(AppendOnlyModel):
    """A patient-specific prescription, written after an assessment."""

    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="prescriptions"
    )
    prescriber = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="prescriptions"
    )
    assessment = models.OneToOneField(
        PrescriberAssessment, on_delete=models.PROTECT, related_name="prescription"
    )
    written_at = models.DateTimeField(default=timezone.now)
    valid_until = models.DateField(
        _("valid until"), help_text=_("The last day it may be given under this prescription.")
    )
    directions = models.CharField(
        _("directions"),
        max_length=200,
        blank=True,
        help_text=_("E.g. 'Lip flip: 4-6 points along the upper vermilion border'."),
    )
    prescriber_registration = models.CharField(max_length=120)
    content_sha256 = models.CharField(max_length=64)

    objects = PrescriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-written_at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "-written_at"], name="treatments_rx_patient"),
        ]

    def __str__(self):
        day = timezone.localdate(self.written_at)
        return f"Prescription {self.pk} for {self.patient} by {self.prescriber}, {day:%d %b %Y}"

    def get_absolute_url(self):
        return reverse("treatments:prescription", args=[self.pk])

    @property
    def written_on(self):
        return timezone.localdate(self.written_at)

    @property
    def withdrawn(self):
        return hasattr(self, "withdrawal")

    def valid_on(self, day):
        return not self.withdrawn and self.written_on <= day <= self.valid_until

    def content(self, items=None):
        """Everything the prescriber's signature covers, as text in a fixed order."""
        items = list(self.items.order_by("product_id")) if items is None else items
        fields = [
            str(self.patient_id),
            str(self.prescriber_id),
            self.prescriber_registration,
            str(self.assessment_id),
            self.written_at.astimezone(UTC).isoformat(),
            self.valid_until.isoformat(),
            self.directions,
        ]
        lines = [
            f"{item.product_id}|{item.most_per_session:.2f}"
            for item in sorted(items, key=lambda i: i.product_id)
        ]
        return "\n".join(fields + lines)

    def verify(self):
        return hmac.compare_digest(
            hashlib.sha256(self.content().encode()).hexdigest(), self.content_sha256
        )


class PrescriptionItem(AppendOnlyModel):
    """One medicine on a prescription, and the most of it per session."""

    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    most_per_session = models.DecimalField(
        _("most per session"),
        max_digits=6,
        decimal_places=2,
        help_text=_("In the product's own units (Azzalure: Speywood units)."),
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["prescription", "product"], name="treatments_prescriptionitem_unique"
            ),
            models.CheckConstraint(
                condition=Q(most_per_session__gt=0),
                name="treatments_prescriptionitem_positive",
            ),
        ]

    def __str__(self):
        return f"{self.product}, at most {self.most_per_session:g} {self.product.unit} a session"


class PrescriptionWithdrawal(AppendOnlyModel):
    """A prescription withdrawn before it ran out: by whom, when and why."""

    prescription = models.OneToOneField(
        Prescription, on_delete=models.PROTECT, related_name="withdrawal"
    )
    withdrawn_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        ordering = ["-withdrawn_at"]

    def __str__(self):
        return f"Withdrawal of prescription {self.prescription_id}"
