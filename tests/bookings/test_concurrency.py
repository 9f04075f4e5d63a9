"""No double booking under concurrency.

PostgreSQL: many threads, each with its own connection, book the same slot at
once. First without any guard, to show the race is real; then with only the
exclusion constraint; then with the service's lock as well. SQLite: the same
race in a separate process on a database file, where IMMEDIATE transactions
make writers queue (and DEFERRED ones fail with "database is locked").
"""

import importlib
import json
import subprocess
import sys
import threading
import time as clock
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from bookings import services
from bookings.models import Appointment
from tests.factories import PatientFactory
from tests.helpers import NOW, at, history

THREADS = 6
SLOT = at(date(2026, 12, 1), "10:00")
ROOT = Path(__file__).resolve().parents[2]
no_double_booking = importlib.import_module("bookings.migrations.0002_no_double_booking")
# The constraints as they stand now: 0009 made them cover holds.
online_holds = importlib.import_module("bookings.migrations.0009_online_holds")


def race(patients, practitioner, procedure):
    """Every patient tries to book SLOT with `practitioner` at the same moment."""
    barrier = threading.Barrier(len(patients))
    results = []

    def attempt(patient):
        barrier.wait()
        try:
            services.appointment_book(
                patient=patient,
                practitioner=practitioner,
                procedure=procedure,
                starts_at=SLOT,
                booked_by=practitioner.user,
                now=NOW,
            )
            results.append("booked")
        except ValidationError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def slow_check(monkeypatch):
    """Hold every booking between its overlap check and its insert, so all
    threads pass the check before any of them writes: the race, made certain."""
    original = services._check_patient_free

    def held(**kwargs):
        clock.sleep(0.3)
        return original(**kwargs)

    monkeypatch.setattr(services, "_check_patient_free", held)


@pytest.fixture
def contenders(db, injector):
    patients = [PatientFactory() for _ in range(THREADS)]
    for patient in patients:
        history(patient)
    return patients


def _run_sql(operation_sql):
    with connection.cursor() as cursor:
        cursor.execute(operation_sql)


@pytest.fixture
def without_constraint():
    operation = no_double_booking.exclusion(
        "bookings_appointment_no_practitioner_overlap", "practitioner_id"
    )
    _run_sql(operation.reverse_sql)
    yield
    # The overlapping rows would stop the constraint coming back. Events are
    # append-only in the app, so they go by SQL.
    _run_sql(
        "DELETE FROM bookings_notification; DELETE FROM bookings_appointmentevent; "
        "DELETE FROM bookings_appointment;"
    )
    _run_sql(
        online_holds.exclusion(
            "bookings_appointment_no_practitioner_overlap", "practitioner_id", online_holds.AFTER
        )
    )


@pytest.fixture
def without_lock(monkeypatch):
    monkeypatch.setattr(services, "_lock", lambda **kwargs: None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_any_guard_the_race_double_books(
    contenders, injector, flip, slow_check, without_lock, without_constraint
):
    results = race(contenders, injector, flip)
    assert results.count("booked") > 1
    assert Appointment.objects.filter(starts_at=SLOT).count() > 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_exclusion_constraint_alone_lets_one_win(
    contenders, injector, flip, slow_check, without_lock
):
    results = race(contenders, injector, flip)
    assert results.count("booked") == 1
    assert results.count("slot_taken") == THREADS - 1
    assert Appointment.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_the_lock_exactly_one_wins_and_the_rest_are_told_it_was_taken(
    contenders, injector, flip, slow_check
):
    results = race(contenders, injector, flip)
    assert results.count("booked") == 1
    assert results.count("slot_taken") == THREADS - 1
    assert Appointment.objects.count() == 1
    message = services.SLOT_TAKEN.text(practitioner=injector, start="10:00", day="x")
    assert "may have just been booked" in message


def _sqlite_race(tmp_path, mode):
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("sqlite_writers.py")),
            str(tmp_path / "race.sqlite3"),
            mode,
            str(THREADS),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sqlite_writers_queue_in_immediate_mode(tmp_path):
    results = _sqlite_race(tmp_path, "IMMEDIATE")
    assert results["booked"] == 1
    assert results["slot_taken"] == THREADS - 1
    assert results["locked"] == 0
    assert results["rows"] == 1


def test_sqlite_writers_fail_in_deferred_mode_which_is_why_we_use_immediate(tmp_path):
    results = _sqlite_race(tmp_path, "DEFERRED")
    assert results["locked"] > 0
    assert results["rows"] == 1
