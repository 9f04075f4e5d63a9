"""free_slots() benchmarks (the bookings issue's targets and growth curves).

    python -m bench.availability postgres|sqlite

Data: practitioners working 08:00-20:00 every day; appointments of 25 minutes
(lip flip: 15 chair + 10 buffer) placed back to back from 08:00, spread evenly
over practitioners and days; the timed call asks for lip-flip slots over the
whole range for every practitioner, with "now" just before the range.

The floor, timed in the same loop (the two calls alternate): one raw SQL read
of the same busy rows, then plain Python subtracting them from the known
working hours and putting the free time on the same grid, with the same
number of slots as the answer. free_slots() is judged as a ratio to it, so
the verdict does not depend on the machine.
"""

import json
import statistics
import sys
import time as clock
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from operator import itemgetter

from bench.common import machine, setup_django

START = date(2027, 1, 4)
HOURS = (time(8), time(20))
GRID = 5 * 60


def build(*, practitioners, days, appointments, history=0):
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
        [WorkingHours(weekday=d, starts=HOURS[0], ends=HOURS[1]) for d in range(7)]
        + [
            WorkingHours(practitioner=p, weekday=d, starts=HOURS[0], ends=HOURS[1])
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

    def flip_at(start, **fields):
        return Appointment(
            procedure=flip,
            starts_at=start,
            ends_at=start + timedelta(minutes=15),
            blocked_until=start + timedelta(minutes=25),
            booked_by=booker,
            precare_stop_date=timezone.localdate(start) - timedelta(days=4),
            **fields,
        )

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
                rows.append(flip_at(start, patient_id=patient, practitioner=practitioner))
                made += 1
    # History: the same pattern on the days before the range, never read.
    for n in range(history):
        day = START - timedelta(days=1 + n // 28)
        start = timezone.make_aware(datetime.combine(day, time(8))) + timedelta(
            minutes=25 * (n % 28)
        )
        rows.append(
            flip_at(
                start,
                patient_id=patients[n % len(patients)],
                practitioner=staff[n % practitioners],
                status=Appointment.Status.COMPLETED,
            )
        )
    Appointment.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return staff


def floor(*, ids, first_day, days, now):
    """The same answer as free_slots() for the benchmark's data, the least
    work it can be done with: one raw query, then plain Python.
    [(practitioner id, start epoch seconds)] in time order."""
    from django.db import connection
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    first = datetime.combine(first_day, time.min, tzinfo=zone)
    epoch = (
        "EXTRACT(EPOCH FROM {})::bigint"
        if connection.vendor == "postgresql"
        else "CAST(ROUND((julianday({}) - 2440587.5) * 86400) AS INTEGER)"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT practitioner_id, {epoch.format('starts_at')}, "
            f"{epoch.format('blocked_until')} FROM bookings_appointment "
            f"WHERE practitioner_id IN ({', '.join(['%s'] * len(ids))}) "
            "AND status IN ('booked', 'checked_in', 'completed') "
            "AND starts_at < %s AND starts_at > %s AND blocked_until > %s",
            [
                *ids,
                adapt(first + timedelta(days=days)),
                adapt(first - timedelta(days=1)),
                adapt(first),
            ],
        )
        rows = cursor.fetchall()
    busy = defaultdict(list)
    for practitioner_id, start, end in rows:
        busy[practitioner_id].append((start, end))
    spans = []
    for n in range(days):
        day = first_day + timedelta(days=n)
        midnight = int(datetime.combine(day, time.min, tzinfo=zone).timestamp())
        opens = int(datetime.combine(day, HOURS[0], tzinfo=zone).timestamp())
        closes = int(datetime.combine(day, HOURS[1], tzinfo=zone).timestamp())
        spans.append((midnight, opens, closes))
    now, occupied = int(now.timestamp()), 25 * 60
    slots = []
    for practitioner_id in ids:
        intervals = sorted(busy[practitioner_id])
        i = 0
        for midnight, opens, closes in spans:
            cursor = max(opens, now)
            while i < len(intervals) and intervals[i][1] <= cursor:
                i += 1
            j = i
            while cursor < closes:
                free_end = intervals[j][0] if j < len(intervals) else closes
                free_end = min(free_end, closes)
                start = midnight - (midnight - cursor) // GRID * GRID
                slots += [(practitioner_id, t) for t in range(start, free_end - occupied + 1, GRID)]
                if j == len(intervals) or intervals[j][0] >= closes:
                    break
                cursor = max(cursor, intervals[j][1])
                j += 1
            i = j
    slots.sort(key=itemgetter(1))
    return slots


def timed_against_floor(fn, floor_fn, *, repeat=30, warmup=3):
    """Median, p10, p90 (ms) of fn and of floor_fn, called alternately in one
    loop, the median ratio, and fn's query count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        fn(), floor_fn()
    samples, floors = [], []
    for _ in range(repeat):
        start = clock.perf_counter()
        fn()
        middle = clock.perf_counter()
        floor_fn()
        samples.append((middle - start) * 1000)
        floors.append((clock.perf_counter() - middle) * 1000)
    with CaptureQueriesContext(connection) as queries:
        fn()

    def spread(values):
        deciles = statistics.quantiles(values, n=10)
        return statistics.median(values), deciles[0], deciles[-1]

    median, p10, p90 = spread(samples)
    floor_median, floor_p10, floor_p90 = spread(floors)
    return {
        "median": median,
        "p10": p10,
        "p90": p90,
        "floor": floor_median,
        "floor_p10": floor_p10,
        "floor_p90": floor_p90,
        "ratio": statistics.median(s / f for s, f in zip(samples, floors, strict=True)),
        "queries": len(queries.captured_queries),
    }


def run_case(*, practitioners, days, appointments, history=0):
    from django.utils import timezone

    from bookings.availability import free_slots
    from treatments.models import Procedure

    staff = build(
        practitioners=practitioners, days=days, appointments=appointments, history=history
    )
    flip = Procedure.objects.with_parts().get(code="lip-flip")
    now = timezone.make_aware(datetime.combine(START, time(0))) - timedelta(hours=1)
    end = START + timedelta(days=days - 1)
    ids = [p.pk for p in staff]
    answer = free_slots(procedure=flip, start=START, end=end, now=now)
    least = floor(ids=ids, first_day=START, days=days, now=now)
    assert [(s.practitioner.pk, s.start_ts) for s in answer] == least, "floor differs"
    result = timed_against_floor(
        lambda: free_slots(procedure=flip, start=START, end=end, now=now),
        lambda: floor(ids=ids, first_day=START, days=days, now=now),
    )
    return {
        "practitioners": practitioners,
        "days": days,
        "appointments": appointments,
        "history": history,
        "slots": len(answer),
        **result,
    }


CASES = {
    "targets": [
        {"practitioners": 1, "days": 30, "appointments": 200},
        {"practitioners": 10, "days": 90, "appointments": 20000},
        {"practitioners": 20, "days": 90, "appointments": 36000},
    ],
    # The same search (1 practitioner, 30 days) over a longer and longer past.
    "history": [
        {"practitioners": 1, "days": 30, "appointments": 200, "history": h}
        for h in (0, 10_000, 100_000)
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
