import pytest

from clinic.roles import Role
from tests.factories import PractitionerFactory, UserFactory


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
