from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from treatments import services
from treatments.models import Lot, Procedure, Product, ProductDose
from treatments.rules import Agent

pytestmark = pytest.mark.django_db
NOW = datetime.fromisoformat("2026-11-26T10:00:00+00:00")


@pytest.fixture
def flip():
    return Procedure.objects.get(code="lip-flip")


@pytest.fixture
def filler():
    return Procedure.objects.get(code="lip-filler")


@pytest.fixture
def combined():
    return Procedure.objects.get(code="lip-flip-and-filler")


def test_a_fresh_database_has_the_three_procedures(flip, filler, combined):
    assert flip.agents == {Agent.TOXIN}
    assert filler.agents == {Agent.FILLER}
    assert combined.agents == {Agent.TOXIN, Agent.FILLER}
    assert set(combined.components.all()) == {flip, filler}
    for procedure in (flip, filler):
        assert procedure.postcare_lines(), procedure
        assert (procedure.precare_min_days, procedure.precare_recommended_days) == (3, 4)


def test_combined_durations_derive_from_the_parts(combined):
    timing = combined.timing
    assert (timing.chair_minutes, timing.buffer_minutes) == (15 + 45, 15)
    assert timing.occupied_minutes == 75


def test_combined_durations_can_be_set(combined):
    combined.chair_minutes, combined.buffer_minutes = 50, 5
    assert (combined.timing.chair_minutes, combined.timing.buffer_minutes) == (50, 5)


def test_combined_takes_the_longest_pre_care_window_of_its_parts(combined, filler):
    filler.precare_min_days, filler.precare_recommended_days = 5, 7
    filler.save()
    combined = Procedure.objects.with_parts().get(pk=combined.pk)
    assert (combined.timing.precare_min_days, combined.timing.precare_recommended_days) == (5, 7)
    combined.precare_min_days = 2  # a shorter setting never wins over a part
    assert combined.timing.precare_min_days == 5


def test_combined_aftercare_joins_both_without_repeating(combined, flip, filler):
    lines = combined.postcare_lines()
    assert set(lines) == set(flip.postcare_lines()) | set(filler.postcare_lines())
    assert len(lines) == len(set(lines))


def test_a_single_procedure_needs_its_timings(flip):
    flip.chair_minutes = None
    with pytest.raises(ValidationError, match="chair time"):
        flip.full_clean()


def test_recommended_window_cannot_be_shorter_than_the_minimum(flip):
    flip.precare_recommended_days = 2
    with pytest.raises(ValidationError, match="cannot be shorter than the minimum"):
        flip.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        flip.save()


def test_products_units_and_doses():
    botox, dysport = Product.objects.get(name="Botox Cosmetic"), Product.objects.get(name="Dysport")
    assert (botox.unit, dysport.unit) == ("U", "U")
    assert dysport.botox_equivalent(Decimal("15")) == Decimal("6.0")
    assert botox.botox_equivalent(Decimal("6")) == Decimal("6.0")
    assert Product.objects.get(name="Restylane Kysse").botox_equivalent(1) is None
    assert dysport.contains_cows_milk_protein and not botox.contains_cows_milk_protein
    assert Product.objects.filter(agent=Agent.FILLER, unit="mL").count() == 4
    dose = ProductDose.objects.get(product=botox, procedure__code="lip-flip")
    assert (dose.typical, dose.maximum) == (Decimal("6"), Decimal("10"))


def receive(manager, **changes):
    fields = {
        "product": Product.objects.get(name="Botox Cosmetic"),
        "lot_number": " c3791ac4 ",
        "expiry_date": date(2027, 12, 31),
        "quantity": Decimal("100"),
    }
    fields.update(changes)
    return services.lot_receive(received_by=manager, now=NOW, **fields)


def test_a_delivery_creates_a_lot(manager):
    lot = receive(manager)
    assert (lot.lot_number, lot.quantity_received, lot.quantity_remaining) == ("C3791AC4", 100, 100)
    assert lot.received_on == date(2026, 11, 26)


def test_a_second_delivery_of_the_same_lot_adds_to_it(manager):
    receive(manager)
    lot = receive(manager, quantity=Decimal("200"))
    assert (lot.quantity_received, lot.quantity_remaining) == (300, 300)
    assert Lot.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"expiry_date": date(2026, 11, 25)}, "lot_already_expired"),
        ({"quantity": Decimal("0")}, "quantity_not_positive"),
    ],
)
def test_bad_deliveries_are_refused(manager, changes, code):
    with pytest.raises(ValidationError) as exc:
        receive(manager, **changes)
    assert exc.value.code == code
    assert not Lot.objects.exists()


def test_a_lot_expiring_today_is_still_accepted(manager):
    assert receive(manager, expiry_date=date(2026, 11, 26)).pk


def test_same_lot_with_another_expiry_is_refused(manager):
    receive(manager)
    with pytest.raises(ValidationError) as exc:
        receive(manager, expiry_date=date(2028, 1, 31))
    assert exc.value.code == "lot_expiry_mismatch"
    assert Lot.objects.get().quantity_received == 100


def test_manager_records_a_delivery_through_the_form(client, manager):
    client.force_login(manager)
    product = Product.objects.get(name="Restylane Kysse")
    response = client.post(
        reverse("treatments:lot_receive"),
        {
            "product": product.pk,
            "lot_number": "18743-1",
            "expiry_date": "2028-01-31",
            "quantity": "5",
        },
    )
    assert response.status_code == 302
    assert Lot.objects.get().quantity_remaining == 5
    stock = client.get(reverse("treatments:stock")).content.decode()
    assert "18743-1" in stock


def test_an_expired_delivery_is_marked_on_the_expiry_field(client, manager):
    client.force_login(manager)
    product = Product.objects.get(name="Restylane Kysse")
    response = client.post(
        reverse("treatments:lot_receive"),
        {"product": product.pk, "lot_number": "X", "expiry_date": "2020-01-31", "quantity": "5"},
    )
    assert "expired on 31 Jan 2020" in response.context["form"].errors["expiry_date"][0]
    assert not Lot.objects.exists()


@pytest.mark.parametrize("persona", ["front_desk", "practitioner"])
def test_only_managers_record_deliveries(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(getattr(user, "user", user))
    assert client.get(reverse("treatments:lot_receive")).status_code == 403


def test_practitioners_see_stock_and_front_desk_does_not(client, practitioner, front_desk):
    client.force_login(practitioner.user)
    assert client.get(reverse("treatments:stock")).status_code == 200
    client.force_login(front_desk)
    assert client.get(reverse("treatments:stock")).status_code == 403


def test_catalog_page(client, manager):
    client.force_login(manager)
    page = client.get(reverse("treatments:catalog")).content.decode()
    assert "Lip flip and filler" in page
    assert "60 min" in page
