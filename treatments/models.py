import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.db import AppendOnlyModel, AppendOnlyQuerySet, RecordIsFinal
from clinic.medical import OverTheCounterThinner
from clinic.models import User
from treatments.rules import Agent
from treatments.sites import BY_CODE as SITE_BY_CODE
from treatments.sites import CHOICES as SITE_CHOICES


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


class SameDayCheck(AppendOnlyModel):
    """Today's safety answers, asked by the treating practitioner before the
    treatment record opens. Never changed: asking again is a new row; the
    record keeps the check it relied on."""

    appointment = models.ForeignKey(
        "bookings.Appointment", on_delete=models.PROTECT, related_name="same_day_checks"
    )
    asked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    asked_on = models.DateField(help_text=_("The clinic's local date the answers are for."))
    window_kept = models.BooleanField(_("kept the pre-care window"))
    window_from = models.DateField(_("asked about the days since"))
    pregnant_or_breastfeeding = models.BooleanField(_("pregnant or breastfeeding now"))
    active_cold_sore = models.BooleanField(_("active cold sore"))
    infection_at_site = models.BooleanField(_("infection or inflammation at the lips"))
    antibiotics_now = models.BooleanField(_("taking antibiotics now"))
    dental_work_recent = models.BooleanField(_("dental work in the last 2 weeks"))
    illness_or_vaccination_recent = models.BooleanField(
        _("illness or vaccination in the last 2 weeks")
    )
    toxin_elsewhere_on = models.DateField(
        _("toxin elsewhere since the last visit, on"), null=True, blank=True
    )
    outcome = models.CharField(max_length=8)  # the engine's worst outcome: clear/flag/refuse
    codes = models.JSONField(default=list, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-asked_at", "-pk"]
        indexes = [
            models.Index(fields=["appointment", "-asked_at"], name="treatments_sameday_appt"),
        ]

    def __str__(self):
        return f"Same-day check for appointment {self.appointment_id} ({self.asked_on})"

    @property
    def blocks(self):
        return self.outcome == "refuse"


class TreatmentRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.has_perm("treatments.view_treatmentrecord"):
            return self
        return self.filter(patient__user=user, status=TreatmentRecord.Status.SIGNED)

    def signed(self):
        return self.filter(status=TreatmentRecord.Status.SIGNED)

    def update(self, **kwargs):
        if self.signed().exists():
            raise RecordIsFinal("Signed treatment records cannot change: add an addendum.")
        return super().update(**kwargs)

    def delete(self):
        raise RecordIsFinal("Treatment records are kept; they are never deleted.")


class TreatmentRecord(models.Model):
    """What was done at one appointment, written at the chair and signed.

    A draft may change; once signed it never does (the app refuses, and on
    PostgreSQL a trigger refuses any UPDATE or DELETE of a signed row).
    Corrections are Addenda."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")

    class Anaesthetic(models.TextChoices):
        NONE = "none", _("None")
        TOPICAL = "topical", _("Topical anaesthetic cream")
        IN_PRODUCT = "in_product", _("Lidocaine in the filler only")
        TOPICAL_AND_PRODUCT = "topical_and_product", _("Topical cream and lidocaine in the filler")
        DENTAL_BLOCK = "dental_block", _("Dental (nerve) block")

    appointment = models.OneToOneField(
        "bookings.Appointment", on_delete=models.PROTECT, related_name="treatment_record"
    )
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="treatment_records"
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="treatment_records"
    )
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status, default=Status.DRAFT)
    started_at = models.DateTimeField()
    medical_history = models.ForeignKey(
        "clinic.MedicalHistory",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The medical history version reviewed before treatment."),
    )
    consents = models.ManyToManyField(ConsentSignature, related_name="+", blank=True)
    precare_kept = models.BooleanField(_("pre-care window kept"), default=False)
    same_day_check = models.ForeignKey(
        SameDayCheck,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Today's safety answers the treatment relied on."),
    )
    supervising_prescriber = models.CharField(
        _("supervising prescriber"),
        max_length=120,
        blank=True,
        help_text=_("If the injector works under a prescriber: their name and registration."),
    )
    anaesthetic = models.CharField(_("anaesthetic"), max_length=24, choices=Anaesthetic, blank=True)
    no_adverse_events = models.BooleanField(_("no adverse events"), default=False)
    adverse_events = models.TextField(_("adverse events"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    over_maximum_reason = models.TextField(_("reason for going above the maximum dose"), blank=True)
    postcare_given = models.TextField(_("aftercare instructions given"), blank=True)
    review_date = models.DateField(_("review on"), null=True, blank=True)
    rebook_date = models.DateField(_("rebook from"), null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content_sha256 = models.CharField(max_length=64, blank=True)

    objects = TreatmentRecordQuerySet.as_manager()
    history_log = HistoricalRecords(excluded_fields=["consents"])

    class Meta:
        ordering = ["-started_at"]
        permissions = [("recall_lot", _("Can find every patient treated from a lot"))]
        indexes = [
            models.Index(fields=["patient", "-started_at"], name="treatments_record_patient")
        ]

    def __str__(self):
        day = timezone.localdate(self.started_at)
        return f"{self.procedure} for {self.patient} on {day:%d %b %Y}"

    def save(self, *args, **kwargs):
        if not self._state.adding and type(self).objects.filter(pk=self.pk).signed().exists():
            raise RecordIsFinal(f"Treatment record {self.pk} is signed and cannot change.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("treatments:record", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise RecordIsFinal("Treatment records are kept; they are never deleted.")

    @property
    def is_signed(self):
        return self.status == self.Status.SIGNED

    def content(self):
        """Everything the signature covers, as text in a fixed order."""
        lines = [
            f"{line.site}|{line.lot_id}|{line.amount}|{line.dilution}|{line.depth}|"
            f"{line.technique}|{line.needle}"
            for line in self.lines.order_by("pk")
        ]
        fields = [
            str(self.appointment_id),
            str(self.patient_id),
            str(self.practitioner_id),
            str(self.procedure_id),
            str(self.medical_history_id),
            self.started_at.isoformat(),
            str(self.precare_kept),
            self.supervising_prescriber,
            self.anaesthetic,
            str(self.no_adverse_events),
            self.adverse_events,
            self.notes,
            self.over_maximum_reason,
            self.postcare_given,
            str(self.review_date),
            str(self.rebook_date),
            ",".join(str(pk) for pk in sorted(self.consents.values_list("pk", flat=True))),
        ]
        # Records signed before same-day checks existed keep their hash.
        if self.same_day_check_id:
            fields.append(f"same-day check {self.same_day_check_id}")
        return "\n".join(fields + lines)

    def verify(self):
        return bool(self.content_sha256) and hmac.compare_digest(
            hashlib.sha256(self.content().encode()).hexdigest(), self.content_sha256
        )


class InjectionLine(models.Model):
    class Depth(models.TextChoices):
        INTRADERMAL = "intradermal", _("Superficial (intradermal)")
        INTRAMUSCULAR = "intramuscular", _("Intramuscular, superficial")
        SUBMUCOSAL = "submucosal", _("Submucosal")
        SUBCUTANEOUS = "subcutaneous", _("Subcutaneous")

    class Technique(models.TextChoices):
        POINT = "point", _("Single point")
        SERIAL = "serial", _("Serial puncture")
        LINEAR = "linear", _("Linear threading")
        FANNING = "fanning", _("Fanning")
        BOLUS = "bolus", _("Bolus")
        MICRODROPLET = "microdroplet", _("Microdroplets")

    class Needle(models.TextChoices):
        N33 = "33G needle", _("33G needle")
        N32 = "32G needle", _("32G needle")
        N30 = "30G needle", _("30G needle")
        N29 = "29G needle", _("29G needle")
        N27 = "27G needle", _("27G needle")
        C27 = "27G cannula", _("27G cannula")
        C25 = "25G cannula", _("25G cannula")

    record = models.ForeignKey(TreatmentRecord, on_delete=models.CASCADE, related_name="lines")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="injections")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    site = models.CharField(_("site"), max_length=8, choices=SITE_CHOICES)
    amount = models.DecimalField(_("amount"), max_digits=6, decimal_places=2)
    dilution = models.CharField(_("dilution"), max_length=80, blank=True)
    depth = models.CharField(_("depth"), max_length=16, choices=Depth)
    technique = models.CharField(_("technique"), max_length=16, choices=Technique, blank=True)
    needle = models.CharField(_("needle or cannula"), max_length=16, choices=Needle)
    created_at = models.DateTimeField(default=timezone.now)

    history_log = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="treatments_injectionline_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["lot", "record"], name="treatments_line_lot")]

    def __str__(self):
        return f"{self.amount:g} {self.product.unit} {self.product} at {self.site}"

    def save(self, *args, **kwargs):
        self._refuse_if_signed()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_signed()
        return super().delete(*args, **kwargs)

    def _refuse_if_signed(self):
        if TreatmentRecord.objects.filter(pk=self.record_id).signed().exists():
            raise RecordIsFinal("Injection lines of a signed record cannot change.")

    @property
    def site_info(self):
        return SITE_BY_CODE[self.site]


class Addendum(AppendOnlyModel):
    """A dated, signed correction to a signed treatment record."""

    record = models.ForeignKey(TreatmentRecord, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(_("reason for the correction"), max_length=200)
    text = models.TextField(_("correction"))
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = _("addenda")

    def __str__(self):
        return f"Addendum to record {self.record_id} by {self.author}"
