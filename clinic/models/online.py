"""The clinic's online-booking settings, edited by a manager in the admin:
whether new patients may book online, how far ahead, and the least notice.
One row; until a manager saves it, the defaults come from the environment
(ONLINE_BOOKING_NEW_PATIENTS, ONLINE_BOOKING_DAYS_AHEAD,
ONLINE_BOOKING_MIN_NOTICE_HOURS), so a clinic configured that way keeps its
configuration on upgrade (migration clinic/0016 writes it into the row)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

DAYS_AHEAD = (7, 365)
NOTICE_HOURS = (0, 14 * 24)


class OnlineBookingSettings(models.Model):
    new_patients = models.BooleanField(
        _("new patients may book online"),
        default=True,
        help_text=_(
            "Untick to let only portal patients book online: the public booking page still "
            "shows free times and asks new patients to call."
        ),
    )
    days_ahead = models.PositiveSmallIntegerField(
        _("how far ahead (days)"),
        default=90,
        validators=[MinValueValidator(DAYS_AHEAD[0]), MaxValueValidator(DAYS_AHEAD[1])],
        help_text=_("Patients book online up to this many days ahead (7 to 365)."),
    )
    min_notice_hours = models.PositiveSmallIntegerField(
        _("least notice (hours)"),
        default=24,
        validators=[MinValueValidator(NOTICE_HOURS[0]), MaxValueValidator(NOTICE_HOURS[1])],
        help_text=_(
            "Online, a time must start at least this many hours after it is booked (0 to 336). "
            "The pre-care window usually asks more: the later of the two applies."
        ),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("online booking settings")
        verbose_name_plural = _("online booking settings")

    def __str__(self):
        return "Online booking settings"

    def save(self, *args, **kwargs):
        self.pk = 1  # one row, whatever the form says
        super().save(*args, **kwargs)

    @classmethod
    def from_environment(cls):
        return cls(
            pk=1,
            new_patients=settings.ONLINE_BOOKING_NEW_PATIENTS,
            days_ahead=settings.ONLINE_BOOKING_DAYS_AHEAD,
            min_notice_hours=settings.ONLINE_BOOKING_MIN_NOTICE_HOURS,
        )

    @classmethod
    def current(cls):
        """The saved settings, or the environment's until a manager saves them
        (nothing is written on a read)."""
        return cls.objects.filter(pk=1).first() or cls.from_environment()
