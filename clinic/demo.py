"""Demo data for a new clinic: people first, then what later apps add.

Everything here is idempotent (get-or-create by a natural key), so `make run`
can call it on every start without duplicating anything.
"""

from django.contrib.auth.models import Group
from django.db import transaction

from clinic.models import Practitioner, User
from clinic.roles import Role

DEMO_PASSWORD = "vermilion-demo"

STAFF = [
    # email, full name, role, practitioner profile (display name, credentials, colour)
    ("manager@vermilion.test", "Jordan Reyes", Role.MANAGER, None),
    ("frontdesk@vermilion.test", "Sam Patel", Role.FRONT_DESK, None),
    (
        "dr.okafor@vermilion.test",
        "Amara Okafor",
        Role.PRACTITIONER,
        ("Dr Amara Okafor", "MBBS, GMC 7654321", "#b8325a"),
    ),
    (
        "nurse.hart@vermilion.test",
        "Ellie Hart",
        Role.PRACTITIONER,
        ("Ellie Hart RN", "RN, NMC 12A3456B, independent prescriber", "#3a6ea5"),
    ),
]


def ensure_user(email, full_name, role, *, password=DEMO_PASSWORD):
    user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
    if created:
        user.set_password(password)
    user.is_staff = role == Role.MANAGER
    user.save()
    user.groups.add(Group.objects.get(name=str(role)))
    return user


@transaction.atomic
def seed_people():
    logins = []
    for email, full_name, role, profile in STAFF:
        user = ensure_user(email, full_name, role)
        if profile:
            display_name, credentials, colour = profile
            Practitioner.objects.update_or_create(
                user=user,
                defaults={
                    "display_name": display_name,
                    "credentials": credentials,
                    "colour": colour,
                },
            )
        logins.append((str(role), email))
    return logins


def seed_demo():
    """Everything `manage.py seed_demo` creates; returns (role, email) logins."""
    return seed_people()
