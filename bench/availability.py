"""free_slots() benchmarks (the bookings issue's targets and growth curves).

    python -m bench.availability postgres|sqlite

Data: practitioners working 08:00-20:00 every day; appointments of 25 minutes
(lip flip: 15 chair + 10 buffer) placed back to back from 08:00, spread evenly
over practitioners and days; the timed call asks for lip-flip slots over the
whole range for every practitioner, with "now" just before the range.
"""

import json
import sys
from datetime import date, datetime, time, timedelta

from bench.common import machine, setup_django, timed

START = date(2027, 1, 4)


def build(*, practitioners, days, appointments):
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from bookings.models import Appointment, AppointmentEvent, WorkingHours
    from clinic.models import Patient, Practitioner, User

    with connection.cursor() as cursor:
        for table in ("bookings_appointmentevent", "bookings_appointment", "bookings_workinghours"):
            cursor.execute(f"DELETE FROM {table}")
    assert not AppointmentEvent.objects.exists()
    Practitioner.objects.all().delete()
    User.objects.filter(email__startswith="bench").delete()
    group = Group.objects.get(name="Practitioner")
    staff = []
    for n in range(practitioners):
        user = User.objects.create_user(f"bench{n}@example.test", "x", full_name=f"Bench {n}")
        user.groups.add(group)
        staff.append(Practitioner.objects.create(user=user, display_name=f"Bench {n:02d}"))
    WorkingHours.objects.bulk_create(
        [WorkingHours(weekday=d, starts=time(8), ends=time(20)) for d in range(7)]
        + [
            WorkingHours(practitioner=p, weekday=d, starts=time(8), ends=time(20))
            for p in staff
            for d in range(7)
        ]
    )
    if Patient.objects.count() < 2000:
        Patient.objects.bulk_create(
            [
                Patient(
                    first_name="Bench",
                    last_name=f"P{n}",
                    date_of_birth=date(1990, 1, 1),
                    phone="07700 900000",
                    search_text=f"bench p{n}",
                )
                for n in range(2000)
            ]
        )
    patients = list(Patient.objects.values_list("pk", flat=True)[:2000])
    from treatments.models import Procedure

    flip = Procedure.objects.get(code="lip-flip")
    booker = staff[0].user
    per_day = max(1, -(-appointments // (practitioners * days)))
    rows, made = [], 0
    for k in range(per_day):
        for day_index in range(days):
            for p_index, practitioner in enumerate(staff):
                if made == appointments:
                    break
                day = START + timedelta(days=day_index)
                start = timezone.make_aware(datetime.combine(day, time(8)))
                start += timedelta(minutes=25 * k)
                patient = patients[(p_index * 7919 + day_index * 97 + k) % len(patients)]
                rows.append(
                    Appointment(
                        patient_id=patient,
                        practitioner=practitioner,
                        procedure=flip,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=15),
                        blocked_until=start + timedelta(minutes=25),
                        booked_by=booker,
                        precare_stop_date=day - timedelta(days=4),
                    )
                )
                made += 1
    Appointment.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return staff


def run_case(*, practitioners, days, appointments):
    from django.utils import timezone

    from bookings.availability import free_slots
    from treatments.models import Procedure

    build(practitioners=practitioners, days=days, appointments=appointments)
    flip = Procedure.objects.with_parts().get(code="lip-flip")
    now = timezone.make_aware(datetime.combine(START, time(0))) - timedelta(hours=1)
    end = START + timedelta(days=days - 1)
    count = len(free_slots(procedure=flip, start=START, end=end, now=now))
    result = timed(lambda: free_slots(procedure=flip, start=START, end=end, now=now))
    return {
        "practitioners": practitioners,
        "days": days,
        "appointments": appointments,
        "slots": count,
        **result,
    }


CASES = {
    "targets": [
        {"practitioners": 1, "days": 30, "appointments": 200},
        {"practitioners": 10, "days": 90, "appointments": 20000},
    ],
    "days": [{"practitioners": 1, "days": d, "appointments": 7 * d} for d in (7, 30, 90, 180)],
    "practitioners": [
        {"practitioners": p, "days": 30, "appointments": 200 * p} for p in (1, 5, 10, 20)
    ],
    "appointments": [
        {"practitioners": 10, "days": 90, "appointments": a} for a in (0, 5000, 10000, 20000)
    ],
}


def main():
    database = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    only = sys.argv[2:] or list(CASES)
    setup_django(database)
    results = {"database": database, "machine": machine()}
    for name in only:
        results[name] = [run_case(**case) for case in CASES[name]]
        for row in results[name]:
            rounded = {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
            print(json.dumps({"group": name, **rounded}), flush=True)
    return results


if __name__ == "__main__":
    main()
