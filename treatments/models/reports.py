"""Problems patients report after a treatment (issue 18): what they said, as
they said it, and the practitioner's review. Both are append-only: a report is
evidence of what the clinic was told and when; a review is a new row."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.db import AppendOnlyModel, AppendOnlyQuerySet
from clinic.models import User
from treatments.models.records import TreatmentRecord


class PatientReportQuerySet(AppendOnlyQuerySet):
    def visible_to(self, user):
        """Staff with the permission see every report (a colleague may cover
        for the treating practitioner); a patient, only their own."""
        if not user.is_authenticated:
            return self.none()
        if user.has_perm("treatments.view_patientreport"):
            return self
        return self.filter(patient__user=user)

    def awaiting_review(self):
        return self.filter(review__isnull=True)

    def urgent_first(self):
        return self.order_by("-urgent", "-submitted_at", "-pk")


class PatientReport(AppendOnlyModel):
    """A patient's report of a problem after a signed treatment, from the
    portal or from the link in the aftercare email. The four red-flag answers
    are kept as given (None: not answered, allowed once another is yes);
    `urgent` and `codes` are the safety engine's verdict when it arrived."""

    class Via(models.TextChoices):
        PORTAL = "portal", _("the patient portal")
        LINK = "link", _("the link in the aftercare email")

    class Concern(models.TextChoices):
        SWELLING = "swelling", _("Swelling")
        BRUISING = "bruising", _("Bruising")
        LUMP = "lump", _("A lump or bump")
        UNEVEN = "uneven", _("Uneven or lopsided")
        SORE = "sore", _("Sore or tender")
        COLD_SORE = "cold_sore", _("A cold sore")
        RESULT = "result", _("Not the result I expected")
        OTHER = "other", _("Something else")

    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="problem_reports"
    )
    record = models.ForeignKey(
        TreatmentRecord, on_delete=models.PROTECT, related_name="patient_reports"
    )
    via = models.CharField(max_length=8, choices=Via)
    submitted_at = models.DateTimeField(default=timezone.now)
    concern = models.CharField(_("what is wrong"), max_length=12, choices=Concern, blank=True)
    description = models.TextField(_("in the patient's words"), blank=True)
    vision = models.BooleanField(_("sight changed"), null=True, blank=True)
    pain = models.BooleanField(_("severe or worsening pain"), null=True, blank=True)
    skin = models.BooleanField(_("skin white, blue or mottled"), null=True, blank=True)
    breathing = models.BooleanField(
        _("trouble swallowing, breathing or speaking"), null=True, blank=True
    )
    urgent = models.BooleanField(_("red flag"), default=False)
    codes = models.JSONField(default=list, blank=True)

    objects = PatientReportQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        permissions = [("read_patientreport", _("Can read what patients reported"))]
        indexes = [
            models.Index(fields=["record", "-submitted_at"], name="treatments_report_record"),
        ]

    def __str__(self):
        kind = "Red-flag report" if self.urgent else "Report"
        return f"{kind} from {self.patient} on {timezone.localtime(self.submitted_at):%d %b %H:%M}"

    def answers(self):
        """(question, answer) for each red-flag question, in its order."""
        from treatments.aftercare import RED_FLAG_QUESTIONS

        return [(q, getattr(self, q.code)) for q in RED_FLAG_QUESTIONS]

    @property
    def red_flags(self):
        return [q for q, answer in self.answers() if answer]


class PatientReportReview(AppendOnlyModel):
    """The practitioner's review of a report: who, when, and what they did."""

    report = models.OneToOneField(PatientReport, on_delete=models.PROTECT, related_name="review")
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(_("what was done"))

    def __str__(self):
        return f"Review of report {self.report_id} by {self.reviewed_by}"
