"""Issue 12's findings, each through the services (and pages) that leaked them.
The engine itself is tested in test_safety_engine.py."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from bookings import services as bookings
from bookings.models import Appointment
from tests.factories import PASSWORD, LotFactory, PatientFactory
from tests.helpers import at, book, history, same_day
from tests.treatments.test_records import D5, DAY, add, complete, ready, refused
from treatments import services
from treatments.models import Product, SameDayCheck, TreatmentRecord

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


def lot(name, number, quantity="300"):
    return LotFactory(
        product=Product.objects.get(name=name), lot_number=number, quantity_received=quantity
    )


def signed_flip(patient, injector, flip, time="10:00"):
    record = services.treatment_start(
        appointment=ready(patient, injector, flip, at_time=time), by=injector.user, now=DAY
    )
    add(record, lot("Botox Cosmetic", "BTX9"), amount="4")
    complete(record)
    return services.treatment_sign(record=record, by=injector.user, password=PASSWORD, now=DAY)


def refused_signing(record, code, **details):
    return refused(
        code,
        services.treatment_sign,
        record=record,
        by=record.practitioner.user,
        password=PASSWORD,
        now=DAY,
        **details,
    )


def test_a_second_lip_flip_18_days_later_is_refused_at_booking(healthy, injector, flip):
    signed_flip(healthy, injector, flip)
    later = DAY + timedelta(hours=1)
    with pytest.raises(ValidationError) as exc:
        book(healthy, injector, flip, at(D5 + timedelta(days=18), "10:00"), now=later)
    assert exc.value.code == "toxin_too_soon"
    assert exc.value.earliest == D5 + timedelta(days=90)


def test_a_rebook_date_30_days_out_is_refused(healthy, injector, flip):
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    refused(
        "rebook_too_soon",
        services.record_update,
        record=record,
        by=injector.user,
        rebook_date=D5 + timedelta(days=30),
        now=DAY,
    )
    services.record_update(
        record=record, by=injector.user, rebook_date=D5 + timedelta(days=90), now=DAY
    )


def test_a_16_year_old_with_no_history_cannot_be_booked(injector, flip):
    teen = PatientFactory(date_of_birth=date(2010, 6, 1))
    with pytest.raises(ValidationError) as exc:
        book(teen, injector, flip, at(D5, "10:00"))
    assert exc.value.code == "under_age"
    assert not Appointment.objects.filter(patient=teen).exists()


def test_an_active_cold_sore_rules_out_a_lip_flip(injector, flip):
    patient = PatientFactory()
    history(patient, active_cold_sore=True)
    with pytest.raises(ValidationError) as exc:
        book(patient, injector, flip, at(D5, "10:00"))
    assert exc.value.code == "contraindicated"


def test_filler_across_products_is_totalled_and_capped(healthy, injector, filler):
    record = services.treatment_start(
        appointment=ready(healthy, injector, filler), by=injector.user, now=DAY
    )
    volbella = lot("Juvederm Volbella XC", "VB9", "10")
    kysse = lot("Restylane Kysse", "KY9", "10")
    kw = {"depth": "submucosal", "needle": "30G needle"}
    refused("dose_line_ceiling", add, record=record, lot=volbella, site="FB-UL", amount="2.8", **kw)
    refused(
        "dose_line_ceiling", add, record=record, lot=volbella, site="FB-UL", amount="9999", **kw
    )
    for source, site in ((volbella, "FB-UL"), (kysse, "FB-LL"), (volbella, "FB-UR")):
        add(record, source, site, "1.4", **kw)
    # 4.2 mL so far: a fourth 1.4 mL line would make 5.6 mL, above the 5 mL ceiling.
    refused("dose_session_ceiling", add, record=record, lot=kysse, site="FB-LR", amount="1.4", **kw)
    complete(record)
    refused_signing(record, "reason_required")


def test_toxin_across_products_in_botox_equivalent_needs_a_reason(healthy, injector, flip):
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    add(record, lot("Botox Cosmetic", "BTX8"), amount="10")
    add(record, lot("Dysport", "DYS8"), site="TX-L1", amount="25")
    complete(record)
    refused_signing(record, "reason_required")
    signed = services.treatment_sign(
        record=record,
        by=injector.user,
        password=PASSWORD,
        now=DAY,
        over_maximum_reason="Strong orbicularis; agreed with the patient.",
    )
    assert signed.is_signed


def test_sign_saves_what_was_typed_with_it(healthy, injector, flip):
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    add(record, lot("Botox Cosmetic", "BTX7"), amount="4")
    signed = services.treatment_sign(
        record=record,
        by=injector.user,
        password=PASSWORD,
        now=DAY,
        anaesthetic="none",
        no_adverse_events=True,
        notes="Even result.",
    )
    assert (signed.anaesthetic, signed.notes) == ("none", "Even result.")


def test_a_patient_cannot_move_into_the_short_window(healthy, injector, flip, patient_user):
    healthy.user = patient_user
    healthy.save()
    appointment = book(healthy, injector, flip, at(date(2026, 12, 10), "10:00"))
    now = at(date(2026, 12, 1), "09:00")
    with pytest.raises(ValidationError) as exc:
        bookings.patient_move(
            appointment=appointment,
            by=patient_user,
            starts_at=at(date(2026, 12, 4), "10:00"),
            now=now,
        )
    assert exc.value.code == "patient_window"
    moved = bookings.patient_move(
        appointment=appointment, by=patient_user, starts_at=at(date(2026, 12, 5), "10:00"), now=now
    )
    assert moved.local_date == date(2026, 12, 5)


# The same-day check


def test_only_the_treating_practitioner_asks_todays_questions(
    healthy, injector, flip, front_desk, other_practitioner
):
    appointment = ready(healthy, injector, flip, check_in=False)
    bookings.appointment_check_in(appointment=appointment, by=front_desk, now=DAY)
    for someone in (front_desk, other_practitioner.user):
        with pytest.raises(ValidationError) as exc:
            same_day(appointment, now=DAY, by=someone)
        assert exc.value.code == "not_your_patient"
    assert not SameDayCheck.objects.exists()


def test_a_blocking_answer_is_kept_and_stops_the_record(healthy, injector, flip):
    appointment = ready(healthy, injector, flip, check_in=False)
    bookings.appointment_check_in(appointment=appointment, by=injector.user, now=DAY)
    check, safety = same_day(appointment, now=DAY, window_kept=False)
    assert check.outcome == "refuse" and check.window_from == date(2026, 11, 28)
    assert safety.earliest == date(2026, 12, 4)
    refused(
        "same_day_window",
        services.treatment_start,
        appointment=appointment,
        by=injector.user,
        now=DAY,
    )
    assert not TreatmentRecord.objects.exists()
    # Asked again (the patient misunderstood): a new row, the first kept.
    same_day(appointment, now=DAY + timedelta(minutes=2))
    record = services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
    assert record.same_day_check.window_kept and SameDayCheck.objects.count() == 2


def test_the_same_day_page(client, healthy, injector, flip):
    appointment = ready(healthy, injector, flip, check_in=False)
    bookings.appointment_check_in(appointment=appointment, by=injector.user, now=DAY)
    client.force_login(injector.user)
    url = reverse("treatments:same_day", args=[appointment.pk])
    page = client.get(url).content.decode()
    assert "since Saturday 28 November?" in page  # D-3, the minimum, in a real date
    answers = {
        "window_kept": "yes",
        "pregnant_or_breastfeeding": "yes",
        "active_cold_sore": "no",
        "infection_at_site": "no",
        "antibiotics_now": "no",
        "dental_work_recent": "no",
        "illness_or_vaccination_recent": "no",
    }
    blocked = client.post(url, answers)
    assert blocked.status_code == 200
    assert "Do not treat today" in blocked.content.decode()
    assert not TreatmentRecord.objects.exists()
    answers["pregnant_or_breastfeeding"] = "no"
    started = client.post(url, answers)
    record = TreatmentRecord.objects.get()
    assert started.status_code == 302 and started["Location"] == record.get_absolute_url()


def test_the_record_page_shows_todays_answers(client, healthy, injector, flip):
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    client.force_login(injector.user)
    page = client.get(record.get_absolute_url()).content.decode()
    assert "Today's check" in page and "since Saturday 28 November" in page


def test_doses_on_the_record_page_come_from_the_engine(client, healthy, injector, flip):
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    add(record, lot("Botox Cosmetic", "BTX6"), amount="8")
    client.force_login(injector.user)
    page = client.get(record.get_absolute_url()).content.decode()
    assert "above the typical 6" in page
    assert Decimal("8") == record.lines.get().amount


def test_the_patient_pages_say_when_the_next_lip_flip_is_possible(
    client, healthy, injector, flip, patient_user
):
    healthy.user = patient_user
    healthy.save()
    signed_flip(healthy, injector, flip)
    client.force_login(injector.user)
    staff_page = client.get(healthy.get_absolute_url()).content.decode()
    assert "Next lip flip possible from <strong>Monday 1 March 2027</strong>" in staff_page
    client.force_login(patient_user)
    portal = client.get(reverse("portal_home")).content.decode()
    assert "Next lip flip possible from <strong>Monday 1 March 2027</strong>" in portal


def test_a_clinic_can_ask_a_longer_window_for_nsaids(client, front_desk, injector, flip):
    from treatments.models import SubstanceWindow

    SubstanceWindow.objects.create(substance="nsaids", min_days=7, recommended_days=7)
    patient = PatientFactory()
    history(patient, otc_blood_thinners=["nsaids"])
    now = at(date(2026, 11, 26), "09:00")
    with pytest.raises(ValidationError) as exc:
        book(patient, injector, flip, at(date(2026, 12, 1), "10:00"), now=now)
    assert exc.value.code == "precare_too_late"
    assert exc.value.earliest == date(2026, 12, 3)
    book(patient, injector, flip, at(date(2026, 12, 3), "10:00"), now=now)
    # The booking page offers times from that day, not the procedure's usual one.
    client.force_login(front_desk)
    page = client.get(reverse("bookings:book_patient", args=[patient.pk]), {"procedure": flip.pk})
    assert page.context["result"].earliest_date == date(2026, 12, 8)  # 1 December + 7


def test_sign_without_save_keeps_everything_typed(client, healthy, injector, flip):
    # Issue 15: Anaesthetic, "No adverse events" and Notes filled, then Sign
    # pressed without Save: all of it is signed.
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    add(record, lot("Botox Cosmetic", "BTX5"), amount="4")
    client.force_login(injector.user)
    page = client.get(record.get_absolute_url()).content.decode()
    assert 'form="details-form"' in page and "Save and sign" in page
    response = client.post(
        reverse("treatments:record_sign", args=[record.pk]),
        {
            "anaesthetic": "none",
            "no_adverse_events": "on",
            "notes": "Tolerated well.",
            "postcare_given": "Stay upright for 4 hours.",
            "password": "wrong",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Tolerated well." in body  # a wrong password loses nothing typed
    response = client.post(
        reverse("treatments:record_sign", args=[record.pk]),
        {
            "anaesthetic": "none",
            "no_adverse_events": "on",
            "notes": "Tolerated well.",
            "postcare_given": "Stay upright for 4 hours.",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.is_signed
    assert (record.anaesthetic, record.no_adverse_events, record.notes) == (
        "none",
        True,
        "Tolerated well.",
    )


def test_a_manager_signing_cannot_change_the_details(healthy, injector, flip, manager):
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    add(record, lot("Botox Cosmetic", "BTX4"), amount="4")
    complete(record)
    refused(
        "not_your_record",
        services.treatment_sign,
        record=record,
        by=manager,
        password=PASSWORD,
        now=DAY,
        notes="changed",
    )


def test_the_statement_is_offered_only_when_the_window_is_the_only_refusal(
    client, front_desk, healthy, injector, flip
):
    from urllib.parse import urlencode

    signed_flip(healthy, injector, flip)  # a lip flip on 1 December: the gap runs
    client.force_login(front_desk)
    url = reverse("bookings:book_confirm", args=[healthy.pk])
    query = {"procedure": flip.pk, "practitioner": injector.pk}
    inside_both = at(D5 + timedelta(days=2), "10:00")  # 2 days ahead and inside the gap
    page = client.get(f"{url}?{urlencode({**query, 'start': inside_both.isoformat()})}")
    body = page.content.decode()
    assert "Too soon for Lip flip: toxin" in body and "Too soon for Lip flip: the patient" in body
    assert "on the patient's statement" not in body


def test_the_gap_is_named_for_a_combined_procedure_too(client, healthy, injector, flip):
    signed_flip(healthy, injector, flip)
    client.force_login(injector.user)
    page = client.get(healthy.get_absolute_url()).content.decode()
    assert "Next lip flip and filler possible from" in page
    assert "None days" not in page and "at least 90 days apart" in page
