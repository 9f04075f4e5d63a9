"""Run by test_concurrency.py in its own process: THREADS writers book one slot
on a fresh SQLite file in the given transaction mode. Prints a JSON summary."""

import json
import os
import sys
import threading
import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
path, mode, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.environ["DATABASE_URL"] = f"sqlite:///{path}"
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] = mode
django.setup()

from datetime import date  # noqa: E402

from django.core.exceptions import ValidationError  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import OperationalError, connection  # noqa: E402

from bookings import services  # noqa: E402
from bookings.models import Appointment  # noqa: E402
from tests.factories import PatientFactory, PractitionerFactory  # noqa: E402
from tests.helpers import NOW, at, every_day, history  # noqa: E402
from treatments.models import Procedure  # noqa: E402

call_command("migrate", verbosity=0)
practitioner = PractitionerFactory()
every_day(None, (at(NOW.date(), "08:00").time(), at(NOW.date(), "20:00").time()))
every_day(practitioner, (at(NOW.date(), "09:00").time(), at(NOW.date(), "17:00").time()))
flip = Procedure.objects.with_parts().get(code="lip-flip")
patients = [PatientFactory() for _ in range(threads)]
for patient in patients:
    history(patient)
connection.close()

original = services._check_patient_free


def held(**kwargs):
    clock.sleep(0.3)
    return original(**kwargs)


services._check_patient_free = held
barrier = threading.Barrier(threads)
outcomes = []


def attempt(patient):
    barrier.wait()
    try:
        services.appointment_book(
            patient=patient,
            practitioner=practitioner,
            procedure=flip,
            starts_at=at(date(2026, 12, 1), "10:00"),
            booked_by=practitioner.user,
            now=NOW,
        )
        outcomes.append("booked")
    except ValidationError as exc:
        outcomes.append(exc.code)
    except OperationalError as exc:
        outcomes.append("locked" if "locked" in str(exc) else repr(exc))
    finally:
        connection.close()


workers = [threading.Thread(target=attempt, args=(p,)) for p in patients]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
summary = {key: outcomes.count(key) for key in ("booked", "slot_taken", "locked")}
summary["other"] = [o for o in outcomes if o not in summary]
summary["rows"] = Appointment.objects.count()
print(json.dumps(summary))
