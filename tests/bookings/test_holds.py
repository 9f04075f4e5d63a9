"""Holding a time while a patient books online (issue 16): a `held` row blocks
the time like a booking (service check everywhere, exclusion constraints on
PostgreSQL), is no appointment on any page, and lapses by itself."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from bookings import services
from bookings.availability import free_slots
from bookings.models import Appointment, AppointmentEvent
from clinic.models import Notification, User
from tests.factories import PatientFactory
from tests.helpers import NOW, at, book, history

pytestmark = pytest.mark.django_db

SLOT = at(date(2026, 12, 1), "10:00")
NEWCOMER = {"name": "Nia Newcomer", "date_of_birth": date(1990, 5, 4)}
LAPSED = NOW + timedelta(minutes=21)  # BOOKING_HOLD_MINUTES is 20


def hold(injector, procedure, starts_at=SLOT, now=NOW, **kwargs):
    kwargs.setdefault("newcomer", None if "patient" in kwargs else NEWCOMER)
    return services.appointment_hold(
        practitioner=injector,
        procedure=procedure,
        starts_at=starts_at,
        by=User.objects.online_booking(),
        now=now,
        **kwargs,
    )


def starts(injector, flip, now):
    return {
        s.start
        for s in free_slots(
            procedure=flip, start=SLOT.date(), end=SLOT.date(), practitioners=[injector], now=now
        )
    }


def test_a_held_time_is_not_offered_and_not_bookable(injector, flip, healthy):
    held = hold(injector, flip)
    assert held.status == Appointment.Status.HELD
    assert held.held_until == NOW + timedelta(minutes=20)
    assert held.patient is None
    assert SLOT not in starts(injector, flip, NOW)
    with pytest.raises(ValidationError) as refused:
        book(healthy, injector, flip, SLOT)
    assert refused.value.code == "slot_taken"


def test_a_hold_is_no_appointment_on_pages_or_counts(client, front_desk, injector, flip):
    hold(injector, flip)
    assert Appointment.objects.count() == 0
    assert Appointment.with_holds.count() == 1
    client.force_login(front_desk)
    day = client.get(reverse("bookings:day"), {"date": SLOT.date().isoformat()})
    assert day.status_code == 200
    assert "Nia" not in day.content.decode()
    assert "Held" not in day.content.decode()


def test_a_lapsed_hold_frees_the_time_by_itself(injector, flip, healthy):
    held = hold(injector, flip)
    assert SLOT in starts(injector, flip, LAPSED)
    appointment = book(healthy, injector, flip, SLOT, now=LAPSED)
    assert appointment.status == Appointment.Status.BOOKED
    if connection.vendor == "postgresql":
        # The booking deleted the lapsed hold before writing (PostgreSQL's
        # constraint would still count it).
        assert not Appointment.with_holds.filter(pk=held.pk).exists()
    else:
        # SQLite: a lapsed hold blocks nothing; the sweep deletes it.
        assert services.holds_release_expired(now=LAPSED) == 1
    assert not Appointment.with_holds.filter(status=Appointment.Status.HELD).exists()


def test_the_sweep_deletes_only_lapsed_holds(injector, flip):
    old = hold(injector, flip)
    fresh = hold(
        injector, flip, starts_at=SLOT + timedelta(hours=2), now=NOW + timedelta(minutes=5)
    )
    assert services.holds_release_expired(now=LAPSED) == 1
    assert list(Appointment.with_holds.values_list("pk", flat=True)) == [fresh.pk]
    assert old.pk != fresh.pk


def test_the_command_releases_lapsed_holds(injector, flip, capsys, monkeypatch):
    hold(injector, flip)
    monkeypatch.setattr("django.utils.timezone.now", lambda: LAPSED)
    call_command("release_expired_holds")
    assert "Released 1 lapsed holds." in capsys.readouterr().out
    assert not Appointment.with_holds.exists()


def test_a_hold_becomes_the_booking(injector, flip, healthy):
    held = hold(injector, flip)
    appointment = services.hold_book(
        hold_pk=held.pk, patient=healthy, by=User.objects.online_booking(), now=NOW
    )
    assert appointment.pk == held.pk
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.held_until is None
    assert appointment.patient == healthy
    assert AppointmentEvent.objects.get(appointment=appointment).details["online"] is True
    assert Notification.objects.filter(appointment=appointment, kind="confirmation").exists()


def test_a_lapsed_hold_still_books_if_nobody_took_the_time(injector, flip, healthy):
    held = hold(injector, flip)
    appointment = services.hold_book(
        hold_pk=held.pk, patient=healthy, by=User.objects.online_booking(), now=LAPSED
    )
    assert appointment.status == Appointment.Status.BOOKED


def test_a_released_hold_says_so(injector, flip, healthy):
    held = hold(injector, flip)
    other = PatientFactory()
    history(other)
    book(other, injector, flip, SLOT, now=LAPSED)
    with pytest.raises(ValidationError) as refused:
        services.hold_book(
            hold_pk=held.pk, patient=healthy, by=User.objects.online_booking(), now=LAPSED
        )
    assert refused.value.code == "hold_gone"
    with pytest.raises(ValidationError) as refused:
        services.hold_extend(hold_pk=held.pk, now=LAPSED)
    assert refused.value.code == "hold_gone"


def test_extending_keeps_the_time_longer(injector, flip):
    held = hold(injector, flip)
    later = NOW + timedelta(minutes=15)
    assert services.hold_extend(hold_pk=held.pk, now=later).held_until == later + timedelta(
        minutes=20
    )


def test_a_patients_own_hold_does_not_block_their_booking_of_it(injector, flip, healthy):
    held = hold(injector, flip, patient=healthy)
    with pytest.raises(ValidationError) as refused:
        book(healthy, injector, flip, SLOT + timedelta(minutes=15))
    assert refused.value.code in ("slot_taken", "patient_busy")
    assert (
        services.hold_book(
            hold_pk=held.pk, patient=healthy, by=User.objects.online_booking(), now=NOW
        ).patient
        == healthy
    )


@pytest.mark.parametrize(
    ("starts_at", "newcomer", "code"),
    [
        (at(date(2026, 11, 29), "10:00"), NEWCOMER, "patient_window"),  # D-3
        (SLOT, {**NEWCOMER, "date_of_birth": date(2010, 1, 1)}, "under_age"),
    ],
)
def test_a_hold_runs_the_engine_on_what_was_typed(injector, flip, starts_at, newcomer, code):
    with pytest.raises(ValidationError) as refused:
        hold(injector, flip, starts_at=starts_at, newcomer=newcomer)
    assert code in [e.code for e in refused.value.error_list]
    assert not Appointment.with_holds.exists()


def _raw_booking(patient, injector, flip, **fields):
    return Appointment.objects.create(
        patient=patient,
        practitioner=injector,
        procedure=flip,
        starts_at=SLOT,
        ends_at=SLOT + timedelta(minutes=20),
        blocked_until=SLOT + timedelta(minutes=30),
        booked_by=injector.user,
        precare_stop_date=date(2026, 11, 27),
        **fields,
    )


@pytest.mark.postgres
def test_postgres_the_exclusion_constraint_counts_holds(injector, flip, healthy):
    hold(injector, flip)
    with pytest.raises(IntegrityError, match="no_practitioner_overlap"), transaction.atomic():
        _raw_booking(healthy, injector, flip)


@pytest.mark.postgres
def test_postgres_a_held_patient_cannot_be_double_booked(injector, second_injector, flip, healthy):
    hold(injector, flip, patient=healthy)
    with pytest.raises(IntegrityError, match="no_patient_overlap"), transaction.atomic():
        _raw_booking(healthy, second_injector, flip)


def test_a_hold_needs_an_expiry_and_a_booking_a_patient(injector, flip):
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_booking(None, injector, flip)
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_booking(None, injector, flip, status=Appointment.Status.HELD)
