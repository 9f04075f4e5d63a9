"""The catalog: procedures, products, doses, lots, longer pre-care windows."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.medical import OverTheCounterThinner
from clinic.models import User
from treatments.rules import Agent


@dataclass(frozen=True)
class Timing:
    """A procedure's effective durations and pre-care window, in one place.

    A combined procedure takes its durations from its parts unless set
    (chair time adds up, the buffer is the longest), and always the longest
    pre-care window of its parts: never shorter than any part needs.
    """

    chair_minutes: int
    buffer_minutes: int
    precare_min_days: int
    precare_recommended_days: int

    @property
    def occupied_minutes(self):
        return self.chair_minutes + self.buffer_minutes


class ProcedureQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def with_parts(self):
        return self.prefetch_related("components")


class Procedure(models.Model):
    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=80)
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    agent = models.CharField(
        _("agent"),
        max_length=10,
        choices=Agent,
        blank=True,
        help_text=_("Leave blank for a combined procedure: it takes the agents of its parts."),
    )
    components = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="part_of",
        verbose_name=_("made of"),
        help_text=_("For a combined procedure: the procedures done in the same visit."),
    )
    chair_minutes = models.PositiveSmallIntegerField(
        _("chair time (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(5)],
        help_text=_("Blank on a combined procedure: the parts' chair times added up."),
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer after (minutes)"),
        null=True,
        blank=True,
        help_text=_(
            "Time to clean and reset the room. Blank on a combined procedure: the longest."
        ),
    )
    precare_min_days = models.PositiveSmallIntegerField(
        _("pre-care window, minimum (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Whole days without alcohol and blood thinners before the visit."),
    )
    precare_recommended_days = models.PositiveSmallIntegerField(
        _("pre-care window, recommended (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    postcare_instructions = models.TextField(
        _("post-care instructions"),
        blank=True,
        help_text=_("Given to the patient at the end of the visit and by email. One per line."),
    )
    review_after_days = models.PositiveSmallIntegerField(
        _("review after (days)"),
        null=True,
        blank=True,
        help_text=_("A check-up visit, e.g. 14 days after filler."),
    )
    rebook_after_days_min = models.PositiveSmallIntegerField(
        _("rebook from (days)"), null=True, blank=True
    )
    rebook_after_days_max = models.PositiveSmallIntegerField(
        _("rebook by (days)"), null=True, blank=True
    )
    min_days_between = models.PositiveSmallIntegerField(
        _("minimum days between treatments"),
        null=True,
        blank=True,
        help_text=_("E.g. 90 for toxin (Botox label)."),
    )
    dose_typical = models.DecimalField(
        _("typical dose a session"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Single procedures: toxin in Botox-equivalent units, filler in mL, added up over "
            "every product used in one session. Above this, the record shows a warning."
        ),
    )
    dose_maximum = models.DecimalField(
        _("maximum dose a session"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Above this, the practitioner must give a clinical reason to sign."),
    )
    dose_line_ceiling = models.DecimalField(
        _("ceiling for one injection"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("A line above this is refused, whatever the reason: it catches typing errors."),
    )
    dose_session_ceiling = models.DecimalField(
        _("ceiling for a session"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("A session above this is refused, whatever the reason."),
    )
    is_active = models.BooleanField(_("offered"), default=True)
    online_booking = models.BooleanField(
        _("patients may book it online"),
        default=True,
        help_text=_("On the portal, with the full recommended pre-care window only."),
    )

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(precare_recommended_days__gte=F("precare_min_days"))
                | Q(precare_recommended_days__isnull=True)
                | Q(precare_min_days__isnull=True),
                name="treatments_procedure_precare_order",
                violation_error_message=_(
                    "The recommended pre-care window cannot be shorter than the minimum."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(dose_typical__isnull=True)
                    | Q(dose_maximum__isnull=True)
                    | Q(dose_line_ceiling__isnull=True)
                    | Q(dose_session_ceiling__isnull=True)
                )
                | (
                    Q(dose_typical__gt=0)
                    & Q(dose_maximum__gte=F("dose_typical"))
                    & Q(dose_session_ceiling__gte=F("dose_maximum"))
                    & Q(dose_line_ceiling__gt=0)
                    & Q(dose_line_ceiling__lte=F("dose_session_ceiling"))
                ),
                name="treatments_procedure_dose_order",
                violation_error_message=_(
                    "Doses must run typical <= maximum <= session ceiling, with the ceiling for "
                    "one injection above zero and at most the session ceiling."
                ),
            ),
            models.CheckConstraint(
                condition=Q(rebook_after_days_max__gte=F("rebook_after_days_min"))
                | Q(rebook_after_days_max__isnull=True)
                | Q(rebook_after_days_min__isnull=True),
                name="treatments_procedure_rebook_order",
                violation_error_message=_("'Rebook by' must not come before 'rebook from'."),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.agent:
            missing = [
                self._meta.get_field(name).verbose_name
                for name in (
                    "chair_minutes",
                    "buffer_minutes",
                    "precare_min_days",
                    "precare_recommended_days",
                )
                if getattr(self, name) is None
            ]
            if missing:
                raise ValidationError(
                    _("A single procedure needs: %(fields)s.")
                    % {"fields": ", ".join(str(m) for m in missing)}
                )

    @property
    def dose_limits_set(self):
        return None not in (
            self.dose_typical,
            self.dose_maximum,
            self.dose_line_ceiling,
            self.dose_session_ceiling,
        )

    @property
    def is_combined(self):
        return not self.agent

    def parts(self):
        """The single procedures this one is made of (itself if single).
        Read once per instance (or from `with_parts()`'s prefetch): a single
        procedure costs no query, so pages that load one need no prefetch."""
        if not self.is_combined:
            return [self]
        if "_parts" not in self.__dict__:
            self.__dict__["_parts"] = list(self.components.all())
        return self.__dict__["_parts"]

    @property
    def agents(self):
        return frozenset(part.agent for part in self.parts())

    @property
    def timing(self):
        parts = self.parts()
        return Timing(
            chair_minutes=self.chair_minutes or sum(p.chair_minutes for p in parts),
            buffer_minutes=(
                self.buffer_minutes
                if self.buffer_minutes is not None
                else max(p.buffer_minutes for p in parts)
            ),
            precare_min_days=max(
                [self.precare_min_days or 0] + [p.precare_min_days for p in parts]
            ),
            precare_recommended_days=max(
                [self.precare_recommended_days or 0] + [p.precare_recommended_days for p in parts]
            ),
        )

    def postcare_lines(self):
        seen, lines = set(), []
        for source in [self, *([] if not self.is_combined else self.parts())]:
            for line in source.postcare_instructions.splitlines():
                line = line.strip()
                if line and line not in seen:
                    seen.add(line)
                    lines.append(line)
        return lines


class SubstanceWindow(models.Model):
    """A longer pre-care window for patients who take one blood thinner, e.g.
    7 days for ibuprofen and other NSAIDs. A patient's window is the longest
    of the procedure's and those of every thinner their history lists."""

    substance = models.CharField(
        _("blood thinner"), max_length=20, choices=OverTheCounterThinner, unique=True
    )
    min_days = models.PositiveSmallIntegerField(
        _("minimum (days)"), validators=[MinValueValidator(1)]
    )
    recommended_days = models.PositiveSmallIntegerField(
        _("recommended (days)"), validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["substance"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recommended_days__gte=F("min_days")),
                name="treatments_substancewindow_order",
                violation_error_message=_(
                    "The recommended window cannot be shorter than the minimum."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.get_substance_display()}: {self.min_days}-{self.recommended_days} days"


class ProductQuerySet(models.QuerySet):
    def with_stock(self, day):
        """Annotate `in_stock`: what is left in lots usable on `day` (in date, not used up)."""
        usable = Q(lots__expiry_date__gte=day, lots__quantity_remaining__gt=0)
        return self.annotate(
            in_stock=Coalesce(Sum("lots__quantity_remaining", filter=usable), Value(Decimal(0)))
        )

    def low_on(self, day):
        """Products in use whose usable stock is below their low-stock threshold."""
        return (
            self.filter(is_active=True, low_stock_threshold__isnull=False)
            .with_stock(day)
            .filter(in_stock__lt=F("low_stock_threshold"))
        )


class Product(models.Model):
    class Unit(models.TextChoices):
        UNITS = "U", _("units")
        ML = "mL", _("mL")

    name = models.CharField(_("name"), max_length=80, unique=True)
    brand = models.CharField(_("brand"), max_length=40)
    agent = models.CharField(_("agent"), max_length=10, choices=Agent)
    unit = models.CharField(_("unit"), max_length=2, choices=Unit)
    units_per_botox_unit = models.DecimalField(
        _("units per Botox unit"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Toxin only: 1 for Botox, about 2.5 for Dysport (2.5-3 in the literature)."),
    )
    default_dilution = models.CharField(
        _("usual dilution"),
        max_length=80,
        blank=True,
        help_text=_("Toxin only, e.g. '100 U in 2.5 mL saline'."),
    )
    needs_prescription = models.BooleanField(
        _("prescription-only medicine"),
        default=False,
        help_text=_("In the UK: botulinum toxins and hyaluronidase. HA filler is a device."),
    )
    for_lips = models.BooleanField(
        _("indicated for lips"),
        default=True,
        help_text=_("Untick for products not indicated for lips (e.g. Restylane Lyft)."),
    )
    contains_lidocaine = models.BooleanField(_("contains lidocaine"), default=False)
    contains_cows_milk_protein = models.BooleanField(
        _("may contain cow's milk protein"), default=False
    )
    is_active = models.BooleanField(_("in use"), default=True)
    low_stock_threshold = models.DecimalField(
        _("low stock below"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_(
            "In the product's unit: the manager's dashboard warns when the stock in date "
            "falls below this. Leave blank for no warning."
        ),
    )
    procedures = models.ManyToManyField(
        Procedure, through="ProductDose", related_name="products", blank=True
    )

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["agent", "brand", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(agent=Agent.FILLER) | Q(units_per_botox_unit__gt=0),
                name="treatments_product_toxin_conversion",
                violation_error_message=_("A toxin needs its units per Botox unit."),
            ),
        ]

    def __str__(self):
        return self.name

    def botox_equivalent(self, amount):
        """Botox units equivalent to `amount` of this toxin (None for fillers)."""
        if self.agent != Agent.TOXIN:
            return None
        return (Decimal(amount) / self.units_per_botox_unit).quantize(Decimal("0.1"))


class ProductDose(models.Model):
    """How much of a product one session of a procedure usually takes."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="doses")
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="doses")
    typical = models.DecimalField(
        _("typical dose"),
        max_digits=6,
        decimal_places=2,
        help_text=_("Above this, the record shows a warning."),
    )
    maximum = models.DecimalField(
        _("maximum dose"),
        max_digits=6,
        decimal_places=2,
        help_text=_("Above this, the practitioner must give a reason."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "procedure"], name="treatments_productdose_unique"
            ),
            models.CheckConstraint(
                condition=Q(maximum__gte=F("typical")) & Q(typical__gt=0),
                name="treatments_productdose_order",
                violation_error_message=_(
                    "The maximum dose must be at least the typical dose, and both above zero."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.product} for {self.procedure}"


class LotQuerySet(models.QuerySet):
    def usable_on(self, day):
        return self.filter(expiry_date__gte=day, quantity_remaining__gt=0)


class Lot(models.Model):
    """One batch of a product, as delivered: what the recall searches by."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(_("lot number"), max_length=40)
    expiry_date = models.DateField(_("expiry date"))
    quantity_received = models.DecimalField(_("quantity received"), max_digits=8, decimal_places=2)
    quantity_remaining = models.DecimalField(
        _("quantity remaining"), max_digits=8, decimal_places=2
    )
    received_on = models.DateField(_("first received on"))
    received_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = LotQuerySet.as_manager()
    history_log = HistoricalRecords()

    class Meta:
        ordering = ["expiry_date", "lot_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "lot_number"], name="treatments_lot_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(quantity_remaining__gte=0)
                & Q(quantity_remaining__lte=F("quantity_received")),
                name="treatments_lot_remaining_in_range",
                violation_error_message=_(
                    "Stock left must be between zero and the quantity received."
                ),
            ),
        ]
        indexes = [models.Index(fields=["lot_number"], name="treatments_lot_number")]

    def __str__(self):
        return f"{self.product} lot {self.lot_number} (exp. {self.expiry_date:%d %b %Y})"

    def is_expired_on(self, day):
        return self.expiry_date < day
