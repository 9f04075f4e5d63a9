import pytest

from clinic.roles import Role
from tests.factories import PatientFactory, PractitionerFactory, UserFactory


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
