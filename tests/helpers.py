"""Helpers shared by tests of every app: a fixed "now", local times, schedules."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bookings import services as booking_services
from bookings.models import WorkingHours
from clinic.medical import ALL_NO
from tests.factories import MedicalHistoryFactory

LONDON = ZoneInfo("Europe/London")
# Thursday 26 November 2026, 09:00 in London (GMT): "now" for these tests.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=LONDON)


def at(day, hhmm):
    """An aware datetime at a local wall-clock time in the clinic's zone."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LONDON)


def every_day(practitioner, *spans):
    for weekday in range(7):
        for start, end in spans:
            WorkingHours.objects.create(
                practitioner=practitioner, weekday=weekday, starts=start, ends=end
            )


def history(patient, **changes):
    """A current medical history (submitted 1 November 2026), all "no" but `changes`."""
    return MedicalHistoryFactory(
        patient=patient, submitted_at=datetime(2026, 11, 1, tzinfo=LONDON), **{**ALL_NO, **changes}
    )


def book(patient, practitioner, procedure, starts_at, **kwargs):
    return booking_services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        starts_at=starts_at,
        booked_by=kwargs.pop("by", practitioner.user),
        now=kwargs.pop("now", NOW),
        **kwargs,
    )
