import pytest
from django.contrib.auth.models import Group, Permission

from clinic.models import User
from clinic.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_migrations_create_the_four_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Front desk",
        "Practitioner",
        "Manager",
        "Patient",
    }


def test_managers_can_manage_staff_accounts_and_others_cannot():
    def perms(role):
        return set(Permission.objects.filter(group__name=role).values_list("codename", flat=True))

    assert {"add_user", "change_user", "add_practitioner"} <= perms("Manager")
    for role in ("Front desk", "Practitioner", "Patient"):
        assert "add_user" not in perms(role)


def test_user_roles_follow_groups_in_priority_order():
    user = UserFactory(role=Role.MANAGER)
    user.groups.add(Group.objects.get(name="Practitioner"))
    user = type(user).objects.get(pk=user.pk)
    assert user.roles == [Role.PRACTITIONER, Role.MANAGER]
    assert user.primary_role == Role.PRACTITIONER


def test_superuser_counts_as_manager():
    user = UserFactory(is_superuser=True)
    assert user.roles == [Role.MANAGER]


def test_emails_are_stored_lower_case():
    created = User.objects.create_user("Mixed@Example.TEST", "pw", full_name="M")
    assert created.email == "mixed@example.test"
