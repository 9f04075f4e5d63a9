"""The emergency kit (issue 18): the medicines kept for a complication
(hyaluronidase for a blocked vessel after filler, adrenaline for
anaphylaxis, and whatever else the clinic lists), their lots, and the kit
checks. A check is append-only: it is the evidence that the kit was there."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from clinic.db import AppendOnlyModel, AppendOnlyQuerySet
from clinic.models import User

CHECK_EVERY_DAYS = (1, 31)


class KitSettings(models.Model):
    """How often the kit is checked. One row; until a manager saves it, the
    default (weekly) applies and nothing is written on a read."""

    check_every_days = models.PositiveSmallIntegerField(
        _("check the kit every (days)"),
        default=7,
        validators=[MinValueValidator(CHECK_EVERY_DAYS[0]), MaxValueValidator(CHECK_EVERY_DAYS[1])],
        help_text=_(
            "A filler treatment cannot start once this many days have passed since the last "
            "kit check (1 to 31; 7 is weekly)."
        ),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("emergency kit settings")
        verbose_name_plural = _("emergency kit settings")

    def __str__(self):
        return "Emergency kit settings"

    def save(self, *args, **kwargs):
        self.pk = 1  # one row, whatever the form says
        super().save(*args, **kwargs)

    @classmethod
    def current(cls):
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class KitMedicine(models.Model):
    class Kind(models.TextChoices):
        HYALURONIDASE = "hyaluronidase", _("Hyaluronidase (dissolves HA filler)")
        ADRENALINE = "adrenaline", _("Adrenaline (anaphylaxis)")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.OTHER)
    pack = models.CharField(
        _("one item is"), max_length=80, help_text=_("What one item in the kit is, e.g. a vial.")
    )
    needed = models.PositiveSmallIntegerField(
        _("items needed in date"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("A kit check with fewer than this many present and in date fails."),
    )
    is_active = models.BooleanField(
        _("in the kit"), default=True, help_text=_("Untick to stop checking for it.")
    )

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("emergency kit medicine")

    def __str__(self):
        return self.name


class KitLot(models.Model):
    """A delivery of one kit medicine, counted in whole items (vials, ampoules)."""

    medicine = models.ForeignKey(KitMedicine, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(_("lot number"), max_length=40)
    expiry_date = models.DateField(_("expiry date"))
    quantity_received = models.PositiveIntegerField(_("items received"))
    quantity_remaining = models.PositiveIntegerField(_("items left"))
    received_on = models.DateField(_("first received on"))
    received_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["expiry_date", "lot_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["medicine", "lot_number"], name="treatments_kitlot_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(quantity_remaining__lte=F("quantity_received")),
                name="treatments_kitlot_remaining_in_range",
                violation_error_message=_("Items left cannot be more than the items received."),
            ),
        ]

    def __str__(self):
        return f"{self.medicine} lot {self.lot_number} (exp. {self.expiry_date:%d %b %Y})"


class KitCheck(AppendOnlyModel):
    """Someone counted the kit: each medicine, how many present and in date."""

    checked_at = models.DateTimeField(_("checked at"))
    checked_on = models.DateField(_("checked on"))  # the clinic's local day
    checked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    complete = models.BooleanField(_("nothing short"))
    note = models.TextField(_("note"), blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_at", "-pk"]
        indexes = [models.Index(fields=["-checked_at"], name="treatments_kitcheck_latest")]

    def __str__(self):
        return f"Kit check {self.checked_at:%d %b %Y %H:%M}"


class KitCheckItem(AppendOnlyModel):
    kit_check = models.ForeignKey(KitCheck, on_delete=models.PROTECT, related_name="items")
    medicine = models.ForeignKey(KitMedicine, on_delete=models.PROTECT, related_name="+")
    in_date = models.PositiveSmallIntegerField(_("present and in date"))
    needed = models.PositiveSmallIntegerField(_("needed"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kit_check", "medicine"], name="treatments_kitcheckitem_once"
            ),
        ]

    @property
    def short(self):
        return self.in_date < self.needed
