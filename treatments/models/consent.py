"""Consent: form versions, signing links, signatures (append-only)."""

import hashlib
import hmac
from datetime import UTC

from django.db import models
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.db import AppendOnlyModel, AppendOnlyQuerySet
from clinic.models import User
from treatments.models.catalog import Procedure


class ConsentFormQuerySet(AppendOnlyQuerySet):
    def current(self):
        """The newest version of each procedure's form."""
        newest = self.filter(procedure=OuterRef("procedure")).order_by("-version").values("pk")[:1]
        return self.filter(pk=Subquery(newest))


class ConsentForm(AppendOnlyModel):
    """One version of a procedure's consent form. Editing publishes a new
    version; the newest is current; every version stays readable, because
    signatures point at the exact version signed."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="consent_forms")
    version = models.PositiveIntegerField()
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(
        _("text"),
        help_text=_(
            "What the patient reads. Blank lines separate sections; a section's first line "
            "is its heading; a line starting with '- ' is a bullet point."
        ),
    )
    statement = models.TextField(
        _("consent statement"),
        help_text=_("What the patient declares by signing, e.g. 'I consent to a lip flip…'."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ConsentFormQuerySet.as_manager()

    class Meta:
        ordering = ["procedure", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "version"], name="treatments_consentform_unique_version"
            ),
        ]

    def __str__(self):
        return f"{self.title} (version {self.version})"

    def full_text(self):
        """Exactly what the signing page shows, and what the signature's hash covers."""
        parts = [f"{self.title}\nVersion {self.version}", self.body.strip(), self.statement.strip()]
        return "\n\n".join(parts)


class ConsentRequest(models.Model):
    """A signing link sent for an appointment: a signed token names this row;
    the row says whether it is still good (not expired, not used)."""

    appointment = models.ForeignKey(
        "bookings.Appointment", on_delete=models.PROTECT, related_name="consent_requests"
    )
    nonce = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Consent link for appointment {self.appointment_id}"

    def is_open_at(self, now):
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


class ConsentSignature(AppendOnlyModel):
    """Evidence that a patient consented (or withdrew, or that staff voided a
    consent): what was shown, its SHA-256, who, when, from where. Never
    changed; a withdrawal or a void is a new record pointing at the signature."""

    class Kind(models.TextChoices):
        SIGNED = "signed", _("Signed")
        WITHDRAWN = "withdrawn", _("Withdrawn by the patient")
        VOIDED = "voided", _("Voided by staff")

    class Via(models.TextChoices):
        PORTAL = "portal", _("the patient portal")
        LINK = "link", _("a link sent by the clinic")
        CLINIC = "clinic", _("the clinic")

    kind = models.CharField(max_length=10, choices=Kind)
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    appointment = models.ForeignKey(
        "bookings.Appointment", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="signatures")
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    text_shown = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    statement = models.TextField()
    typed_name = models.CharField(max_length=160, blank=True)
    agreed_to_sign_electronically = models.BooleanField(default=False)
    signature_png = models.BinaryField(blank=True, default=b"")
    reason = models.TextField(blank=True)
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    via = models.CharField(max_length=8, choices=Via)
    request = models.ForeignKey(
        ConsentRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="signatures"
    )
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    record_sha256 = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at", "pk"]
        indexes = [
            models.Index(fields=["appointment", "signed_at"], name="treatments_consent_appt"),
        ]
        permissions = [("void_consentsignature", _("Can void a signed consent"))]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.form} for {self.patient_id}"

    def get_absolute_url(self):
        return reverse("treatments:consent_record", args=[self.pk])

    def _hashes(self):
        """(SHA-256 of the text shown, SHA-256 of every piece of evidence)."""
        text = hashlib.sha256(self.text_shown.encode()).hexdigest()
        evidence = [
            self.kind,
            str(self.patient_id),
            str(self.appointment_id),
            str(self.form_id),
            str(self.supersedes_id or ""),
            text,
            self.statement,
            self.typed_name,
            "yes" if self.agreed_to_sign_electronically else "no",
            hashlib.sha256(bytes(self.signature_png)).hexdigest(),
            self.reason,
            self.signed_at.astimezone(UTC).isoformat(),
            self.ip_address or "",
            self.user_agent,
            self.via,
        ]
        return text, hashlib.sha256("\x1f".join(evidence).encode()).hexdigest()

    def seal(self):
        self.text_sha256, self.record_sha256 = self._hashes()

    def verify(self):
        """True when the text shown and the rest of the evidence still match
        the hashes taken when the record was made."""
        text, record = self._hashes()
        return hmac.compare_digest(text, self.text_sha256) and hmac.compare_digest(
            record, self.record_sha256
        )
