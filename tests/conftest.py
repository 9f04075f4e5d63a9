import importlib
from datetime import datetime, time

import pytest

from clinic.roles import Role
from tests.factories import (
    MedicalHistoryFactory,
    PatientFactory,
    PractitionerFactory,
    UserFactory,
)
from tests.helpers import LONDON, every_day
from treatments.models import Procedure


@pytest.fixture(autouse=True)
def emergency_kit_ready(request, monkeypatch):
    """Filler starts need a checked emergency kit (issue 18). Tests about
    something else see a kit checked today with hyaluronidase in stock;
    tests marked `real_kit` read the kit from the database."""
    if request.node.get_closest_marker("real_kit"):
        return
    from django.utils import timezone

    from treatments.safety.engine import KitState

    def ready(now):
        return KitState(timezone.localdate(now), 7, (), 2)

    monkeypatch.setattr("treatments.services.records.kit_state", ready)
    # The package exports the view `kit`, which hides the module's name.
    monkeypatch.setattr(importlib.import_module("treatments.views.kit"), "kit_state", ready)


@pytest.fixture
def front_desk(db):
    return UserFactory(full_name="Fran Desk", role=Role.FRONT_DESK)


@pytest.fixture
def practitioner(db):
    return PractitionerFactory(user__full_name="Pat Injector")


@pytest.fixture
def other_practitioner(db):
    return PractitionerFactory(user__full_name="Olly Other")


@pytest.fixture
def manager(db):
    return UserFactory(full_name="Mona Manager", role=Role.MANAGER, is_staff=True)


@pytest.fixture
def patient_user(db):
    return UserFactory(full_name="Alice Patient", role=Role.PATIENT)


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def patient(db):
    return PatientFactory(first_name="Alice", last_name="Patient")


@pytest.fixture
def patient_a(patient_user):
    return PatientFactory(first_name="Alice", last_name="Patient", user=patient_user)


@pytest.fixture
def patient_b(db):
    other = UserFactory(full_name="Bob Other", role=Role.PATIENT)
    return PatientFactory(first_name="Bob", last_name="Other", user=other)


# Schedules, procedures and a healthy patient, for bookings and after


@pytest.fixture
def clinic_hours(db):
    every_day(None, (time(8), time(20)))


@pytest.fixture
def injector(practitioner, clinic_hours):
    """A practitioner working every day 09:00-13:00 and 14:00-17:00."""
    every_day(practitioner, (time(9), time(13)), (time(14), time(17)))
    return practitioner


@pytest.fixture
def second_injector(other_practitioner, clinic_hours):
    every_day(other_practitioner, (time(9), time(17)))
    return other_practitioner


@pytest.fixture
def flip(db):
    return Procedure.objects.with_parts().get(code="lip-flip")


@pytest.fixture
def filler(db):
    return Procedure.objects.with_parts().get(code="lip-filler")


@pytest.fixture
def combined(db):
    return Procedure.objects.with_parts().get(code="lip-flip-and-filler")


@pytest.fixture
def healthy(db):
    """A patient whose medical history is current and clear."""
    patient = PatientFactory(first_name="Hana", last_name="Healthy")
    MedicalHistoryFactory(patient=patient, submitted_at=datetime(2026, 11, 1, tzinfo=LONDON))
    return patient
