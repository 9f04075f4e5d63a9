"""Medicines as the UK has them (issue 17, first part): the UK toxins with
their conversions, toxins as prescription-only, no non-lip filler, and the
practitioners' registration on records."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clinic.models import Practitioner
from tests.factories import PASSWORD, LotFactory
from tests.treatments.test_records import DAY, add, complete, ready, refused
from treatments import services
from treatments.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


def test_the_uk_toxins_and_their_conversions():
    toxins = {p.name: p for p in Product.objects.filter(agent="toxin")}
    assert {"Vistabel", "Azzalure", "Bocouture"} <= set(toxins)
    assert toxins["Azzalure"].botox_equivalent(25) == Decimal("10.0")
    assert toxins["Vistabel"].botox_equivalent(6) == Decimal("6.0")
    assert toxins["Azzalure"].contains_cows_milk_protein
    assert all(p.needs_prescription for p in toxins.values())
    assert not Product.objects.filter(agent="filler", needs_prescription=True).exists()


def test_restylane_lyft_is_kept_but_not_a_lip_product(healthy, injector, filler):
    lyft = Product.objects.get(name="Restylane Lyft with Lidocaine")
    assert (lyft.for_lips, lyft.is_active) == (False, False)
    record = services.treatment_start(
        appointment=ready(healthy, injector, filler), by=injector.user, now=DAY
    )
    lot = LotFactory(product=lyft, lot_number="LYFT1", quantity_received=Decimal("2"))
    refused(
        "not_for_lips",
        add,
        record=record,
        lot=lot,
        site="FB-UL",
        amount="0.5",
        depth="submucosal",
        needle="30G needle",
    )


def test_uk_toxins_add_up_as_botox_equivalent(healthy, injector, flip):
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    vistabel = LotFactory(product=Product.objects.get(name="Vistabel"), lot_number="V1")
    azzalure = LotFactory(
        product=Product.objects.get(name="Azzalure"), lot_number="A1", quantity_received=125
    )
    add(record, vistabel, amount="10")
    add(record, azzalure, site="TX-L1", amount="25")
    complete(record)
    refused(
        "reason_required",
        services.treatment_sign,
        record=record,
        by=injector.user,
        password=PASSWORD,
        now=DAY,
    )


def test_a_practitioners_registration(injector):
    injector.profession = Practitioner.Profession.NURSE
    injector.regulator = "NMC"
    injector.registration_number = "12A3456B"
    injector.independent_prescriber = True
    injector.full_clean()
    assert injector.registration == "NMC 12A3456B, independent prescriber"
    injector.profession = Practitioner.Profession.OTHER
    with pytest.raises(ValidationError) as exc:
        injector.full_clean()
    assert "independent_prescriber" in exc.value.message_dict


def test_outside_the_uk_no_uk_toxins_are_seeded(settings):
    from importlib import import_module

    from django.apps import apps

    Product.objects.filter(name__in=["Vistabel", "Azzalure", "Bocouture"]).delete()
    settings.CATALOG_COUNTRY = "US"
    import_module("treatments.migrations.0009_uk_catalog").catalog(apps, None)
    assert not Product.objects.filter(name="Vistabel").exists()
    settings.CATALOG_COUNTRY = "GB"
    import_module("treatments.migrations.0009_uk_catalog").catalog(apps, None)
    assert Product.objects.filter(name="Vistabel").exists()
