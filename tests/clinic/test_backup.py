"""A backup taken, the database changed, the backup restored: every record is
back, exactly as it was (signed records still verify)."""

from datetime import date

import pytest
from django.core.management import call_command

from bookings.models import Appointment
from clinic.models import MedicalHistory, Patient
from tests.factories import PatientFactory
from tests.helpers import at, book, history, sign_consents
from treatments.models import ConsentSignature


def snapshot():
    return {
        "patients": sorted(Patient.objects.values_list("pk", "last_name")),
        "histories": MedicalHistory.objects.count(),
        "appointments": sorted(Appointment.objects.values_list("pk", "status", "starts_at")),
        "consents": sorted(ConsentSignature.objects.values_list("pk", "record_sha256")),
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_and_restore_brings_back_every_record(healthy, injector, flip, tmp_path):
    appointment = book(healthy, injector, flip, at(date(2026, 12, 1), "10:00"))
    sign_consents(appointment)
    before = snapshot()
    path = tmp_path / "backup"
    call_command("backup", output=str(path))
    assert path.stat().st_size > 0

    newcomer = PatientFactory(last_name="Afterwards")
    history(newcomer)
    assert snapshot() != before

    call_command("restore", str(path), yes=True)
    assert snapshot() == before
    assert not Patient.objects.filter(last_name="Afterwards").exists()
    assert all(record.verify() for record in ConsentSignature.objects.all())


def test_restore_refuses_a_missing_file(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="There is no backup"):
        call_command("restore", str(tmp_path / "nothing"), yes=True)
