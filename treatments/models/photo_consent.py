"""Consent to the use of clinical photos (issue 19), apart from consent to
treatment: photos are always taken for the clinical record; a patient may
also allow teaching and training, and marketing (anonymised, or showing who
they are). Versioned forms and signed, append-only records, like treatment
consent; a withdrawal is a new record, after which the photos serve the
clinical record only."""

import hashlib
import hmac
from datetime import UTC

from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.db import AppendOnlyModel, AppendOnlyQuerySet
from clinic.models import User


class PhotoConsentFormQuerySet(AppendOnlyQuerySet):
    def current(self):
        return self.order_by("-version").first()


class PhotoConsentForm(AppendOnlyModel):
    """One version of the photo-consent form; the newest is current."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PhotoConsentFormQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]

    def __str__(self):
        return f"{self.title} (version {self.version})"


class Use(models.TextChoices):
    """Where a photo may be shown. The clinical record needs no choice."""

    RECORD = "record", _("the clinical record")
    TRAINING = "training", _("teaching and training")
    MARKETING = "marketing", _("marketing")


class Marketing(models.TextChoices):
    NO = "no", _("Not for marketing")
    ANONYMISED = "anonymised", _("Marketing, anonymised (no name; eyes and marks hidden)")
    IDENTIFIABLE = "identifiable", _("Marketing, and I may be recognised")


def statement_for(*, training: bool, marketing: str) -> str:
    """The sentence the patient signs, in words, for the uses chosen."""
    uses = ["my clinical record"]
    if training:
        uses.append("teaching and training clinicians")
    if marketing == Marketing.ANONYMISED:
        uses.append("the clinic's marketing, anonymised")
    elif marketing == Marketing.IDENTIFIABLE:
        uses.append("the clinic's marketing, where I may be recognised")
    listed = uses[0] if len(uses) == 1 else ", ".join(uses[:-1]) + " and " + uses[-1]
    only = " only" if len(uses) == 1 else ""
    return f"I agree that photos of me taken by the clinic may be used for {listed}{only}."


class PhotoConsentQuerySet(AppendOnlyQuerySet):
    def latest_for(self, patient):
        return self.filter(patient=patient).order_by("-signed_at", "-pk").first()

    def latest_per_patient(self):
        """For annotations: the newest record of the patient in OuterRef("patient")."""
        return self.filter(patient=OuterRef("patient")).order_by("-signed_at", "-pk")


class PhotoConsent(AppendOnlyModel):
    """A patient's signed choice of uses (kind SIGNED), or its withdrawal
    (kind WITHDRAWN, pointing at it, with a reason). The newest row of a
    patient decides; none, or a withdrawal, means the clinical record only."""

    class Kind(models.TextChoices):
        SIGNED = "signed", _("Signed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Via(models.TextChoices):
        PORTAL = "portal", _("the patient portal")
        CLINIC = "clinic", _("the clinic")

    kind = models.CharField(max_length=10, choices=Kind)
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="photo_consents"
    )
    form = models.ForeignKey(PhotoConsentForm, on_delete=models.PROTECT, related_name="consents")
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    training = models.BooleanField(_("teaching and training"), default=False)
    marketing = models.CharField(
        _("marketing"), max_length=12, choices=Marketing, default=Marketing.NO
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
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    record_sha256 = models.CharField(max_length=64)

    objects = PhotoConsentQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at", "pk"]
        indexes = [
            models.Index(fields=["patient", "signed_at"], name="treatments_photoconsent_pat"),
        ]

    def __str__(self):
        return f"Photo consent ({self.get_kind_display().lower()}) of {self.patient_id}"

    @property
    def in_force(self):
        return self.kind == self.Kind.SIGNED

    @property
    def summary(self) -> str:
        """In a few words, for staff pages."""
        if not self.in_force:
            return "Photos for the clinical record only (consent withdrawn)"
        uses = ["clinical record"]
        if self.training:
            uses.append("teaching")
        if self.marketing == Marketing.ANONYMISED:
            uses.append("marketing, anonymised")
        elif self.marketing == Marketing.IDENTIFIABLE:
            uses.append("marketing, may be recognised")
        return "Photo consent: " + "; ".join(uses)

    def allows(self, use: str, *, identifiable: bool = False) -> bool:
        if use == Use.RECORD:
            return True
        if not self.in_force:
            return False
        if use == Use.TRAINING:
            return self.training
        if identifiable:
            return self.marketing == Marketing.IDENTIFIABLE
        return self.marketing in (Marketing.ANONYMISED, Marketing.IDENTIFIABLE)

    def _hashes(self):
        text = hashlib.sha256(self.text_shown.encode()).hexdigest()
        evidence = [
            self.kind,
            str(self.patient_id),
            str(self.form_id),
            str(self.supersedes_id or ""),
            "training" if self.training else "",
            self.marketing,
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
        text, record = self._hashes()
        return hmac.compare_digest(text, self.text_sha256) and hmac.compare_digest(
            record, self.record_sha256
        )


def latest_consent_subquery(field):
    """The newest photo-consent row's `field` for the patient of the outer row."""
    return Subquery(PhotoConsent.objects.latest_per_patient().values(field)[:1])
