"""Complication records (issue 18): opened from a treatment record, a step
per tap with the server's time, hyaluronidase drawn from kit lots (stock
used up, expired lots refused), signed and frozen; addenda after."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from clinic.db import RecordIsFinal
from clinic.models import AuditEvent
from tests.factories import PASSWORD
from tests.treatments.test_records import DAY, add, ready
from treatments import services
from treatments.models import Complication, ComplicationStep, KitLot, KitMedicine, Lot, Product

pytestmark = pytest.mark.django_db
LATER = DAY + timedelta(minutes=12)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: LATER)


@pytest.fixture
def record(healthy, injector, filler):
    record = services.treatment_start(
        appointment=ready(healthy, injector, filler), by=injector.user, now=DAY
    )
    lot = Lot.objects.create(
        product=Product.objects.get(name="Juvederm Volbella XC"),
        lot_number="VB9",
        expiry_date=date(2027, 6, 1),
        quantity_received=2,
        quantity_remaining=2,
        received_on=DAY.date(),
        received_by=injector.user,
    )
    add(record, lot, "FB-UL", amount="0.3", depth="submucosal", needle="30G needle", dilution="")
    return record


def kit_lot(kind="hyaluronidase", *, items=3, expiry=date(2027, 6, 1), number="HY1", by):
    return services.kit_lot_receive(
        medicine=KitMedicine.objects.get(kind=kind),
        lot_number=number,
        expiry_date=expiry,
        quantity=items,
        received_by=by,
        now=DAY,
    )


@pytest.fixture
def occlusion(record):
    return services.complication_open(
        record=record, kind="vascular_occlusion", by=record.practitioner.user
    )


def step(complication, kind, **fields):
    return services.complication_step(
        complication=complication, kind=kind, by=complication.opened_by, **fields
    )


def refused(code, fn, **kwargs):
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    assert exc.value.code == code, exc.value.messages
    return exc.value.messages[0]


def test_each_step_is_stamped_with_the_servers_time(occlusion):
    stopped = step(occlusion, "stopped")
    assert stopped.at == LATER and stopped.by == occlusion.opened_by
    assert occlusion.opened_at == LATER


def test_a_hyaluronidase_dose_uses_up_kit_stock(occlusion):
    lot = kit_lot(by=occlusion.opened_by)
    dose = step(occlusion, "hyaluronidase", kit_lot=lot, items=2, dose="1500 IU")
    lot.refresh_from_db()
    assert lot.quantity_remaining == 1
    assert (dose.kit_lot, dose.items, dose.dose) == (lot, 2, "1500 IU")


def test_a_dose_above_what_the_lot_holds_is_refused_and_nothing_is_used(occlusion):
    lot = kit_lot(by=occlusion.opened_by, items=1)
    refused(
        "step_dose_not_enough",
        step,
        complication=occlusion,
        kind="hyaluronidase",
        kit_lot=lot,
        items=2,
        dose="3000 IU",
    )
    lot.refresh_from_db()
    assert lot.quantity_remaining == 1
    assert not ComplicationStep.objects.exists()


def test_an_expired_kit_lot_is_refused(occlusion):
    lot = kit_lot(by=occlusion.opened_by)
    KitLot.objects.filter(pk=lot.pk).update(expiry_date=LATER.date() - timedelta(days=1))
    message = refused(
        "step_dose_expired",
        step,
        complication=occlusion,
        kind="hyaluronidase",
        kit_lot=lot,
        items=1,
        dose="1500 IU",
    )
    assert "Take an in-date one from the kit" in message


def test_an_adrenaline_lot_is_not_hyaluronidase(occlusion):
    lot = kit_lot("adrenaline", number="AD1", by=occlusion.opened_by)
    refused(
        "step_dose_wrong_lot",
        step,
        complication=occlusion,
        kind="hyaluronidase",
        kit_lot=lot,
        items=1,
        dose="1500 IU",
    )


@pytest.mark.parametrize(
    ("kind", "fields", "code"),
    [
        ("signs", {}, "step_signs_none"),
        ("signs", {"signs": ["made-up"]}, "step_signs_none"),
        ("hyaluronidase", {"items": 1, "dose": "1500 IU"}, "step_dose_lot"),
        ("escalated", {"escalated_to": "nobody"}, "step_escalation"),
        ("outcome", {}, "step_outcome"),
        ("note", {"text": "  "}, "step_text"),
        ("note", {"text": "x" * 4001}, "step_text"),
        ("adrenaline", {}, "step_not_offered"),
        ("addendum", {"text": "later"}, "complication_not_signed"),
    ],
)
def test_a_step_without_what_it_needs_is_refused(occlusion, kind, fields, code):
    refused(code, step, complication=occlusion, kind=kind, **fields)
    assert not ComplicationStep.objects.exists()


def test_signs_are_kept_in_the_listed_order(occlusion):
    signs = step(occlusion, "signs", signs=["vision", "blanching"])
    assert signs.signs == ["blanching", "vision"]


def test_signing_needs_the_outcome_and_the_password(occlusion):
    user = occlusion.opened_by
    refused(
        "complication_sign_outcome",
        services.complication_sign,
        complication=occlusion,
        by=user,
        password=PASSWORD,
    )
    step(occlusion, "outcome", outcome="resolved")
    refused(
        "complication_sign_password",
        services.complication_sign,
        complication=occlusion,
        by=user,
        password="wrong",
    )
    signed = services.complication_sign(
        complication=occlusion, by=user, password=PASSWORD, summary="Blanching upper lip."
    )
    assert signed.is_signed and signed.verify() and signed.outcome == "resolved"


def test_a_signed_record_is_frozen_and_takes_addenda_only(occlusion):
    user = occlusion.opened_by
    step(occlusion, "stopped")
    step(occlusion, "outcome", outcome="improving")
    signed = services.complication_sign(complication=occlusion, by=user, password=PASSWORD)
    refused("complication_signed", step, complication=signed, kind="stopped")
    refused(
        "complication_sign_password",
        step,
        complication=signed,
        kind="addendum",
        text="Seen next day: colour back.",
        password="nope",
    )
    step(signed, "addendum", text="Seen next day: colour back.", password=PASSWORD)
    signed.refresh_from_db()
    assert signed.verify()  # the addendum is outside the signed content
    with pytest.raises(RecordIsFinal):
        signed.save()
    with pytest.raises(RecordIsFinal):
        Complication.objects.filter(pk=signed.pk).update(summary="x")
    with pytest.raises(RecordIsFinal):
        ComplicationStep.objects.all().delete()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE treatments_complication SET summary = 'rewritten'",
        "UPDATE treatments_complicationstep SET at = now()",
        "DELETE FROM treatments_complicationstep",
    ],
)
def test_postgres_refuses_changes_to_a_signed_complication(occlusion, sql):
    step(occlusion, "outcome", outcome="resolved")
    services.complication_sign(complication=occlusion, by=occlusion.opened_by, password=PASSWORD)
    with (
        pytest.raises(IntegrityError, match="record is final"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


def test_only_the_opener_or_a_manager_signs(occlusion, other_practitioner, manager):
    step(occlusion, "outcome", outcome="ongoing")
    other_practitioner.user.set_password(PASSWORD)
    other_practitioner.user.save()
    refused(
        "complication_signer",
        services.complication_sign,
        complication=occlusion,
        by=other_practitioner.user,
        password=PASSWORD,
    )
    manager.set_password(PASSWORD)
    manager.save()
    assert services.complication_sign(complication=occlusion, by=manager, password=PASSWORD)


def test_the_front_desk_cannot_open_one(record, front_desk):
    refused(
        "complication_not_allowed",
        services.complication_open,
        record=record,
        kind="other",
        by=front_desk,
    )


def test_an_unknown_kind_is_refused(record):
    refused(
        "complication_kind",
        services.complication_open,
        record=record,
        kind="volcano",
        by=record.practitioner.user,
    )


# The pages


def test_a_practitioner_opens_one_from_the_record_page(client, record):
    client.force_login(record.practitioner.user)
    page = client.get(record.get_absolute_url()).content.decode()
    assert 'id="complication-open"' in page
    response = client.post(
        reverse("treatments:complication_new", args=[record.pk]), {"kind": "vascular_occlusion"}
    )
    complication = Complication.objects.get()
    assert response.url == complication.get_absolute_url()
    page = client.get(response.url).content.decode()
    assert 'id="step-stopped"' in page
    assert "No in-date hyaluronidase in the kit's stock" in page  # none delivered here
    assert AuditEvent.objects.filter(what="complication record").exists()


def test_opening_without_a_kind_says_what_to_do(client, record):
    client.force_login(record.practitioner.user)
    response = client.post(
        reverse("treatments:complication_new", args=[record.pk]), {"kind": ""}, follow=True
    )
    assert "Pick what kind of complication it is" in response.content.decode()
    assert not Complication.objects.exists()


def test_the_steps_on_the_page_and_the_999_alert_on_a_vision_sign(client, occlusion):
    client.force_login(occlusion.opened_by)
    url = reverse("treatments:complication_step", args=[occlusion.pk])
    client.post(url, {"kind": "signs", "signs": ["vision", "pain"]})
    page = client.get(occlusion.get_absolute_url()).content.decode()
    assert 'id="call-999"' in page
    client.post(url, {"kind": "escalated", "escalated_to": "999"})
    page = client.get(occlusion.get_absolute_url()).content.decode()
    assert 'id="call-999"' not in page
    assert "Emergency services (999) called" in page


def test_a_refused_step_on_the_page_is_a_400_with_the_message(client, occlusion):
    client.force_login(occlusion.opened_by)
    response = client.post(
        reverse("treatments:complication_step", args=[occlusion.pk]),
        {"kind": "hyaluronidase", "items": "1", "dose": "1500 IU"},
    )
    assert response.status_code == 400
    assert "Pick the kit lot the hyaluronidase came from" in response.content.decode()


def test_a_bad_kind_posted_is_a_400_not_a_500(client, occlusion):
    client.force_login(occlusion.opened_by)
    response = client.post(
        reverse("treatments:complication_step", args=[occlusion.pk]), {"kind": "\x00"}
    )
    assert response.status_code == 400


def test_the_chart_lists_complications_of_signed_records(client, occlusion):
    record = occlusion.record
    user = record.practitioner.user
    services.record_update(record=record, by=user, anaesthetic="none", no_adverse_events=True)
    services.treatment_sign(record=record, by=user, password=PASSWORD)
    client.force_login(user)
    page = client.get(reverse("treatments:chart", args=[record.patient_id])).content.decode()
    assert "Suspected vascular occlusion" in page


def test_the_data_export_holds_the_complication(occlusion):
    from clinic.privacy.export import patient_records

    step(occlusion, "stopped")
    data = patient_records(occlusion.patient)
    assert data["complications"].count() == 1 and data["complication_steps"].count() == 1


# Follow-up


def test_opening_schedules_the_check_ins_of_its_kind_and_the_patients_messages(occlusion):
    from clinic.models import Notification

    dues = list(occlusion.check_ins.values_list("due_at", flat=True))
    assert dues == [LATER + timedelta(hours=h) for h in (1, 24, 48, 168)]
    emails = Notification.objects.filter(kind="complication_check", channel="email")
    assert sorted(emails.values_list("due_at", flat=True)) == dues
    body = emails.first().body_text
    assert "call 999" in body.lower() or "999" in body
    assert "/report/" in body


def test_a_check_in_is_on_my_day_until_done(client, occlusion, monkeypatch):
    user = occlusion.opened_by
    monkeypatch.setattr("django.utils.timezone.now", lambda: LATER + timedelta(hours=2))
    client.force_login(user)
    page = client.get(reverse("practitioner_home")).content.decode()
    assert 'id="my-check-ins"' in page
    first = occlusion.check_ins.first()
    response = client.post(
        reverse("treatments:check_in_done", args=[occlusion.pk, first.pk]),
        {"note": "Colour back, no pain, vision normal."},
        follow=True,
    )
    assert "Check-in recorded." in response.content.decode()
    page = client.get(reverse("practitioner_home")).content.decode()
    assert 'id="my-check-ins"' not in page  # the next is due tomorrow


def test_a_check_in_needs_a_note_and_is_done_once(occlusion):
    first = occlusion.check_ins.first()
    user = occlusion.opened_by
    refused("check_in_note", services.check_in_done, check_in=first, by=user, note=" ")
    services.check_in_done(check_in=first, by=user, note="Fine.")
    message = refused("check_in_done", services.check_in_done, check_in=first, by=user, note="x")
    assert "already recorded" in message


# Reporting to the regulator


@pytest.fixture
def reported_case(occlusion):
    lot = kit_lot(by=occlusion.opened_by)
    step(occlusion, "signs", signs=["blanching", "pain"])
    step(occlusion, "hyaluronidase", kit_lot=lot, items=1, dose="1500 IU")
    step(occlusion, "escalated", escalated_to="eye")
    step(occlusion, "outcome", outcome="improving")
    return services.complication_sign(
        complication=occlusion,
        by=occlusion.opened_by,
        password=PASSWORD,
        summary="Blanching of the upper lip minutes after filler.",
        patient_sex="female",
    )


def test_the_yellow_card_summary_holds_each_field(reported_case):
    summary = services.incident_summary(reported_case)
    patient = reported_case.patient
    assert summary["patient_initials"] == (patient.first_name[0] + patient.last_name[0]).upper()
    assert summary["patient_age"] == 36  # born 1990, on 1 December 2026
    assert summary["patient_sex"] == "Female"
    (product,) = summary["suspect_products"]
    assert product == {
        "product": "Juvederm Volbella XC",
        "brand": product["brand"],
        "lot": "VB9",
        "expiry": "2027-06-01",
        "dose": "0.3 mL",
        "unit": "mL",
        "route": "injection into the lips",
        "given_on": "2026-12-01",
    }
    assert summary["reaction"] == "Suspected vascular occlusion"
    assert summary["signs"] == ["Blanching (white skin)", "Pain out of proportion"]
    assert summary["onset_date"] == summary["treatment_date"] == "2026-12-01"
    assert summary["treatment_given"] == [
        "Hyaluronidase 1500 IU: 1500 IU, lot HY1 (exp. 2027-06-01) at 10:02"
    ]
    assert summary["escalated_to"] == ["Eye specialist called (same day)"]
    assert summary["outcome"] == "Improving, follow-up booked"
    assert summary["description"].startswith("Blanching of the upper lip")
    assert summary["reporter"] == reported_case.record.practitioner.user.get_full_name()
    assert summary["reported"] == []


def test_the_summary_prints_and_exports_as_csv_and_json(client, reported_case):
    import csv
    import io
    import json

    client.force_login(reported_case.opened_by)
    url = reverse("treatments:complication_summary", args=[reported_case.pk])
    page = client.get(url).content.decode()
    assert "Adverse-incident summary" in page and "VB9" in page
    rows = list(csv.DictReader(io.StringIO(client.get(url + "?format=csv").content.decode())))
    assert [(r["lot"], r["patient_sex"], r["outcome"]) for r in rows] == [
        ("VB9", "Female", "Improving, follow-up booked")
    ]
    data = json.loads(client.get(url + "?format=json").content)
    assert data["suspect_products"][0]["expiry"] == "2027-06-01"
    assert client.get(url + "?format=pdf").status_code == 400
    assert AuditEvent.objects.filter(what="adverse-incident summary").count() == 3


def test_the_record_keeps_whether_and_when_it_was_reported(client, reported_case):
    client.force_login(reported_case.opened_by)
    url = reverse("treatments:complication_reported", args=[reported_case.pk])
    response = client.post(url, {"reported_on": "2026-12-01", "reference": ""})
    assert response.status_code == 400
    response = client.post(url, {"reported_on": "2026-11-01", "reference": "YC-1"})
    assert "between the day the complication was recorded" in response.content.decode()
    response = client.post(
        url, {"reported_on": "2026-12-01", "reference": "YC-2026-0042"}, follow=True
    )
    assert "Recorded: reported to the MHRA Yellow Card YC-2026-0042" in response.content.decode()
    summary = services.incident_summary(reported_case)
    assert summary["reported"] == [
        {"scheme": "MHRA Yellow Card", "on": "2026-12-01", "ref": "YC-2026-0042"}
    ]
    assert reported_case.regulator_reports.get().recorded_by == reported_case.opened_by


def test_signing_asks_the_patients_sex_on_the_page(client, occlusion):
    step(occlusion, "outcome", outcome="resolved")
    client.force_login(occlusion.opened_by)
    url = reverse("treatments:complication_sign", args=[occlusion.pk])
    response = client.post(url, {"password": PASSWORD})
    assert "Choose the patient&#x27;s sex" in response.content.decode()
    client.post(url, {"password": PASSWORD, "patient_sex": "not_stated"})
    occlusion.refresh_from_db()
    assert occlusion.is_signed and occlusion.patient_sex == "not_stated"


# The manager's view


def test_rates_per_treatments_done_by_practitioner_product_and_lot(
    client, reported_case, healthy, injector, filler, manager, django_assert_max_num_queries
):
    record = reported_case.record
    user = record.practitioner.user
    services.record_update(record=record, by=user, anaesthetic="none", no_adverse_events=True)
    services.treatment_sign(record=record, by=user, password=PASSWORD)
    second = services.treatment_start(
        appointment=ready(healthy, injector, filler, at_time="11:00"), by=user, now=DAY
    )
    add(
        second,
        Lot.objects.get(lot_number="VB9"),
        "FB-LL",
        amount="0.2",
        depth="submucosal",
        needle="30G needle",
        dilution="",
    )
    services.record_update(record=second, by=user, anaesthetic="none", no_adverse_events=True)
    services.treatment_sign(record=second, by=user, password=PASSWORD)
    with django_assert_max_num_queries(10):
        rates = services.complication_rates(date(2026, 11, 1), date(2026, 12, 31))
    assert (rates["count"], rates["done"], rates["rate"]) == (1, 2, 50.0)
    assert rates["by_kind"] == [{"name": "Suspected vascular occlusion", "count": 1}]
    assert rates["by_product"] == [
        {"name": "Juvederm Volbella XC", "done": 2, "count": 1, "rate": 50.0}
    ]
    assert rates["by_lot"][0]["name"] == "Juvederm Volbella XC lot VB9"
    assert rates["by_practitioner"][0] | {"name": None} == {
        "name": None,
        "done": 2,
        "count": 1,
        "rate": 50.0,
    }
    client.force_login(manager)
    page = client.get(reverse("treatments:complications") + "?from=2026-11-01&to=2026-12-31")
    assert "1 complication over 2 signed treatments (50.0 per 100)" in page.content.decode()
    assert (
        client.get(
            reverse("treatments:complications") + "?from=2026-12-31&to=2026-11-01"
        ).status_code
        == 400
    )


def test_a_complication_is_opened_from_the_patient_chart_too(client, record, front_desk):
    user = record.practitioner.user
    services.record_update(record=record, by=user, anaesthetic="none", no_adverse_events=True)
    services.treatment_sign(record=record, by=user, password=PASSWORD)
    chart = reverse("treatments:chart", args=[record.patient_id])
    client.force_login(user)
    page = client.get(chart).content.decode()
    assert reverse("treatments:complication_new", args=[record.pk]) in page
    response = client.post(
        reverse("treatments:complication_new", args=[record.pk]), {"kind": "nodules"}
    )
    assert response.url == Complication.objects.get(kind="nodules").get_absolute_url()
    client.force_login(front_desk)  # no chart for the front desk, no form either
    assert client.get(chart).status_code == 403
