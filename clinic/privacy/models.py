from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ErasureRequest(models.Model):
    """A patient asked for their data to be erased.

    At once (privacy.services.erasure_request): the portal account is closed
    and its sessions end, pending emails are cancelled, and what no law
    requires the clinic to keep is wiped (email address, the text of emails
    sent). The clinical record (identity, histories, consents, treatment
    records, the access log) is kept until `retain_until`, then deleted by
    `manage.py apply_retention --apply`, which also sets `purged_at`."""

    patient = models.ForeignKey(
        "clinic.Patient",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="erasure_requests",
    )
    patient_ref = models.PositiveBigIntegerField(
        _("patient number"), help_text=_("Kept after the patient's records are deleted.")
    )
    requested_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    retain_until = models.DateField(
        _("clinical records kept until"),
        help_text=_("RETENTION_YEARS after the last treatment (or the request, if none)."),
    )
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"Erasure request for patient {self.patient_ref}"
