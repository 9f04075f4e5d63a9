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
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from bookings import services
from bookings.models import Appointment
from tests.factories import PatientFactory
from tests.helpers import NOW, at, at_once, history

THREADS = 6
SLOT = at(date(2026, 12, 1), "10:00")
ROOT = Path(__file__).resolve().parents[2]
no_double_booking = importlib.import_module("bookings.migrations.0002_no_double_booking")
# The constraints as they stand now: 0009 made them cover holds.
online_holds = importlib.import_module("bookings.migrations.0009_online_holds")


def race(patients, practitioner, procedure):
    """Every patient tries to book SLOT with `practitioner` at the same moment."""
    return at_once(
        [
            partial(
                services.appointment_book,
                patient=patient,
                practitioner=practitioner,
                procedure=procedure,
                starts_at=SLOT,
                booked_by=practitioner.user,
                now=NOW,
            )
            for patient in patients
        ]
    )


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


def _book_both(patient, bookings):
    """One patient, two bookings at once (two desks, two practitioners)."""
    barrier = threading.Barrier(len(bookings))
    results = []

    def attempt(practitioner, procedure, starts_at):
        barrier.wait()
        try:
            services.appointment_book(
                patient=patient,
                practitioner=practitioner,
                procedure=procedure,
                starts_at=starts_at,
                booked_by=practitioner.user,
                now=NOW,
            )
            results.append("booked")
        except ValidationError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=booking) for booking in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def one_patient(db):
    patient = PatientFactory()
    history(patient)
    return patient


def _two_flips(injector, second_injector, flip):
    # A day apart: no overlap for any constraint to see, but whichever lip
    # flip is booked second is flagged: the other breaks the toxin gap.
    return [(injector, flip, SLOT), (second_injector, flip, SLOT + timedelta(days=1))]


@pytest.fixture
def verdicts(monkeypatch):
    """The engine's codes for each booking the service assesses."""
    seen = []
    original = services.assess

    def spied(**kwargs):
        assessment = original(**kwargs)
        seen.append(assessment.safety.codes())
        return assessment

    monkeypatch.setattr(services, "assess", spied)
    return seen


def _flagged(verdicts):
    return sum("toxin_booked_nearby" in codes for codes in verdicts)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_the_patient_lock_neither_booking_sees_the_other(
    one_patient, injector, second_injector, flip, slow_check, without_lock, verdicts
):
    results = _book_both(one_patient, _two_flips(injector, second_injector, flip))
    assert results == ["booked", "booked"]
    assert _flagged(verdicts) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_patient_lock_makes_the_second_booking_see_the_first(
    one_patient, injector, second_injector, flip, slow_check, verdicts
):
    # Issue 20: the practitioner's row is no longer locked (the exclusion
    # constraint guards their time); the patient's row still is, so two desks
    # booking one patient at once queue, and the second hears of the first.
    results = _book_both(one_patient, _two_flips(injector, second_injector, flip))
    assert results == ["booked", "booked"]
    assert _flagged(verdicts) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_patient_at_one_time_with_two_practitioners_is_booked_once(
    one_patient, injector, second_injector, flip, slow_check
):
    results = _book_both(one_patient, [(injector, flip, SLOT), (second_injector, flip, SLOT)])
    assert sorted(results) == ["booked", "patient_busy"]
    assert Appointment.objects.filter(patient=one_patient).count() == 1
