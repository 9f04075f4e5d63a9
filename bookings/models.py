from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.db import AppendOnlyModel
from clinic.models import HISTORY_COMPLETE, MedicalHistory, Patient, Practitioner, User
from clinic.rules import history_state
from treatments.models.catalog import Procedure

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class WorkingHoursQuerySet(models.QuerySet):
    def clinic(self):
        return self.filter(practitioner__isnull=True)


class WorkingHours(models.Model):
    """A weekly span of working time. Several spans a day are several rows
    (e.g. 09:00-13:00 and 14:00-17:00). Rows without a practitioner are the
    clinic's opening hours: nobody is booked outside them."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="working_hours",
        help_text=_("Leave blank for the clinic's opening hours."),
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=WEEKDAYS)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    objects = WorkingHoursQuerySet.as_manager()

    class Meta:
        ordering = ["practitioner_id", "weekday", "starts"]
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=F("starts")),
                name="bookings_workinghours_ends_after_start",
                violation_error_message=_("The end time must be after the start time."),
            ),
        ]

    def __str__(self):
        who = self.practitioner or "Clinic"
        return f"{who}: {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class ScheduleException(models.Model):
    """A one-off change for one date that replaces the weekly hours of that
    day: rows with times are the day's spans; a row without times closes the
    day. Without a practitioner it applies to the whole clinic (a bank holiday)."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="schedule_exceptions",
        help_text=_("Leave blank for the whole clinic."),
    )
    date = models.DateField(_("date"))
    starts = models.TimeField(_("from"), null=True, blank=True)
    ends = models.TimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        ordering = ["date", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(starts__isnull=True) & Q(ends__isnull=True)) | Q(ends__gt=F("starts")),
                name="bookings_scheduleexception_span",
                violation_error_message=_(
                    "Give both times with the end after the start, or neither to close the day."
                ),
            ),
        ]
        indexes = [models.Index(fields=["date"], name="bookings_exception_date")]

    def __str__(self):
        who = self.practitioner or "Clinic"
        if self.starts is None:
            return f"{who}: closed on {self.date:%d %b %Y}"
        return f"{who}: {self.date:%d %b %Y} {self.starts:%H:%M}-{self.ends:%H:%M}"

    @property
    def is_closed(self):
        return self.starts is None


class TimeOff(models.Model):
    """Time a practitioner is away (leave, training): nothing is booked in it."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="time_off"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="bookings_timeoff_ends_after_start",
                violation_error_message=_("The end must be after the start."),
            ),
        ]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="bookings_timeoff_start"),
        ]

    def __str__(self):
        return f"{self.practitioner} away {self.starts_at:%d %b %H:%M}-{self.ends_at:%d %b %H:%M}"


# No appointment occupies more than this: services.assess only books time
# inside one day's working hours.
LONGEST_VISIT = timedelta(days=1)


class AppointmentQuerySet(models.QuerySet):
    def holds(self):
        return self.filter(status=Appointment.Status.HELD)

    def expired_holds(self, now):
        return self.filter(status=Appointment.Status.HELD, held_until__lte=now)

    def active(self):
        """Appointments that hold their time: everything but cancelled and no-show."""
        return self.filter(status__in=Appointment.ACTIVE)

    def occupying(self, now):
        """What blocks a time at `now`: active appointments and holds that
        have not lapsed (on a manager that sees holds: `with_holds`)."""
        return self.filter(
            Q(status__in=Appointment.ACTIVE) | Q(status=Appointment.Status.HELD, held_until__gt=now)
        )

    def overlapping(self, starts_at, ends_at):
        """Occupying any moment of [starts_at, ends_at): the same half-open
        range the PostgreSQL exclusion constraint compares.

        The lower bound on starts_at changes no answer (see LONGEST_VISIT) but
        lets an index on (..., starts_at) read a day's rows rather than every
        appointment since the clinic opened."""
        return self.filter(
            starts_at__lt=ends_at,
            starts_at__gt=starts_at - LONGEST_VISIT,
            blocked_until__gt=starts_at,
        )

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.has_perm("bookings.view_appointment"):
            return self
        return self.filter(patient__user=user)

    def with_history(self):
        """Annotate when each patient's latest medical history was submitted
        and whether it answers every question, so pages show whether it is
        missing, stale or incomplete today, not at booking."""
        latest = MedicalHistory.objects.filter(patient=OuterRef("patient")).order_by(
            "-submitted_at"
        )
        return self.annotate(
            latest_history_at=Subquery(latest.values("submitted_at")[:1]),
            latest_history_complete=Subquery(
                latest.annotate(
                    complete=ExpressionWrapper(HISTORY_COMPLETE, output_field=BooleanField())
                ).values("complete")[:1]
            ),
        )

    def starting_between(self, first_day, last_day):
        """Starting on local calendar days first_day..last_day of the clinic
        (a day is 23 or 25 hours long when the clocks change)."""
        zone = timezone.get_current_timezone()
        start = datetime.combine(first_day, time.min, tzinfo=zone)
        end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
        return self.filter(starts_at__gte=start, starts_at__lt=end)


class AppointmentManager(models.Manager.from_queryset(AppointmentQuerySet)):
    def get_queryset(self):
        return super().get_queryset().exclude(status=Appointment.Status.HELD)


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CHECKED_IN = "checked_in", _("Checked in")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")
        # A time kept for a patient booking online while they verify their
        # email and answer the history (`held_until`): not a booking.
        HELD = "held", _("Held for an online booking")

    ACTIVE = (Status.BOOKED, Status.CHECKED_IN, Status.COMPLETED)

    class PrecareFlag(models.TextChoices):
        NONE = "", _("Full window")
        SHORT = "short_window", _("Short window: told to stop on the day of booking")
        ATTESTED = "attested", _("Booked late on the patient's statement")

    # Empty only on a hold for someone who is not yet a patient.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments"
    )
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("chair time ends at"))
    blocked_until = models.DateTimeField(
        _("blocked until"), help_text=_("The end of chair time plus the room's buffer.")
    )
    status = models.CharField(max_length=12, choices=Status, default=Status.BOOKED)
    held_until = models.DateTimeField(
        _("held until"), null=True, blank=True, help_text=_("When a hold lapses by itself.")
    )
    booked_at = models.DateTimeField(default=timezone.now)
    booked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    # The pre-care window, worked out when booked or moved.
    precare_stop_date = models.DateField(_("stop alcohol and blood thinners from"))
    precare_flag = models.CharField(max_length=12, choices=PrecareFlag, blank=True)
    attestation = models.TextField(
        _("patient's statement"),
        blank=True,
        help_text=_("What the patient said about alcohol and blood thinners since the stop date."),
    )
    attestation_recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attestation_recorded_at = models.DateTimeField(null=True, blank=True)
    # Confirmed at check-in: the patient kept the window.
    precare_confirmed_at = models.DateTimeField(null=True, blank=True)
    precare_confirmed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Screening when booked (and again at check-in), for the practitioner.
    screening_outcome = models.CharField(max_length=16, blank=True)
    screening_codes = models.JSONField(default=list, blank=True)
    history_state = models.CharField(max_length=10, blank=True)
    on_anticoagulants = models.BooleanField(
        default=False,
        help_text=_(
            "Takes a prescribed blood thinner: never told to stop it; practitioner reviews."
        ),
    )

    notes = models.TextField(_("notes for the practitioner"), blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Bookings only: holds are not appointments to any page, list or count.
    objects = AppointmentManager()
    # Bookings and holds, for the booking service.
    with_holds = AppointmentQuerySet.as_manager()
    history_log = HistoricalRecords()

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")) & Q(blocked_until__gte=F("ends_at")),
                name="bookings_appointment_times_in_order",
            ),
            models.CheckConstraint(
                condition=Q(status="held", held_until__isnull=False)
                | (~Q(status="held") & Q(patient__isnull=False)),
                name="bookings_appointment_hold_or_patient",
            ),
        ]
        indexes = [
            models.Index(fields=["starts_at"], name="bookings_appt_starts"),
            models.Index(
                fields=["held_until"],
                name="bookings_appt_held_until",
                condition=Q(status="held"),
            ),
            # Covering for availability: the busy-time query reads only the index.
            models.Index(
                fields=["practitioner", "starts_at", "blocked_until", "status"],
                name="bookings_appt_practitioner",
            ),
            models.Index(fields=["patient", "starts_at"], name="bookings_appt_patient"),
        ]

    def __str__(self):
        local = timezone.localtime(self.starts_at)
        return f"{self.procedure} for {self.patient} on {local:%a %d %b %Y at %H:%M}"

    def get_absolute_url(self):
        return reverse("bookings:appointment", args=[self.pk])

    @property
    def local_date(self):
        return timezone.localdate(self.starts_at)

    @property
    def is_active(self):
        return self.status in self.ACTIVE

    @property
    def history_state_now(self):
        """missing / stale / incomplete / current today, when loaded
        `with_history()`; otherwise the state when it was booked."""
        if not hasattr(self, "latest_history_at"):
            return self.history_state
        submitted = self.latest_history_at
        return history_state(
            timezone.localdate(submitted) if submitted else None,
            today=timezone.localdate(),
            max_age_months=settings.MEDICAL_HISTORY_MAX_AGE_MONTHS,
            complete=self.latest_history_complete is not False,
        )

    @property
    def needs_history(self):
        return self.history_state_now in ("missing", "stale", "incomplete")


class AppointmentEvent(AppendOnlyModel):
    """Who did what to an appointment, and when: one row per change."""

    class Kind(models.TextChoices):
        BOOKED = "booked", _("Booked")
        MOVED = "moved", _("Moved")
        CANCELLED = "cancelled", _("Cancelled")
        CHECKED_IN = "checked_in", _("Checked in")
        NO_SHOW = "no_show", _("Marked no-show")
        COMPLETED = "completed", _("Completed")

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.by} at {self.at:%d %b %Y %H:%M}"


class OnlineSignup(models.Model):
    """Someone not yet a patient asking to book online: what they typed, the
    time held for them, and whether they have proved the email is theirs
    (a signed link with this row's nonce). Kept here rather than in the link,
    so a name and date of birth never travel in a URL."""

    hold = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80)
    date_of_birth = models.DateField(_("date of birth"))
    email = models.EmailField(_("email"))
    phone = models.CharField(_("mobile phone"), max_length=20)
    nonce = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="bookings_signup_created")]

    def __str__(self):
        return f"Online sign-up {self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


class WaitlistEntryQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=WaitlistEntry.Status.WAITING)

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.has_perm("bookings.view_waitlistentry"):
            return self
        return self.filter(patient__user=user)


class WaitlistEntry(models.Model):
    """A patient who would like an earlier time for a procedure, any day from
    `earliest` to `latest` (the clinic's local dates). When a cancellation or
    a move frees a time that fits, the booking service offers it by email
    (bookings.waitlist)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        BOOKED = "booked", _("Booked from an offer")
        REMOVED = "removed", _("Removed")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Leave blank for any practitioner."),
    )
    earliest = models.DateField(_("from"))
    latest = models.DateField(_("until"))
    status = models.CharField(max_length=8, choices=Status, default=Status.WAITING)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    # The booking an offer became.
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    replaces = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("instead of"),
        help_text=_("The patient's later booking: a claimed offer moves it."),
    )

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = _("waitlist entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(latest__gte=F("earliest")),
                name="bookings_waitlistentry_range_in_order",
                violation_error_message=_("The last day must be on or after the first day."),
            ),
            models.UniqueConstraint(
                fields=["patient", "procedure"],
                condition=Q(status="waiting"),
                name="bookings_waitlistentry_one_waiting",
                violation_error_message=_("Already on the waitlist for this procedure."),
            ),
        ]
        indexes = [
            models.Index(
                fields=["latest", "earliest"],
                name="bookings_waitlist_waiting",
                condition=Q(status="waiting"),
            ),
        ]

    def __str__(self):
        return (
            f"{self.patient} waiting for {self.procedure} "
            f"({self.earliest:%d %b}-{self.latest:%d %b %Y})"
        )


class WaitlistOffer(models.Model):
    """A freed time offered to one waitlist entry: the emailed claim link
    names this row. Several entries may be offered one time; the booking
    service lets only the first claim book it."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    offered_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["offered_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "practitioner", "starts_at"], name="bookings_waitlistoffer_once"
            ),
        ]

    def __str__(self):
        local = timezone.localtime(self.starts_at)
        return f"Offer of {local:%a %d %b %H:%M} to {self.entry.patient}"
