"""Demo data for a new clinic: people first, then what later apps add.

Everything here is idempotent (get-or-create by a natural key), so `make run`
can call it on every start without duplicating anything.
"""

from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from clinic import services
from clinic.medical import ALL_NO
from clinic.models import MedicalHistory, Patient, Practitioner, User
from clinic.roles import Role

DEMO_PASSWORD = "vermilion-demo"

STAFF = [
    # email, full name, role, practitioner profile (display name, credentials,
    # colour, profession, regulator, registration number, independent prescriber)
    ("manager@vermilion.test", "Jordan Reyes", Role.MANAGER, None),
    ("frontdesk@vermilion.test", "Sam Patel", Role.FRONT_DESK, None),
    (
        "dr.okafor@vermilion.test",
        "Amara Okafor",
        Role.PRACTITIONER,
        ("Dr Amara Okafor", "MBBS", "#b8325a", "doctor", "GMC", "7654321", True),
    ),
    (
        "nurse.hart@vermilion.test",
        "Ellie Hart",
        Role.PRACTITIONER,
        ("Ellie Hart RN", "RN", "#3a6ea5", "nurse", "NMC", "12A3456B", False),
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
            display_name, credentials, colour, profession, regulator, number, prescriber = profile
            Practitioner.objects.update_or_create(
                user=user,
                defaults={
                    "display_name": display_name,
                    "credentials": credentials,
                    "colour": colour,
                    "profession": profession,
                    "regulator": regulator,
                    "registration_number": number,
                    "independent_prescriber": prescriber,
                },
            )
        logins.append((str(role), email))
    return logins


# first, last, born, phone, email, portal login?, history: (months ago, changes) or None
PATIENTS = [
    ("Grace", "Whitfield", date(1991, 4, 12), "07700 900101", "patient@vermilion.test", True,
     (1, {})),
    ("Priya", "Raman", date(1987, 9, 3), "07700 900102", "priya.raman@example.test", False,
     (2, {"prescribed_anticoagulants": ["apixaban"]})),
    ("Chloe", "Dubois", date(1995, 1, 27), "07700 900103", "chloe.dubois@example.test", False,
     (3, {"pregnant_or_breastfeeding": True})),
    ("Maya", "Okonkwo", date(1999, 11, 30), "07700 900104", "maya.o@example.test", False,
     (8, {"cold_sores": True})),
    ("Zoë", "O'Brien", date(2004, 6, 15), "07700 900105", "", False, None),
]  # fmt: skip


def seed_patients(*, by, now=None):
    now = now or timezone.now()
    for first, last, born, phone, email, portal, history in PATIENTS:
        patient = Patient.objects.filter(
            first_name=first, last_name=last, date_of_birth=born
        ).first()
        if patient is None:
            patient = services.patient_create(
                created_by=by,
                first_name=first,
                last_name=last,
                date_of_birth=born,
                phone=phone,
                email=email,
                now=now,
            )
        if portal and patient.user_id is None:
            patient.user = ensure_user(email, f"{first} {last}", Role.PATIENT)
            patient.save()
        if history and not patient.histories.exists():
            months_ago, changes = history
            services.medical_history_submit(
                patient=patient,
                submitted_by=patient.user or by,
                source=MedicalHistory.Source.PATIENT if portal else MedicalHistory.Source.STAFF,
                now=now - timedelta(days=30 * months_ago),
                **{**ALL_NO, **changes},
            )
    return [("Patient", email) for *_, email, portal, _ in PATIENTS if portal]


def seed_demo():
    """Everything `manage.py seed_demo` creates; returns (role, email) logins."""
    from bookings.demo import seed_appointments, seed_schedules
    from treatments.demo import seed_kit, seed_prescriptions, seed_stock, seed_treatment

    logins = seed_people()
    practitioner = User.objects.get(email=STAFF[2][0])
    logins += seed_patients(by=practitioner)
    seed_stock(by=User.objects.get(email=STAFF[0][0]))
    seed_kit(by=practitioner)
    seed_schedules()
    seed_appointments(by=User.objects.get(email=STAFF[1][0]))
    seed_prescriptions(password=DEMO_PASSWORD)
    seed_treatment(password=DEMO_PASSWORD)
    return logins
