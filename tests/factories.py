import datetime
import hashlib
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from clinic.medical import ALL_NO
from clinic.models import MedicalHistory, Patient, Practitioner, User
from clinic.roles import Role
from treatments.models import (
    Lot,
    PrescriberAssessment,
    Prescription,
    PrescriptionItem,
    Product,
)

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=str(extracted)))


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner

    user = factory.SubFactory(UserFactory, role=Role.PRACTITIONER)
    display_name = factory.LazyAttribute(lambda p: p.user.full_name)
    credentials = "RN, NMC 00A0000A"


def standing_prescriber():
    """One doctor for the whole test database who prescribes and never treats
    (not taking bookings, no role): the prescriber of standing prescriptions."""
    user, _ = User.objects.get_or_create(
        email="standing.prescriber@example.test", defaults={"full_name": "Dr Standing Rx"}
    )
    prescriber, _ = Practitioner.objects.get_or_create(
        user=user,
        defaults={
            "display_name": "Dr Standing Rx",
            "profession": Practitioner.Profession.DOCTOR,
            "regulator": Practitioner.Regulator.GMC,
            "registration_number": "0000000",
            "independent_prescriber": True,
            "is_active": False,
            "online_booking": False,
        },
    )
    return prescriber


def standing_prescription(patient, *, most=Decimal("999"), until=datetime.date(2030, 12, 31)):
    """A prescription for every prescription-only product (toxin), valid from
    1 January 2026 to `until`, so that tests about something else can give
    toxin. Tests about prescriptions make patients with `prescribed=False`."""
    prescriber = standing_prescriber()
    written_at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    assessment = PrescriberAssessment.objects.create(
        patient=patient,
        prescriber=prescriber,
        mode=PrescriberAssessment.Mode.IN_PERSON,
        assessed_at=written_at,
        findings="Seen face to face: suitable for a lip flip.",
    )
    prescription = Prescription(
        patient=patient,
        prescriber=prescriber,
        assessment=assessment,
        written_at=written_at,
        valid_until=until,
        prescriber_registration=f"{prescriber}, {prescriber.registration}",
    )
    items = [
        PrescriptionItem(prescription=prescription, product=product, most_per_session=most)
        for product in Product.objects.filter(needs_prescription=True)
    ]
    prescription.content_sha256 = hashlib.sha256(prescription.content(items).encode()).hexdigest()
    prescription.save()
    for item in items:
        item.prescription = prescription
        item.save()
    return prescription


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = datetime.date(1990, 5, 17)
    phone = factory.Sequence(lambda n: f"07700 9{n:05d}")
    email = factory.LazyAttributeSequence(lambda p, n: f"patient{n}@example.test")

    @factory.post_generation
    def prescribed(self, create, extracted, **kwargs):
        if create and extracted is not False:
            standing_prescription(self)


class MedicalHistoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicalHistory

    patient = factory.SubFactory(PatientFactory)
    submitted_by = factory.SubFactory(UserFactory)
    source = MedicalHistory.Source.STAFF

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return super()._create(model_class, *args, **{**ALL_NO, **kwargs})


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    product = factory.LazyFunction(lambda: Product.objects.get(name="Botox Cosmetic"))
    lot_number = factory.Sequence(lambda n: f"LOT{n:05d}")
    expiry_date = datetime.date(2030, 1, 31)
    quantity_received = Decimal("100")
    quantity_remaining = factory.SelfAttribute("quantity_received")
    received_on = datetime.date(2026, 1, 1)
    received_by = factory.SubFactory(UserFactory)
