"""Prescriptions (issue 17): a prescriber assesses face to face and prescribes;
toxin is given only under a valid prescription, never above its amount; the
signed record keeps the prescription it relied on."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from clinic.db import RecordIsFinal
from clinic.models import AuditEvent, Practitioner
from tests.factories import (
    PASSWORD,
    LotFactory,
    PatientFactory,
    PractitionerFactory,
    standing_prescription,
)
from tests.helpers import LONDON, at, every_day, history
from tests.treatments.test_records import add, complete, ready
from treatments import services
from treatments.models import (
    PrescriberAssessment,
    Prescription,
    PrescriptionItem,
    Product,
    TreatmentRecord,
)

pytestmark = pytest.mark.django_db
D5 = date(2026, 12, 1)
DAY = at(D5, "09:50")


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


@pytest.fixture
def prescriber(clinic_hours):
    doctor = PractitionerFactory(
        user__full_name="Dr Dee Prescriber",
        profession=Practitioner.Profession.DOCTOR,
        regulator=Practitioner.Regulator.GMC,
        registration_number="7654321",
        independent_prescriber=True,
    )
    every_day(doctor, (time(9), time(17)))
    return doctor


@pytest.fixture
def unprescribed():
    patient = PatientFactory(first_name="Nora", last_name="New", prescribed=False)
    history(patient)
    return patient


@pytest.fixture
def vistabel():
    return LotFactory(product=Product.objects.get(name="Vistabel"), lot_number="VIS1")


@pytest.fixture
def azzalure():
    return LotFactory(
        product=Product.objects.get(name="Azzalure"), lot_number="AZZ1", quantity_received=125
    )


def prescribe(patient, prescriber, *, most="8", product="Vistabel", **changes):
    fields = {
        "patient": patient,
        "by": prescriber.user,
        "password": PASSWORD,
        "mode": PrescriberAssessment.Mode.IN_PERSON,
        "findings": "Seen in clinic: gummy smile, lip flip suitable, no contraindications.",
        "items": [(Product.objects.get(name=product), Decimal(most))],
        "valid_until": D5 + timedelta(days=30),
        "directions": "Lip flip: 4 points along the upper vermilion border.",
        "now": at(D5, "09:30"),
    }
    fields.update(changes)
    return services.prescription_write(**fields)


def code_of(fn, **kwargs):
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    return exc.value.code


# Writing a prescription


def test_a_prescriber_assesses_face_to_face_and_prescribes(unprescribed, prescriber):
    prescription = prescribe(unprescribed, prescriber)
    assert prescription.assessment.mode == "in_person"
    assert prescription.prescriber == prescriber
    assert prescription.prescriber_registration == "Dr Dee Prescriber, GMC 7654321, " + (
        "independent prescriber"
    )
    (item,) = prescription.items.all()
    assert (item.product.name, item.most_per_session) == ("Vistabel", Decimal("8"))
    prescription.refresh_from_db()
    assert prescription.verify()


@pytest.mark.parametrize("mode", ["video", "phone", "online"])
def test_a_remote_assessment_cannot_create_a_prescription(unprescribed, prescriber, mode):
    assert code_of(prescribe, patient=unprescribed, prescriber=prescriber, mode=mode) == (
        "assessment_not_in_person"
    )
    assert not Prescription.objects.exists()
    assert not PrescriberAssessment.objects.filter(patient=unprescribed).exists()


def test_the_database_refuses_a_remote_assessment_too(unprescribed, prescriber):
    with pytest.raises(IntegrityError), transaction.atomic():
        PrescriberAssessment.objects.create(
            patient=unprescribed, prescriber=prescriber, mode="video", findings="x"
        )


def test_a_nurse_who_is_not_a_prescriber_cannot_prescribe(unprescribed, injector):
    assert code_of(prescribe, patient=unprescribed, prescriber=injector) == "not_a_prescriber"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"password": "wrong"}, "prescription_wrong_password"),
        ({"findings": "  "}, "assessment_empty"),
        ({"items": []}, "prescription_no_items"),
        ({"most": "0"}, "prescription_amount"),
        ({"product": "Juvederm Volbella XC"}, "prescription_not_pom"),
        ({"valid_until": D5 - timedelta(days=1)}, "prescription_validity"),
        ({"valid_until": D5 + timedelta(days=366)}, "prescription_validity"),
    ],
)
def test_an_incomplete_prescription_is_refused(unprescribed, prescriber, changes, code):
    assert code_of(prescribe, patient=unprescribed, prescriber=prescriber, **changes) == code
    assert not Prescription.objects.filter(patient=unprescribed).exists()


def test_a_prescription_never_changes(unprescribed, prescriber):
    prescription = prescribe(unprescribed, prescriber)
    prescription.valid_until = D5 + timedelta(days=300)
    with pytest.raises(RecordIsFinal):
        prescription.save()
    with pytest.raises(RecordIsFinal):
        Prescription.objects.filter(pk=prescription.pk).update(directions="more")
    with pytest.raises(RecordIsFinal):
        PrescriptionItem.objects.filter(prescription=prescription).update(most_per_session=99)
    with pytest.raises(RecordIsFinal):
        prescription.delete()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE treatments_prescription SET valid_until = '2027-12-01'",
        "UPDATE treatments_prescriptionitem SET most_per_session = 99",
        "DELETE FROM treatments_prescriptionitem",
        "UPDATE treatments_prescriberassessment SET mode = 'in_person', findings = 'x'",
    ],
)
def test_postgres_refuses_changes_to_a_prescription(unprescribed, prescriber, sql):
    prescribe(unprescribed, prescriber)
    with (
        pytest.raises(IntegrityError, match="record is final"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


# Treating under it


def test_toxin_treatment_is_refused_without_a_prescription(unprescribed, injector, flip):
    appointment = ready(unprescribed, injector, flip)
    assert code_of(
        services.treatment_start, appointment=appointment, by=injector.user, now=DAY
    ) == ("prescription_missing")
    assert not TreatmentRecord.objects.exists()


def test_a_nurse_treats_under_the_prescription_and_the_record_keeps_it(
    unprescribed, injector, prescriber, flip, vistabel
):
    prescription = prescribe(unprescribed, prescriber)
    appointment = ready(unprescribed, injector, flip)
    record = services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
    add(record, vistabel, amount="4", dilution="50 U in 1.25 mL saline")
    complete(record)
    signed = services.treatment_sign(record=record, by=injector.user, password=PASSWORD)
    assert signed.prescription == prescription
    assert f"prescription {prescription.pk}" in signed.content()
    signed.refresh_from_db()
    assert signed.verify()


def test_a_record_signed_without_a_prescription_keeps_its_hash(healthy, injector, filler):
    # Filler needs none: the content has no prescription line, as before.
    lot = LotFactory(product=Product.objects.get(name="Juvederm Volbella XC"), quantity_received=2)
    record = services.treatment_start(
        appointment=ready(healthy, injector, filler), by=injector.user, now=DAY
    )
    add(
        record,
        lot,
        site="FB-UL",
        amount="0.5",
        dilution="",
        depth="submucosal",
        needle="30G needle",
    )
    complete(record)
    signed = services.treatment_sign(record=record, by=injector.user, password=PASSWORD)
    assert signed.prescription is None
    assert "prescription" not in signed.content()
    assert signed.verify()


def test_a_prescriber_treats_under_their_own_prescription_in_the_same_visit(
    unprescribed, prescriber, flip, vistabel
):
    appointment = ready(unprescribed, prescriber, flip)
    assert code_of(
        services.treatment_start, appointment=appointment, by=prescriber.user, now=DAY
    ) == ("prescription_missing")
    prescription = prescribe(unprescribed, prescriber, now=DAY)
    record = services.treatment_start(appointment=appointment, by=prescriber.user, now=DAY)
    add(record, vistabel, amount="6", dilution="50 U in 1.25 mL saline")
    complete(record)
    signed = services.treatment_sign(record=record, by=prescriber.user, password=PASSWORD)
    assert signed.prescription == prescription


def test_toxin_is_refused_under_an_expired_prescription(unprescribed, injector, prescriber, flip):
    written = at(D5 - timedelta(days=40), "10:00")
    prescribe(unprescribed, prescriber, now=written, valid_until=D5 - timedelta(days=1))
    appointment = ready(unprescribed, injector, flip)
    with pytest.raises(ValidationError) as exc:
        services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
    assert exc.value.code == "prescription_expired"
    assert "ran out on Monday 30 November 2026" in exc.value.messages[0]


def test_charting_above_the_prescribed_amount_is_refused(
    unprescribed, injector, prescriber, flip, vistabel
):
    prescribe(unprescribed, prescriber, most="6")
    record = services.treatment_start(
        appointment=ready(unprescribed, injector, flip), by=injector.user, now=DAY
    )
    add(record, vistabel, amount="4", dilution="50 U")
    with pytest.raises(ValidationError) as exc:
        add(record, vistabel, amount="2.5", dilution="50 U")
    assert exc.value.code == "prescription_exceeded"
    assert "above the 6 U the prescription by Dr Dee Prescriber allows" in exc.value.messages[0]
    add(record, vistabel, amount="2", dilution="50 U")  # exactly 6: allowed
    assert record.lines.count() == 2


def test_a_product_not_on_the_prescription_is_refused(
    unprescribed, injector, prescriber, flip, azzalure
):
    prescribe(unprescribed, prescriber, product="Vistabel")
    record = services.treatment_start(
        appointment=ready(unprescribed, injector, flip), by=injector.user, now=DAY
    )
    assert code_of(add, record=record, lot=azzalure, amount="10", dilution="125 U") == (
        "prescription_missing"
    )


# Withdrawal


def test_a_withdrawn_prescription_stops_the_signing(
    unprescribed, injector, prescriber, flip, vistabel, manager
):
    prescription = prescribe(unprescribed, prescriber)
    record = services.treatment_start(
        appointment=ready(unprescribed, injector, flip), by=injector.user, now=DAY
    )
    add(record, vistabel, amount="4", dilution="50 U")
    complete(record)
    assert code_of(
        services.prescription_withdraw, prescription=prescription, by=injector.user, reason="x"
    ) == ("withdrawal_not_allowed")
    assert code_of(
        services.prescription_withdraw, prescription=prescription, by=manager, reason=" "
    ) == ("withdrawal_reason")
    withdrawal = services.prescription_withdraw(
        prescription=prescription, by=prescriber.user, reason="Patient now pregnant"
    )
    assert (withdrawal.withdrawn_by, withdrawal.reason) == (prescriber.user, "Patient now pregnant")
    assert code_of(services.treatment_sign, record=record, by=injector.user, password=PASSWORD) == (
        "prescription_withdrawn"
    )
    assert code_of(
        services.prescription_withdraw, prescription=prescription, by=manager, reason="again"
    ) == ("prescription_already_withdrawn")


def test_the_standing_prescription_of_the_test_factories(healthy):
    (prescription,) = Prescription.objects.filter(patient=healthy)
    assert prescription.verify()
    assert prescription.valid_on(D5)
    assert prescription.written_at == datetime(2026, 1, 1, tzinfo=LONDON)
    assert standing_prescription(PatientFactory(prescribed=False)).prescriber == (
        prescription.prescriber
    )


# Pages


def form_data(**changes):
    vistabel = Product.objects.get(name="Vistabel")
    data = {
        "mode": "in_person",
        "findings": "Seen in clinic; suitable.",
        f"most_{vistabel.pk}": "6",
        "directions": "Lip flip, 4 points",
        "valid_until": "2026-12-31",
        "password": PASSWORD,
    }
    data.update(changes)
    return data


def test_the_prescriber_prescribes_on_the_patients_page(client, unprescribed, prescriber):
    url = reverse("treatments:prescriptions", args=[unprescribed.pk])
    client.force_login(prescriber.user)
    page = client.get(url)
    assert "Assess and prescribe" in page.content.decode()
    response = client.post(url, form_data())
    prescription = Prescription.objects.get(patient=unprescribed)
    assert response.url == prescription.get_absolute_url()
    detail = client.get(response.url).content.decode()
    assert "Vistabel: at most 6 U a session" in detail
    assert "unchanged since" in detail
    assert AuditEvent.objects.filter(what="prescription", patient=unprescribed).exists()


def test_a_remote_assessment_is_refused_on_the_page_under_its_field(
    client, unprescribed, prescriber
):
    client.force_login(prescriber.user)
    response = client.post(
        reverse("treatments:prescriptions", args=[unprescribed.pk]), form_data(mode="video")
    )
    assert response.status_code == 400
    assert "face to face" in str(response.context["form"].errors["mode"])
    assert not Prescription.objects.exists()


def test_a_nurse_reads_prescriptions_but_cannot_write_one(client, unprescribed, injector):
    url = reverse("treatments:prescriptions", args=[unprescribed.pk])
    client.force_login(injector.user)
    assert "Only an independent prescriber" in client.get(url).content.decode()
    assert client.post(url, form_data()).status_code == 403
    assert not Prescription.objects.exists()


def test_a_manager_withdraws_with_a_reason(client, unprescribed, prescriber, manager):
    prescription = prescribe(unprescribed, prescriber)
    client.force_login(manager)
    url = reverse("treatments:prescription_withdraw", args=[prescription.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    client.post(url, {"reason": "Written in error"})
    prescription.refresh_from_db()
    assert prescription.withdrawal.reason == "Written in error"
    page = client.get(prescription.get_absolute_url()).content.decode()
    assert "Written in error" in page
    assert "Withdraw the prescription" not in page


def test_the_signed_record_page_shows_the_prescription(
    client, unprescribed, injector, prescriber, flip, vistabel
):
    prescription = prescribe(unprescribed, prescriber)
    record = services.treatment_start(
        appointment=ready(unprescribed, injector, flip), by=injector.user, now=DAY
    )
    add(record, vistabel, amount="4", dilution="50 U")
    complete(record)
    services.treatment_sign(record=record, by=injector.user, password=PASSWORD)
    client.force_login(injector.user)
    page = client.get(record.get_absolute_url()).content.decode()
    assert prescription.get_absolute_url() in page
    assert "by Dr Dee Prescriber, valid until 31 Dec 2026" in page
