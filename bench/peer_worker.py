"""One side of the comparison in bench/peer.py, in a process of its own.

    python -m bench.peer_worker vermilion|peer DATABASE_URL

Vermilion runs in .venv, the peer (django-appointment) in .venv-peer, each
against its own database. The worker migrates, puts in the shared workload
(WORKLOAD), prints one JSON line ({"slots", "queries"}), then times one
"free times for the month" call for each line it reads on stdin and prints
{"ms": ...}, so bench/peer.py can alternate the two systems call by call.
"""

import json
import os
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as wall

WORKLOAD = {
    "practitioners": 1,
    "opens": wall(9),
    "closes": wall(17),
    "minutes": 30,  # visit length and grid
    "days": 30,
    "appointments": 200,
}
FIRST_DAY_AHEAD = 7  # the month searched starts a week from today


def _days():
    first = date.today() + timedelta(days=FIRST_DAY_AHEAD)
    return [first + timedelta(days=n) for n in range(WORKLOAD["days"])]


def _booked():
    """(day, start time) of each appointment: spread over the days, every
    other slot from opening time, the same for both systems."""
    days, minutes = _days(), WORKLOAD["minutes"]
    found = []
    for n in range(WORKLOAD["appointments"]):
        start = datetime.combine(days[n % len(days)], WORKLOAD["opens"])
        found.append(
            (start.date(), (start + timedelta(minutes=2 * minutes * (n // len(days)))).time())
        )
    return found


def vermilion():
    """Seed Vermilion; return the timed call."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from bookings.availability import free_slots
    from bookings.models import Appointment, WorkingHours
    from clinic.models import Patient, Practitioner, User
    from treatments.models import Procedure, Timing

    user = User.objects.create_user("bench@example.test", "x", full_name="Bench")
    user.groups.add(Group.objects.get(name="Practitioner"))
    practitioner = Practitioner.objects.create(user=user, display_name="Bench")
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=who, weekday=d, starts=WORKLOAD["opens"], ends=WORKLOAD["closes"])
        for who in (None, practitioner)
        for d in range(7)
    )
    flip = Procedure.objects.get(code="lip-flip")
    length = timedelta(minutes=WORKLOAD["minutes"])
    rows = []
    for n, (day, start) in enumerate(_booked()):
        patient = Patient.objects.create(
            first_name="Bench", last_name=f"P{n}", date_of_birth=date(1990, 1, 1)
        )
        at = timezone.make_aware(datetime.combine(day, start))
        rows.append(
            Appointment(
                patient=patient,
                practitioner=practitioner,
                procedure=flip,
                starts_at=at,
                ends_at=at + length,
                blocked_until=at + length,
                booked_by=user,
                precare_stop_date=day - timedelta(days=4),
            )
        )
    Appointment.objects.bulk_create(rows)

    class Visit:  # a 30-minute procedure, as the peer's service
        timing = Timing(
            chair_minutes=WORKLOAD["minutes"],
            buffer_minutes=0,
            precare_min_days=0,
            precare_recommended_days=0,
        )

    days = _days()

    def call():
        return free_slots(
            procedure=Visit,
            start=days[0],
            end=days[-1],
            now=timezone.now(),
            grid_minutes=WORKLOAD["minutes"],
        )

    return call


def peer():
    """Seed django-appointment; return the timed call: its booking page asks
    for one day's free times at a time, so a month is a call per day."""
    from appointment.models import Appointment, AppointmentRequest, Service, StaffMember
    from appointment.models import WorkingHours as PeerHours
    from appointment.services import get_available_slots_for_staff
    from appointment.utils.db_helpers import get_weekday_num_from_date
    from django.contrib.auth import get_user_model

    User = get_user_model()
    length = timedelta(minutes=WORKLOAD["minutes"])
    service = Service.objects.create(name="Visit", duration=length, price=0)
    staff = StaffMember.objects.create(
        user=User.objects.create(username="bench", email="bench@example.test"),
        slot_duration=WORKLOAD["minutes"],
        lead_time=WORKLOAD["opens"],
        finish_time=WORKLOAD["closes"],
        appointment_buffer_time=0,
        work_on_saturday=True,
        work_on_sunday=True,
    )
    staff.services_offered.add(service)
    PeerHours.objects.bulk_create(
        PeerHours(
            staff_member=staff,
            day_of_week=d,
            start_time=WORKLOAD["opens"],
            end_time=WORKLOAD["closes"],
        )
        for d in range(7)
    )
    client = User.objects.create(username="client", email="client@example.test")
    for day, start in _booked():
        end = (datetime.combine(day, start) + length).time()
        request = AppointmentRequest.objects.create(
            date=day, start_time=start, end_time=end, service=service, staff_member=staff
        )
        Appointment.objects.create(client=client, appointment_request=request)

    days = _days()

    def call():
        return [
            slot
            for day in days
            for slot in get_available_slots_for_staff(
                day, staff, get_weekday_num_from_date(day), service
            )
        ]

    return call


def main():
    system, url = sys.argv[1], sys.argv[2]
    os.environ["DATABASE_URL"] = url
    if system == "vermilion":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    else:
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.peer_settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    if system == "peer":
        # django-appointment's wheel ships no migrations: its tables come from
        # run_syncdb, once the tables they point to (auth) exist.
        call_command("migrate", verbosity=0, run_syncdb=True)
    call = vermilion() if system == "vermilion" else peer()
    with CaptureQueriesContext(connection) as queries:
        slots = len(call())
    print(json.dumps({"slots": slots, "queries": len(queries.captured_queries)}), flush=True)
    for _ in sys.stdin:
        started = time.perf_counter()
        call()
        print(json.dumps({"ms": (time.perf_counter() - started) * 1000}), flush=True)


if __name__ == "__main__":
    main()
