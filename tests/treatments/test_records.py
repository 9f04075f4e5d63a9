from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from bookings import services as bookings
from bookings.models import Appointment
from clinic.db import RecordIsFinal
from clinic.models import AuditEvent
from clinic.outbox import send_due
from tests.factories import PASSWORD, LotFactory, MedicalHistoryFactory, PractitionerFactory
from tests.helpers import LONDON, at, book, history, same_day, sign_consents
from treatments import services
from treatments.models import InjectionLine, Lot, Product, TreatmentRecord
from treatments.rules import FollowUpRule, follow_up

pytestmark = pytest.mark.django_db
D5 = date(2026, 12, 1)
DAY = at(D5, "09:50")


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


def consent_all(appointment):
    sign_consents(appointment)


def ready(patient, practitioner, procedure, *, consent=True, check_in=True, at_time="10:00"):
    appointment = book(patient, practitioner, procedure, at(D5, at_time))
    if consent:
        consent_all(appointment)
    if check_in:
        bookings.appointment_check_in(appointment=appointment, by=practitioner.user, now=DAY)
        same_day(appointment, now=DAY)
    return appointment


@pytest.fixture
def botox():
    return LotFactory(product=Product.objects.get(name="Botox Cosmetic"), lot_number="BTX1")


@pytest.fixture
def dysport():
    return LotFactory(
        product=Product.objects.get(name="Dysport"), lot_number="DYS1", quantity_received=300
    )


@pytest.fixture
def volbella():
    return LotFactory(
        product=Product.objects.get(name="Juvederm Volbella XC"),
        lot_number="VB1",
        quantity_received=Decimal("4"),
    )


@pytest.fixture
def flip_record(healthy, injector, flip):
    appointment = ready(healthy, injector, flip)
    return services.treatment_start(appointment=appointment, by=injector.user, now=DAY)


def add(record, lot, site="TX-C", amount="1", **changes):
    fields = {
        "record": record,
        "by": record.practitioner.user,
        "lot": lot,
        "site": site,
        "amount": Decimal(amount),
        "depth": "intramuscular",
        "needle": "33G needle",
        "dilution": "100 U in 2.5 mL saline",
        "now": DAY,
    }
    fields.update(changes)
    return services.injection_add(**fields)


def complete(record):
    return services.record_update(
        record=record, by=record.practitioner.user, anaesthetic="none", no_adverse_events=True
    )


def refused(code, fn, **kwargs):
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    assert exc.value.code == code, exc.value.messages
    return exc.value.messages[0]


# Starting: the gate


def test_start_captures_what_was_reviewed(flip_record, healthy, flip):
    record = flip_record
    assert (record.status, record.patient, record.precare_kept) == ("draft", healthy, True)
    assert record.medical_history == healthy.histories.get()
    assert record.consents.count() == 1
    assert record.postcare_given.startswith("Stay upright")
    assert record.rebook_date == date(2027, 3, 1)  # 90 days: toxin at least 90 days apart


def test_start_is_idempotent(flip_record):
    again = services.treatment_start(
        appointment=flip_record.appointment, by=flip_record.practitioner.user
    )
    assert again == flip_record and TreatmentRecord.objects.count() == 1


def test_start_needs_check_in(healthy, injector, flip):
    appointment = ready(healthy, injector, flip, check_in=False)
    msg = refused(
        "not_checked_in", services.treatment_start, appointment=appointment, by=injector.user
    )
    assert "Check them in first" in msg


def test_start_by_another_practitioner_is_refused(healthy, injector, flip):
    appointment = ready(healthy, injector, flip)
    other = PractitionerFactory()
    refused("not_your_patient", services.treatment_start, appointment=appointment, by=other.user)


def test_start_needs_every_consent(healthy, injector, combined):
    appointment = ready(healthy, injector, combined, consent=False)
    sign_consents(appointment, codes=["lip-flip"])
    msg = refused(
        "consent_missing", services.treatment_start, appointment=appointment, by=injector.user
    )
    assert "lip filler" in msg.lower() and "lip flip" not in msg.lower().split(":")[1]


def test_start_needs_todays_safety_check(healthy, injector, flip):
    appointment = ready(healthy, injector, flip, check_in=False)
    bookings.appointment_check_in(appointment=appointment, by=injector.user, now=DAY)
    refused(
        "same_day_missing",
        services.treatment_start,
        appointment=appointment,
        by=injector.user,
        now=DAY,
    )


def test_start_refuses_a_contraindication_found_after_check_in(healthy, injector, flip):
    appointment = ready(healthy, injector, flip)
    history(healthy, pregnant_or_breastfeeding=True)
    msg = refused(
        "ruled_out", services.treatment_start, appointment=appointment, by=injector.user, now=DAY
    )
    assert "breastfeeding" in msg


def test_start_refuses_a_history_that_went_stale(injector, flip):
    from tests.factories import PatientFactory

    patient = PatientFactory()
    # Six months old on 2 December: current at check-in on 1 December.
    MedicalHistoryFactory(patient=patient, submitted_at=datetime(2026, 6, 2, 12, tzinfo=LONDON))
    appointment = ready(patient, injector, flip)
    refused(
        "history_stale",
        services.treatment_start,
        appointment=appointment,
        by=injector.user,
        now=DAY + timedelta(days=1),
    )


# Injection lines


def test_lines_and_totals_with_the_dysport_equivalence(flip_record, dysport):
    add(flip_record, dysport, "TX-L1", "7.5", dilution="300 U in 1.5 mL saline")
    add(flip_record, dysport, "TX-R1", "7.5", dilution="300 U in 1.5 mL saline")
    total = services.record_doses(flip_record).totals[0]
    assert (total.amount, total.botox_equivalent, total.above_typical) == (
        15,
        Decimal("6.0"),
        False,
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"site": "FB-UL"}, "wrong_site"),
        ({"amount": Decimal("0")}, "amount_not_positive"),
        ({"dilution": " "}, "dilution_required"),
    ],
)
def test_bad_lines_are_refused(flip_record, botox, changes, code):
    refused(code, add, record=flip_record, lot=botox, **changes)
    assert not InjectionLine.objects.exists()


def test_a_filler_lot_is_refused_for_a_lip_flip(flip_record, volbella):
    refused("wrong_product", add, record=flip_record, lot=volbella, site="FB-UL", amount="0.5")


def test_an_expired_lot_is_refused(flip_record):
    old = LotFactory(lot_number="OLD", expiry_date=date(2026, 11, 30))
    msg = refused("lot_expired", add, record=flip_record, lot=old)
    assert "expired on 30 Nov 2026" in msg


def test_a_lot_expiring_on_the_day_is_fine(flip_record):
    assert add(flip_record, LotFactory(lot_number="TODAY", expiry_date=D5)).pk


def test_an_empty_lot_and_a_short_lot(flip_record):
    empty = LotFactory(lot_number="EMPTY", quantity_received=100, quantity_remaining=0)
    refused("lot_empty", add, record=flip_record, lot=empty)
    short = LotFactory(lot_number="SHORT", quantity_received=100, quantity_remaining=2)
    add(flip_record, short, amount="1.5")
    refused("not_enough_stock", add, record=flip_record, lot=short, site="TX-L1", amount="1")


def test_dysport_is_refused_for_a_cows_milk_allergy(healthy, injector, flip, dysport):
    history(healthy, allergy_cows_milk_protein=True)
    record = services.treatment_start(appointment=ready(healthy, injector, flip), by=injector.user)
    refused("product_contraindicated", add, record=record, lot=dysport)


def test_only_the_treating_practitioner_writes_the_draft(flip_record, botox):
    other = PractitionerFactory()
    refused("not_your_record", add, record=flip_record, lot=botox, by=other.user)


# Doses


def test_above_typical_warns_and_above_maximum_needs_a_reason(flip_record, botox):
    add(flip_record, botox, "TX-C", "7")
    doses = services.record_doses(flip_record)
    assert doses.totals[0].above_typical and not doses.needs_reason
    assert "above the typical 6 U" in doses.warnings[0]
    add(flip_record, botox, "TX-L1", "4")
    complete(flip_record)
    assert services.record_doses(flip_record).needs_reason
    refused(
        "reason_required",
        services.treatment_sign,
        record=flip_record,
        by=flip_record.practitioner.user,
        password=PASSWORD,
    )
    services.record_update(
        record=flip_record,
        by=flip_record.practitioner.user,
        over_maximum_reason="Strong muscle; agreed with the patient.",
    )
    signed = services.treatment_sign(
        record=flip_record, by=flip_record.practitioner.user, password=PASSWORD
    )
    assert signed.is_signed


def test_more_than_one_and_a_half_ml_in_one_lip_warns(healthy, injector, filler, volbella):
    record = services.treatment_start(
        appointment=ready(healthy, injector, filler), by=injector.user
    )
    add(record, volbella, "FB-UL", "0.8", depth="submucosal", needle="30G needle")
    add(record, volbella, "FB-UR", "0.8", depth="submucosal", needle="30G needle")
    warnings = services.record_doses(record).warnings
    assert any("in the upper lip" in w for w in warnings)


# Follow-up dates (pure)


@pytest.mark.parametrize(
    ("rules", "review", "rebook"),
    [
        ([FollowUpRule(None, 70, 84, 90)], None, date(2027, 3, 1)),
        ([FollowUpRule(14, 182, 365, None)], date(2026, 12, 15), date(2027, 6, 1)),
        (
            [FollowUpRule(None, 70, 84, 90), FollowUpRule(14, 182, 365, None)],
            date(2026, 12, 15),
            date(2027, 3, 1),
        ),
        ([FollowUpRule(None, 100, 120, 90)], None, date(2027, 3, 11)),
    ],
)
def test_follow_up_dates(rules, review, rebook):
    result = follow_up(treated_on=D5, rules=rules)
    assert (result.review_date, result.rebook_date) == (review, rebook)


# Signing


@pytest.mark.parametrize(
    ("prepare", "code"),
    [
        (lambda r, lot: complete(r), "no_lines"),
        (lambda r, lot: add(r, lot), "anaesthetic_missing"),
        (
            lambda r, lot: (
                add(r, lot),
                services.record_update(record=r, by=r.practitioner.user, anaesthetic="none"),
            ),
            "adverse_events_missing",
        ),
        (
            lambda r, lot: (
                add(r, lot),
                services.record_update(
                    record=r,
                    by=r.practitioner.user,
                    anaesthetic="none",
                    no_adverse_events=True,
                    adverse_events="Bruise",
                ),
            ),
            "adverse_events_conflict",
        ),
    ],
)
def test_an_incomplete_record_cannot_be_signed(flip_record, botox, prepare, code):
    prepare(flip_record, botox)
    refused(
        code,
        services.treatment_sign,
        record=flip_record,
        by=flip_record.practitioner.user,
        password=PASSWORD,
    )
    flip_record.refresh_from_db()
    assert flip_record.status == "draft"


def test_signing_needs_the_password(flip_record, botox):
    add(flip_record, botox)
    complete(flip_record)
    refused(
        "wrong_password",
        services.treatment_sign,
        record=flip_record,
        by=flip_record.practitioner.user,
        password="guess",
    )


def test_signing_uses_up_stock_and_completes_the_appointment(flip_record, botox):
    add(flip_record, botox, "TX-L1", "2")
    add(flip_record, botox, "TX-R1", "2")
    complete(flip_record)
    signed = services.treatment_sign(
        record=flip_record, by=flip_record.practitioner.user, password=PASSWORD
    )
    assert (signed.status, signed.signed_by) == ("signed", flip_record.practitioner.user)
    assert Lot.objects.get(pk=botox.pk).quantity_remaining == 96
    assert Appointment.objects.get(pk=signed.appointment_id).status == "completed"
    assert signed.verify()
    refused(
        "record_signed",
        services.treatment_sign,
        record=signed,
        by=flip_record.practitioner.user,
        password=PASSWORD,
    )
    assert Lot.objects.get(pk=botox.pk).quantity_remaining == 96


def test_signing_when_the_stock_ran_out_meanwhile(flip_record, botox):
    add(flip_record, botox, amount="3")
    complete(flip_record)
    Lot.objects.filter(pk=botox.pk).update(quantity_remaining=2)
    refused(
        "not_enough_stock",
        services.treatment_sign,
        record=flip_record,
        by=flip_record.practitioner.user,
        password=PASSWORD,
    )
    assert Lot.objects.get(pk=botox.pk).quantity_remaining == 2


def test_a_manager_may_sign_another_practitioner_may_not(flip_record, botox, manager):
    add(flip_record, botox)
    complete(flip_record)
    refused(
        "not_allowed",
        services.treatment_sign,
        record=flip_record,
        by=PractitionerFactory().user,
        password=PASSWORD,
    )
    assert services.treatment_sign(record=flip_record, by=manager, password=PASSWORD).is_signed


@pytest.fixture
def signed(flip_record, botox):
    add(flip_record, botox)
    complete(flip_record)
    return services.treatment_sign(
        record=flip_record, by=flip_record.practitioner.user, password=PASSWORD
    )


def test_a_signed_record_never_changes_in_the_app(signed, botox):
    signed.notes = "changed"
    with pytest.raises(RecordIsFinal):
        signed.save()
    with pytest.raises(RecordIsFinal):
        TreatmentRecord.objects.filter(pk=signed.pk).update(notes="x")
    with pytest.raises(RecordIsFinal):
        signed.delete()
    line = signed.lines.get()
    line.amount = Decimal("9")
    with pytest.raises(RecordIsFinal):
        line.save()
    with pytest.raises(RecordIsFinal):
        line.delete()
    refused("record_signed", add, record=signed, lot=botox)
    refused(
        "record_signed",
        services.record_update,
        record=signed,
        by=signed.practitioner.user,
        notes="x",
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE treatments_treatmentrecord SET notes = 'changed'",
        "DELETE FROM treatments_treatmentrecord",
        "UPDATE treatments_injectionline SET amount = 9",
        "DELETE FROM treatments_injectionline",
    ],
)
def test_postgres_refuses_changes_to_a_signed_record(signed, sql):
    with (
        pytest.raises(IntegrityError, match="record is final"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


@pytest.mark.postgres
def test_postgres_lets_a_draft_change(flip_record):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE treatments_treatmentrecord SET notes = 'draft note'")
    flip_record.refresh_from_db()
    assert flip_record.notes == "draft note"


# Addenda


def test_addenda_are_signed_dated_and_kept_beside_the_original(signed, manager):
    first = services.addendum_add(
        record=signed,
        by=signed.practitioner.user,
        password=PASSWORD,
        reason="Wrong site recorded",
        text="The unit went at TX-L1.",
    )
    services.addendum_add(record=signed, by=manager, password=PASSWORD, reason="r", text="t")
    assert list(signed.addenda.values_list("author", flat=True)) == [
        signed.practitioner.user.pk,
        manager.pk,
    ]
    assert len(first.content_sha256) == 64
    signed.refresh_from_db()
    assert signed.verify()  # the original is untouched
    with pytest.raises(RecordIsFinal):
        first.delete()


def test_addenda_refusals(flip_record, signed):
    refused(
        "not_allowed",
        services.addendum_add,
        record=signed,
        by=PractitionerFactory().user,
        password=PASSWORD,
        reason="r",
        text="t",
    )
    refused(
        "wrong_password",
        services.addendum_add,
        record=signed,
        by=signed.practitioner.user,
        password="x",
        reason="r",
        text="t",
    )
    refused(
        "addendum_empty",
        services.addendum_add,
        record=signed,
        by=signed.practitioner.user,
        password=PASSWORD,
        reason="r",
        text=" ",
    )


# Pages, chart, recall, audit


def test_the_record_pages_end_to_end(client, healthy, injector, flip, botox):
    appointment = ready(healthy, injector, flip)
    client.force_login(injector.user)
    response = client.post(reverse("treatments:record_start", args=[appointment.pk]))
    record = TreatmentRecord.objects.get()
    assert response.url == record.get_absolute_url()
    line = {
        "lot": botox.pk,
        "site": "TX-C",
        "amount": "2",
        "dilution": "100 U in 2.5 mL",
        "depth": "intramuscular",
        "needle": "33G needle",
    }
    assert (
        client.post(reverse("treatments:record_line_add", args=[record.pk]), line).status_code
        == 302
    )
    bad = client.post(
        reverse("treatments:record_line_add", args=[record.pk]), line | {"site": "FB-UL"}
    )
    assert bad.status_code == 400 and "site" in bad.context["line_form"].errors
    details = {
        "anaesthetic": "none",
        "no_adverse_events": "on",
        "postcare_given": "Ice.",
        "review_date": "",
        "rebook_date": "2027-03-01",
    }
    assert (
        client.post(reverse("treatments:record_save", args=[record.pk]), details).status_code == 302
    )
    wrong = client.post(reverse("treatments:record_sign", args=[record.pk]), {"password": "no"})
    assert "not right" in wrong.context["sign_form"].errors["password"][0]
    ok = client.post(reverse("treatments:record_sign", args=[record.pk]), {"password": PASSWORD})
    assert ok.status_code == 302
    record.refresh_from_db()
    assert record.is_signed and record.rebook_date == date(2027, 3, 1)
    send_due(now=DAY)
    assert "aftercare" in mail.outbox[-1].subject.lower()
    assert "Ice." in mail.outbox[-1].body
    page = client.get(record.get_absolute_url()).content.decode()
    assert "Unchanged since it was signed" in page


@pytest.mark.parametrize("persona", ["front_desk", "patient_a"])
def test_front_desk_and_patients_cannot_open_records(client, request, signed, persona):
    user = request.getfixturevalue(persona)
    client.force_login(getattr(user, "user", user))
    assert client.get(signed.get_absolute_url()).status_code == 403
    assert client.get(reverse("treatments:chart", args=[signed.patient_id])).status_code == 403


def test_reads_are_audited_and_managers_see_the_log(client, signed, manager, front_desk):
    client.force_login(signed.practitioner.user)
    client.get(signed.get_absolute_url())
    event = AuditEvent.objects.get(what="treatment record")
    assert (event.user, event.patient, event.object_id) == (
        signed.practitioner.user,
        signed.patient,
        str(signed.pk),
    )
    client.force_login(manager)
    assert "treatment record" in client.get(reverse("audit_log")).content.decode()
    changes = client.get(reverse("audit_log"), {"tab": "changes"}).content.decode()
    assert f"Treatment record: {signed.procedure}" in changes
    assert signed.history_log.count() >= 2  # created, then signed
    client.force_login(front_desk)
    assert client.get(reverse("audit_log")).status_code == 403


def _treated(indexes, injector, flip, lot):
    """Signed lip flips from `lot`, each for a new patient, on D5 at 09:00 + 30 min × index."""
    from tests.factories import PatientFactory

    for index in indexes:
        patient = PatientFactory()
        history(patient)
        appointment = book(patient, injector, flip, at(D5, "09:00") + timedelta(minutes=30 * index))
        consent_all(appointment)
        bookings.appointment_check_in(appointment=appointment, by=injector.user, now=DAY)
        same_day(appointment, now=DAY)
        record = services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
        add(record, lot)
        complete(record)
        services.treatment_sign(record=record, by=injector.user, password=PASSWORD)


def test_lot_recall_finds_every_patient_in_bounded_queries(
    client, manager, injector, flip, botox, django_assert_max_num_queries
):
    client.force_login(manager)
    _treated(range(1), injector, flip, botox)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("treatments:recall"), {"lot": "btx1"})
    _treated(range(1, 5), injector, flip, botox)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("treatments:recall"), {"lot": "BTX1"})
    assert response.context["patient_count"] == 5
    assert AuditEvent.objects.filter(action="export").count() == 2


def test_recall_is_for_managers(client, injector):
    client.force_login(injector.user)
    assert client.get(reverse("treatments:recall")).status_code == 403


def test_patient_chart_in_bounded_queries(
    client, healthy, injector, flip, filler, botox, volbella, django_assert_max_num_queries
):
    client.force_login(injector.user)
    record = services.treatment_start(appointment=ready(healthy, injector, flip), by=injector.user)
    add(record, botox)
    complete(record)
    services.treatment_sign(record=record, by=injector.user, password=PASSWORD)
    url = reverse("treatments:chart", args=[healthy.pk])
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    _treated(range(4, 8), injector, flip, botox)  # other patients' records must not count
    # Filler: a second lip flip the same day breaks the 90-day toxin gap.
    second = services.treatment_start(
        appointment=ready(healthy, injector, filler, at_time="15:00"), by=injector.user
    )
    add(second, volbella, "FB-UL", "0.5", depth="submucosal", needle="30G needle")
    complete(second)
    services.treatment_sign(record=second, by=injector.user, password=PASSWORD)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["records"]) == 2
