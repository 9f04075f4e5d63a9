"""Clinical photographs (issue 19): before, after and at review, in the
standard views, linked to the appointment and the treatment record.

The files live in the `photos` storage (settings STORAGES, private: never
under a static or media URL); a row keeps only their names there. They are
served by treatments.views.photos after a permission check, and every read
is audited."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import User
from treatments.models.photo_consent import Marketing, PhotoConsent, Use, latest_consent_subquery
from treatments.models.records import TreatmentRecord


class PhotoQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Clinicians and managers of the clinic; never the front desk or a
        patient (the portal shows no clinical photos)."""
        if not user.is_authenticated or not user.has_perm("treatments.view_photo"):
            return self.none()
        return self

    def shown(self):
        return self.filter(hidden_at__isnull=True)

    def for_use(self, use: str, *, identifiable: bool = False):
        """The photos that may be shown for `use` (photo_consent.Use): the
        clinical record takes them all; teaching and marketing only those of
        patients whose newest photo consent is signed and allows it. No
        consent, or a withdrawal, leaves the clinical record only.
        `identifiable`: marketing that may show who the patient is."""
        if use == Use.RECORD:
            return self
        photos = self.annotate(
            consent_kind=latest_consent_subquery("kind"),
            consent_training=latest_consent_subquery("training"),
            consent_marketing=latest_consent_subquery("marketing"),
        ).filter(consent_kind=PhotoConsent.Kind.SIGNED)
        if use == Use.TRAINING:
            return photos.filter(consent_training=True)
        allowed = [Marketing.IDENTIFIABLE]
        if not identifiable:
            allowed.append(Marketing.ANONYMISED)
        return photos.filter(consent_marketing__in=allowed)

    def of_record(self, record):
        """The photos of a treatment: taken at its visit (before photos may
        precede the record) or at a review of it."""
        return self.filter(Q(appointment_id=record.appointment_id) | Q(record=record))


class Photo(models.Model):
    class Phase(models.TextChoices):
        BEFORE = "before", _("Before")
        AFTER = "after", _("After")
        REVIEW = "review", _("Review")

    class View(models.TextChoices):
        FRONT = "front", _("Front")
        LEFT_OBLIQUE = "left_oblique", _("Left oblique")
        RIGHT_OBLIQUE = "right_oblique", _("Right oblique")
        LIPS = "lips", _("Lips close-up")

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="photos")
    appointment = models.ForeignKey(
        "bookings.Appointment", on_delete=models.PROTECT, related_name="photos"
    )
    record = models.ForeignKey(
        TreatmentRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="photos",
        help_text=_("The treatment the photo shows (for a review: the one reviewed)."),
    )
    phase = models.CharField(_("when"), max_length=8, choices=Phase)
    view = models.CharField(_("view"), max_length=16, choices=View)
    image_name = models.CharField(max_length=200, help_text=_("Its name in the photos storage."))
    thumbnail_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, help_text=_("SHA-256 of the stored JPEG."))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    taken_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    taken_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.CharField(_("reason for hiding"), max_length=200, blank=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["taken_at", "pk"]
        indexes = [
            models.Index(fields=["patient", "view", "taken_at"], name="treatments_photo_patient"),
            models.Index(fields=["appointment"], name="treatments_photo_appointment"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""),
                name="treatments_photo_hidden_reason",
            ),
        ]

    def __str__(self):
        day = timezone.localdate(self.taken_at)
        return f"{self.get_phase_display()} photo, {self.get_view_display()}, {day:%d %b %Y}"

    def sort_key(self):
        """Before, after, review; then front, obliques, lips; then time."""
        return (
            Photo.Phase.values.index(self.phase),
            Photo.View.values.index(self.view),
            self.taken_at,
            self.pk,
        )
