"""Demo schedules and appointments around today, booked as if last week."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from bookings import services
from bookings.models import Appointment, WorkingHours
from clinic.models import Patient, Practitioner
from treatments.models.catalog import Procedure

# Open every day, so the demo has a working day whenever it is started.
CLINIC_HOURS = {day: (time(9), time(19)) for day in range(5)} | {
    5: (time(10), time(16)),
    6: (time(10), time(16)),
}
# display name: {weekday: [(start, end), ...]}
HOURS = {
    "Dr Amara Okafor": {
        0: [(time(9), time(13)), (time(14), time(18))],
        1: [(time(12), time(19))],
        2: [(time(9), time(13)), (time(14), time(18))],
        4: [(time(9), time(13)), (time(14), time(18))],
    },
    "Ellie Hart RN": {
        1: [(time(9), time(17))],
        2: [(time(13), time(19))],
        3: [(time(9), time(17))],
        5: [(time(10), time(16))],
        6: [(time(10), time(16))],
    },
}
# days from today, practitioner, patient last name, procedure code, start time.
# Whitfield had a lip flip three weeks ago (treatments/demo.py): filler today,
# since a second flip inside 90 days is refused.
BOOKINGS = [
    (0, 0, "Whitfield", "lip-filler", time(10)),
    (0, 0, "Raman", "lip-flip", time(11, 30)),
    (0, 1, "O'Brien", "lip-flip", time(14, 30)),
    (1, 0, "Dubois", "lip-flip", time(9, 30)),
    (2, 1, "Okonkwo", "lip-flip-and-filler", time(15)),
    (5, 1, "Raman", "lip-filler", time(11)),
]


def seed_schedules():
    if WorkingHours.objects.exists():
        return
    for weekday, (start, end) in CLINIC_HOURS.items():
        WorkingHours.objects.create(weekday=weekday, starts=start, ends=end)
    for name, week in HOURS.items():
        practitioner = Practitioner.objects.get(display_name=name)
        for weekday, spans in week.items():
            for start, end in spans:
                WorkingHours.objects.create(
                    practitioner=practitioner, weekday=weekday, starts=start, ends=end
                )


def _working_on(day):
    """Practitioners working on a day, in HOURS order."""
    names = [name for name, week in HOURS.items() if day.weekday() in week]
    return [Practitioner.objects.get(display_name=name) for name in names]


def seed_appointments(*, by, now=None):
    if Appointment.objects.exists():
        return
    now = now or timezone.now()
    today = timezone.localdate(now)
    booked_at = now - timedelta(days=8)
    procedures = {p.code: p for p in Procedure.objects.with_parts()}
    for offset, index, last_name, code, start in BOOKINGS:
        day = today + timedelta(days=offset)
        working = _working_on(day)
        if not working:
            continue
        starts_at = timezone.make_aware(datetime.combine(day, start))
        # The chosen practitioner first, then whoever else works that day.
        for practitioner in working[index % len(working) :] + working[: index % len(working)]:
            try:
                services.appointment_book(
                    patient=Patient.objects.get(last_name=last_name),
                    practitioner=practitioner,
                    procedure=procedures[code],
                    starts_at=starts_at,
                    booked_by=by,
                    now=booked_at,
                )
            except ValidationError:
                continue  # not working at that hour on this weekday: try the next
            break
