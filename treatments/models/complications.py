"""Complications (issue 18): what went wrong after an injection and what was
done, step by step, each step stamped with the server's time. Opened from a
treatment record; signed and frozen like one; corrections are addenda (a
step of their own, after signing)."""

import hashlib
import hmac

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clinic.db import AppendOnlyModel, AppendOnlyQuerySet, RecordIsFinal
from clinic.models import User
from treatments.models.kit import KitLot
from treatments.models.records import TreatmentRecord


class ComplicationQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated or not user.has_perm("treatments.view_complication"):
            return self.none()
        return self

    def signed(self):
        return self.filter(status=Complication.Status.SIGNED)

    def update(self, **kwargs):
        if self.signed().exists():
            raise RecordIsFinal("Signed complication records cannot change: add an addendum.")
        return super().update(**kwargs)

    def delete(self):
        raise RecordIsFinal("Complication records are kept; they are never deleted.")


class Complication(models.Model):
    class Kind(models.TextChoices):
        VASCULAR_OCCLUSION = "vascular_occlusion", _("Suspected vascular occlusion")
        ANAPHYLAXIS = "anaphylaxis", _("Allergic reaction or anaphylaxis")
        INFECTION = "infection", _("Infection")
        NODULES = "nodules", _("Nodules or lumps")
        TOXIN_SPREAD = "toxin_spread", _("Toxin spread or ptosis")
        BRUISING_SWELLING = "bruising_swelling", _("Prolonged bruising or swelling")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SIGNED = "signed", _("Signed")

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        NOT_STATED = "not_stated", _("Not stated")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        IMPROVING = "improving", _("Improving, follow-up booked")
        REFERRED = "referred", _("Not resolved: referred on")
        ONGOING = "ongoing", _("Ongoing, under the clinic's care")

    record = models.ForeignKey(
        TreatmentRecord, on_delete=models.PROTECT, related_name="complications"
    )
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="complications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    status = models.CharField(max_length=8, choices=Status, default=Status.OPEN)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome, blank=True)
    summary = models.TextField(_("what happened, in brief"), blank=True)
    patient_sex = models.CharField(
        _("patient's sex (for the adverse-incident report)"),
        max_length=10,
        choices=Sex,
        blank=True,
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content_sha256 = models.CharField(max_length=64, blank=True)

    objects = ComplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "-opened_at"], name="treatments_compl_patient"),
            models.Index(fields=["kind", "opened_at"], name="treatments_compl_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="signed") | ~Q(outcome=""),
                name="treatments_complication_signed_has_outcome",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} after {self.record}"

    def save(self, *args, **kwargs):
        if not self._state.adding and type(self).objects.filter(pk=self.pk).signed().exists():
            raise RecordIsFinal(f"Complication record {self.pk} is signed and cannot change.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("treatments:complication", args=[self.pk])

    @property
    def is_signed(self):
        return self.status == self.Status.SIGNED

    def delete(self, *args, **kwargs):
        raise RecordIsFinal("Complication records are kept; they are never deleted.")

    def content(self):
        """Everything the signature covers, as text in a fixed order."""
        fields = [
            str(self.record_id),
            str(self.patient_id),
            self.kind,
            self.opened_at.isoformat(),
            str(self.opened_by_id),
            self.outcome,
            self.summary,
            self.patient_sex,
        ]
        steps = [step.content() for step in self.steps.order_by("at", "pk") if not step.is_addendum]
        return "\n".join(fields + steps)

    def verify(self):
        return bool(self.content_sha256) and hmac.compare_digest(
            hashlib.sha256(self.content().encode()).hexdigest(), self.content_sha256
        )


class ComplicationStep(AppendOnlyModel):
    """One tap at the chair, or a note: what was done or seen, when (the
    server's time), by whom. A kit dose names its lot and uses up the kit's
    stock."""

    class Kind(models.TextChoices):
        STOPPED = "stopped", _("Stopped injecting")
        SIGNS = "signs", _("Signs seen")
        HYALURONIDASE = "hyaluronidase", _("Hyaluronidase given")
        ADRENALINE = "adrenaline", _("Adrenaline given")
        ESCALATED = "escalated", _("Escalated")
        OUTCOME = "outcome", _("Outcome")
        NOTE = "note", _("Note")
        ADDENDUM = "addendum", _("Addendum")

    class Escalation(models.TextChoices):
        EMERGENCY = "999", _("Emergency services (999) called")
        EYE = "eye", _("Eye specialist called (same day)")
        HOSPITAL = "hospital", _("Sent to A&E")
        COLLEAGUE = "colleague", _("Senior colleague consulted")

    complication = models.ForeignKey(Complication, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(max_length=16, choices=Kind)
    at = models.DateTimeField()
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    signs = models.JSONField(default=list, blank=True)  # codes of COMPLICATION_SIGNS
    kit_lot = models.ForeignKey(
        KitLot, on_delete=models.PROTECT, null=True, blank=True, related_name="doses"
    )
    items = models.PositiveSmallIntegerField(_("items used"), null=True, blank=True)
    dose = models.CharField(_("dose"), max_length=60, blank=True)
    escalated_to = models.CharField(max_length=12, choices=Escalation, blank=True)
    outcome = models.CharField(max_length=12, choices=Complication.Outcome, blank=True)
    text = models.TextField(blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kit_lot__isnull=True, items__isnull=True)
                | Q(kit_lot__isnull=False, items__gte=1),
                name="treatments_complicationstep_dose_has_items",
            ),
        ]

    @property
    def is_addendum(self):
        return self.kind == self.Kind.ADDENDUM

    def content(self):
        return "|".join(
            [
                self.kind,
                self.at.isoformat(),
                str(self.by_id),
                ",".join(self.signs),
                str(self.kit_lot_id or ""),
                str(self.items or ""),
                self.dose,
                self.escalated_to,
                self.outcome,
                self.text,
            ]
        )


class ComplicationCheckInQuerySet(models.QuerySet):
    def due_by(self, moment):
        return self.filter(done_at__isnull=True, due_at__lte=moment)


class ComplicationCheckIn(models.Model):
    """A follow-up the practitioner owes the patient after a complication:
    due at a time set by its kind (treatments.rules.CHECK_IN_HOURS), shown on
    "My day" until done, with what was found."""

    complication = models.ForeignKey(
        Complication, on_delete=models.PROTECT, related_name="check_ins"
    )
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("how the patient is"), blank=True)

    objects = ComplicationCheckInQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["done_at", "due_at"], name="treatments_checkin_due")]

    def __str__(self):
        return f"Check-in on {self.complication} due {self.due_at:%d %b %H:%M}"


class RegulatorReport(AppendOnlyModel):
    """That (and when) the complication was reported to the regulator (the
    MHRA's Yellow Card scheme in the UK), with the reference it gave. Kept
    beside the signed record, never in it: reports often follow signing."""

    class Scheme(models.TextChoices):
        YELLOW_CARD = "yellow_card", _("MHRA Yellow Card")

    complication = models.ForeignKey(
        Complication, on_delete=models.PROTECT, related_name="regulator_reports"
    )
    scheme = models.CharField(max_length=12, choices=Scheme, default=Scheme.YELLOW_CARD)
    reported_on = models.DateField(_("reported on"))
    reference = models.CharField(_("reference"), max_length=60)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["reported_on", "pk"]

    def __str__(self):
        return f"{self.get_scheme_display()} {self.reference} ({self.reported_on:%d %b %Y})"
