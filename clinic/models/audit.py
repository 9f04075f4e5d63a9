"""Who looked at what: reads of clinical information, append-only."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.db import AppendOnlyModel
from clinic.models.patients import Patient
from clinic.models.people import User


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
