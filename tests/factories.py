import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from clinic.medical import ALL_NO
from clinic.models import MedicalHistory, Patient, Practitioner, User
from clinic.roles import Role
from treatments.models import Lot, Product

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


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = datetime.date(1990, 5, 17)
    phone = factory.Sequence(lambda n: f"07700 9{n:05d}")
    email = factory.LazyAttributeSequence(lambda p, n: f"patient{n}@example.test")


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
