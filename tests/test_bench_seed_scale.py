"""bench/seed_scale.py: the data the benchmarks run on must be valid (the
same rules the services enforce) and the same for the same seed."""

import io
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from bench import seed_scale
from bookings.models import Appointment
from clinic.models import Patient
from treatments.models import ConsentSignature, TreatmentRecord

SIZES = {"practitioners": 3, "patients": 80, "appointments": 600, "seed": 7}


def seed(**options):
    call_command(seed_scale.Command(), **{**SIZES, **options}, stdout=io.StringIO())


def snapshot():
    return list(
        Appointment.objects.order_by("starts_at", "practitioner__display_name").values_list(
            "patient__phone", "practitioner__display_name", "procedure__code", "starts_at", "status"
        )
    )


def no_overlaps(rows):
    """rows: (who, start, end) of active appointments."""
    by_who = defaultdict(list)
    for who, start, end in rows:
        by_who[who].append((start, end))
    for spans in by_who.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end


@pytest.mark.django_db
def test_seed_scale_makes_a_valid_clinic_and_the_same_one_for_a_seed():
    with transaction.atomic():
        seed()
        first = snapshot()
        transaction.set_rollback(True)
    seed()
    assert snapshot() == first

    assert (Patient.objects.count(), Appointment.objects.count()) == (80, 600)
    active = Appointment.objects.active()
    for who in ("practitioner_id", "patient_id"):
        no_overlaps(active.values_list(who, "starts_at", "blocked_until"))
    assert not Appointment.objects.filter(starts_at__week_day=1).exists()  # Sundays closed
    assert Appointment.objects.filter(status="booked").count() <= 600 // 5

    records = TreatmentRecord.objects.prefetch_related("lines__lot")
    assert records and all(r.status == "signed" for r in records)
    for record in records:
        assert record.appointment.status == "completed"
        lines = list(record.lines.all())
        assert len(lines) == 3
        for line in lines:
            assert line.lot.product_id == line.product_id
            assert line.lot.received_on <= record.started_at.date() < line.lot.expiry_date
        assert ConsentSignature.objects.filter(
            appointment=record.appointment, kind="signed"
        ).exists()


@pytest.mark.django_db
def test_seed_scale_refuses_a_database_with_patients(patient):
    with pytest.raises(CommandError, match="empty database"):
        seed()
