"""The emergency kit (issue 18): hyaluronidase and adrenaline as tracked
medicines with lots, a kit check on the clinic's schedule, and no filler
treatment starting without a checked kit and in-date hyaluronidase."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from clinic.db import RecordIsFinal
from tests.helpers import at
from tests.treatments.test_records import D5, DAY, ready
from treatments import services
from treatments.models import KitCheck, KitCheckItem, KitLot, KitMedicine, KitSettings

pytestmark = [pytest.mark.django_db, pytest.mark.real_kit]


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


def medicine(kind):
    return KitMedicine.objects.get(kind=kind)


def deliver(kind, *, items=2, expiry=date(2027, 6, 1), number=None, by):
    return services.kit_lot_receive(
        medicine=medicine(kind),
        lot_number=number or f"{kind[:3].upper()}1",
        expiry_date=expiry,
        quantity=items,
        received_by=by,
        now=DAY,
    )


def check(by, *, now=DAY, short=(), note=""):
    counts = {m.pk: (0 if m.kind in short else m.needed) for m in KitMedicine.objects.all()}
    return services.kit_check_record(by=by, counts=counts, note=note, now=now)


@pytest.fixture
def stocked(practitioner):
    deliver("hyaluronidase", by=practitioner.user)
    deliver("adrenaline", by=practitioner.user)


def start_codes(appointment, by):
    with pytest.raises(ValidationError) as exc:
        services.treatment_start(appointment=appointment, by=by, now=DAY)
    return [e.code for e in exc.value.error_list]


def test_the_kit_lists_hyaluronidase_and_adrenaline_from_the_migration():
    kinds = dict(KitMedicine.objects.values_list("kind", "needed"))
    assert kinds == {"hyaluronidase": 2, "adrenaline": 2}
    assert KitSettings.current().check_every_days == 7
    assert not KitSettings.objects.exists()  # a read writes nothing


# The gate at the chair


def test_filler_start_is_refused_with_the_kit_never_checked(healthy, injector, filler, stocked):
    appointment = ready(healthy, injector, filler)
    assert start_codes(appointment, injector.user) == ["kit_never_checked"]


def test_filler_start_is_refused_when_the_kit_check_is_overdue(healthy, injector, filler, stocked):
    check(injector.user, now=DAY - timedelta(days=8))
    appointment = ready(healthy, injector, filler)
    assert start_codes(appointment, injector.user) == ["kit_check_overdue"]


def test_filler_starts_on_the_last_day_of_the_schedule(healthy, injector, filler, stocked):
    check(injector.user, now=DAY - timedelta(days=7))
    record = services.treatment_start(
        appointment=ready(healthy, injector, filler), by=injector.user, now=DAY
    )
    assert record.pk


def test_the_clinics_schedule_decides_when_the_check_is_due(healthy, injector, filler, stocked):
    KitSettings(check_every_days=1).save()
    check(injector.user, now=DAY - timedelta(days=2))
    appointment = ready(healthy, injector, filler)
    assert start_codes(appointment, injector.user) == ["kit_check_overdue"]


def test_filler_start_is_refused_without_in_date_hyaluronidase(healthy, injector, filler):
    deliver("hyaluronidase", by=injector.user, expiry=D5, items=1)  # in date today only
    deliver("adrenaline", by=injector.user)
    check(injector.user)
    KitLot.objects.filter(medicine__kind="hyaluronidase").update(expiry_date=D5 - timedelta(1))
    appointment = ready(healthy, injector, filler)
    assert start_codes(appointment, injector.user) == ["kit_no_hyaluronidase"]


def test_a_check_that_found_adrenaline_short_refuses_filler(healthy, injector, filler, stocked):
    check(injector.user, short=("adrenaline",), note="Ordered two ampoules.")
    appointment = ready(healthy, injector, filler)
    with pytest.raises(ValidationError) as exc:
        services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
    assert exc.value.code == "kit_incomplete"
    assert "Adrenaline 1 mg/mL (1:1000)" in exc.value.messages[0]
    check(injector.user)  # restocked and checked again
    assert services.treatment_start(appointment=appointment, by=injector.user, now=DAY).pk


def test_toxin_alone_does_not_wait_for_the_kit(healthy, injector, flip):
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    assert record.pk


def test_a_combined_procedure_needs_the_kit(healthy, injector, combined):
    appointment = ready(healthy, injector, combined)
    assert "kit_never_checked" in start_codes(appointment, injector.user)


def test_the_refusal_is_said_on_the_practitioners_page(client, healthy, injector, filler, stocked):
    appointment = ready(healthy, injector, filler)
    client.force_login(injector.user)
    response = client.post(reverse("treatments:record_start", args=[appointment.pk]), follow=True)
    assert "the emergency kit has never been checked" in response.content.decode()


# Kit checks


def test_a_kit_check_records_each_item_and_who_and_when(practitioner, stocked):
    kit_check = check(practitioner.user)
    assert (kit_check.complete, kit_check.checked_by, kit_check.checked_at) == (
        True,
        practitioner.user,
        DAY,
    )
    assert kit_check.checked_on == D5
    assert sorted(kit_check.items.values_list("in_date", "needed")) == [(2, 2), (2, 2)]


def test_a_short_item_needs_a_note_saying_what_was_done(practitioner):
    with pytest.raises(ValidationError) as exc:
        check(practitioner.user, short=("hyaluronidase",))
    assert exc.value.code == "kit_short_note_needed"
    assert not KitCheck.objects.exists()  # nothing half-saved
    kit_check = check(practitioner.user, short=("hyaluronidase",), note="Two vials ordered.")
    assert not kit_check.complete


@pytest.mark.parametrize(
    ("count", "code"),
    [(None, "kit_count_missing"), (-1, "kit_count_out_of_range"), (1000, "kit_count_out_of_range")],
)
def test_a_count_must_be_given_for_every_item(practitioner, count, code):
    counts = {m.pk: 2 for m in KitMedicine.objects.all()}
    counts[medicine("adrenaline").pk] = count
    with pytest.raises(ValidationError) as exc:
        services.kit_check_record(by=practitioner.user, counts=counts, now=DAY)
    assert exc.value.code == code
    assert not KitCheck.objects.exists()


def test_an_inactive_medicine_is_not_checked(practitioner):
    KitMedicine.objects.filter(kind="adrenaline").update(is_active=False)
    kit_check = services.kit_check_record(
        by=practitioner.user, counts={medicine("hyaluronidase").pk: 2}, now=DAY
    )
    assert kit_check.items.count() == 1


def test_a_kit_check_never_changes(practitioner):
    kit_check = check(practitioner.user)
    with pytest.raises(RecordIsFinal):
        kit_check.save()
    with pytest.raises(RecordIsFinal):
        KitCheckItem.objects.all().delete()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE treatments_kitcheck SET complete = NOT complete",
        "DELETE FROM treatments_kitcheckitem",
    ],
)
def test_postgres_refuses_changes_to_a_kit_check(practitioner, sql):
    check(practitioner.user)
    with (
        pytest.raises(IntegrityError, match="record is final"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


# Deliveries


def test_a_delivery_adds_to_a_lot_seen_before(practitioner):
    deliver("hyaluronidase", by=practitioner.user, items=2)
    lot = deliver("hyaluronidase", by=practitioner.user, items=1)
    assert (lot.quantity_received, lot.quantity_remaining) == (3, 3)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"expiry": D5 - timedelta(days=1)}, "lot_already_expired"),
        ({"items": 0}, "quantity_not_positive"),
        ({"number": "  "}, "lot_number_missing"),
    ],
)
def test_a_bad_delivery_is_refused(practitioner, changes, code):
    with pytest.raises(ValidationError) as exc:
        deliver("adrenaline", by=practitioner.user, **changes)
    assert exc.value.code == code
    assert not KitLot.objects.exists()


def test_kit_state_reads_in_a_fixed_number_of_queries(
    practitioner, stocked, django_assert_max_num_queries
):
    check(practitioner.user, short=("adrenaline",), note="Ordered.")
    with django_assert_max_num_queries(4):
        state = services.kit_state(DAY)
    assert (state.checked_on, state.short, state.hyaluronidase_in_date) == (
        D5,
        ("Adrenaline 1 mg/mL (1:1000)",),
        2,
    )


# The pages


def test_the_kit_page_says_what_stops_filler_and_the_check_clears_it(client, practitioner, stocked):
    client.force_login(practitioner.user)
    page = client.get(reverse("treatments:kit")).content.decode()
    assert "Filler treatments cannot start" in page
    data = {f"count_{m.pk}": m.needed for m in KitMedicine.objects.all()}
    response = client.post(reverse("treatments:kit"), {**data, "note": ""}, follow=True)
    page = response.content.decode()
    assert "Kit check recorded: everything present and in date." in page
    assert "Ready: checked on" in page
    assert KitCheck.objects.get().checked_by == practitioner.user


def test_the_kit_page_keeps_what_was_typed_when_a_count_is_missing(client, practitioner):
    client.force_login(practitioner.user)
    hyal = medicine("hyaluronidase")
    response = client.post(reverse("treatments:kit"), {f"count_{hyal.pk}": "1", "note": "x"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required" in page
    assert 'value="1"' in page
    assert not KitCheck.objects.exists()


def test_a_short_check_on_the_page_asks_for_the_note_under_it(client, practitioner):
    client.force_login(practitioner.user)
    data = {f"count_{m.pk}": 0 for m in KitMedicine.objects.all()}
    response = client.post(reverse("treatments:kit"), data)
    assert "Say in the note what you have done about it" in response.content.decode()
    assert not KitCheck.objects.exists()


def test_a_delivery_on_the_page(client, practitioner):
    client.force_login(practitioner.user)
    data = {
        "medicine": medicine("hyaluronidase").pk,
        "lot_number": "hy77",
        "expiry_date": "2027-05-01",
        "quantity": "3",
    }
    response = client.post(reverse("treatments:kit_receive"), data, follow=True)
    assert "Recorded: Hyaluronidase 1500 IU lot HY77, 3 in stock." in response.content.decode()
    response = client.post(reverse("treatments:kit_receive"), {**data, "expiry_date": "2026-01-01"})
    assert "This lot expired on 01 Jan 2026" in response.content.decode()


def test_my_day_warns_while_no_filler_can_start(client, practitioner, stocked):
    client.force_login(practitioner.user)
    page = client.get(reverse("practitioner_home")).content.decode()
    assert 'id="kit-alert"' in page
    check(practitioner.user)
    page = client.get(reverse("practitioner_home")).content.decode()
    assert 'id="kit-alert"' not in page


def test_the_front_desk_cannot_open_the_kit(client, front_desk):
    client.force_login(front_desk)
    assert client.get(reverse("treatments:kit")).status_code == 403
    assert client.post(reverse("treatments:kit_receive")).status_code == 403


def test_the_demo_clinic_has_a_ready_kit(practitioner):
    from treatments.demo import seed_kit

    seed_kit(by=practitioner.user, now=DAY)
    seed_kit(by=practitioner.user, now=DAY)  # twice: nothing doubled
    state = services.kit_state(at(D5, "12:00"))
    assert (state.checked_on, state.short, state.hyaluronidase_in_date) == (
        D5 - timedelta(days=1),
        (),
        3,
    )
