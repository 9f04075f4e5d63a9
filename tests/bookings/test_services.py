from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from bookings import services
from bookings.models import Appointment, AppointmentEvent, ScheduleException, TimeOff
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.helpers import LONDON, NOW, at, book, history
from treatments.models import Procedure

pytestmark = pytest.mark.django_db

D5, D4, D3, D2, D1 = (date(2026, 11, 26) + timedelta(days=n) for n in (5, 4, 3, 2, 1))


def refused(code, fn, *args, **kwargs):
    appointments = list(Appointment.objects.values_list("pk", "status", "starts_at"))
    events = AppointmentEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        fn(*args, **kwargs)
    assert exc.value.code == code, exc.value.messages
    assert list(Appointment.objects.values_list("pk", "status", "starts_at")) == appointments
    assert AppointmentEvent.objects.count() == events
    return exc.value.messages[0]


# Booking and the pre-care window


def test_booking_five_days_out_tells_the_stop_date(healthy, injector, flip, front_desk):
    appointment = book(healthy, injector, flip, at(D5, "10:00"), by=front_desk)
    assert appointment.precare_stop_date == date(2026, 11, 27)  # D-4
    assert appointment.precare_flag == ""
    assert (appointment.ends_at, appointment.blocked_until) == (at(D5, "10:15"), at(D5, "10:25"))
    assert appointment.booked_by == front_desk
    event = appointment.events.get()
    assert (event.kind, event.by) == ("booked", front_desk)


def test_booking_at_d_minus_4_has_no_warning(healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D4, "10:00"))
    assert (appointment.precare_flag, appointment.precare_stop_date) == ("", date(2026, 11, 26))


def test_booking_at_d_minus_3_warns_stop_today(healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D3, "10:00"))
    assert appointment.precare_flag == "short_window"
    assert appointment.precare_stop_date == date(2026, 11, 26)


@pytest.mark.parametrize("day", [D2, D1, date(2026, 11, 26)])
def test_later_is_refused_naming_the_earliest_date(healthy, injector, flip, day):
    message = refused(
        "precare_too_late",
        book,
        healthy,
        injector,
        flip,
        at(day, "15:00"),
        now=NOW.replace(hour=8),
    )
    assert "Sunday 29 November 2026" in message
    assert "at least 3 full days" in message


def test_late_booking_on_the_patients_statement_is_flagged(healthy, injector, flip, front_desk):
    statement = "No alcohol or painkillers since Monday; she does not take supplements."
    appointment = book(
        healthy, injector, flip, at(D1, "10:00"), attestation=statement, by=front_desk
    )
    assert appointment.precare_flag == "attested"
    assert (appointment.attestation, appointment.attestation_recorded_by) == (statement, front_desk)
    assert appointment.attestation_recorded_at == NOW
    assert appointment.precare_stop_date == date(2026, 11, 24)  # D-3: what she attests to


def test_a_blank_statement_is_no_statement(healthy, injector, flip):
    refused("precare_too_late", book, healthy, injector, flip, at(D1, "10:00"), attestation="  ")


def test_a_statement_is_not_kept_when_none_was_needed(healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"), attestation="not needed")
    assert (appointment.precare_flag, appointment.attestation) == ("", "")


def test_combined_procedure_blocks_its_parts_time_and_longest_window(healthy, injector, combined):
    filler = combined.components.get(code="lip-filler")
    filler.precare_min_days, filler.precare_recommended_days = 5, 7
    filler.save()
    combined = Procedure.objects.with_parts().get(pk=combined.pk)
    message = refused("precare_too_late", book, healthy, injector, combined, at(D4, "09:00"))
    assert "Tuesday 1 December 2026" in message  # today + 5
    appointment = book(healthy, injector, combined, at(date(2026, 12, 3), "09:00"))
    assert appointment.blocked_until == at(date(2026, 12, 3), "10:15")  # 60 + 15 minutes
    assert appointment.precare_stop_date == date(2026, 11, 26)  # D-7


# The clock change: days count in London, not UTC


def test_a_booking_just_after_midnight_bst_counts_the_local_day(healthy, injector, flip):
    # 23:30 UTC on Saturday 24 October 2026 is 00:30 BST on Sunday 25 October.
    now = datetime.fromisoformat("2026-10-24T23:30:00+00:00")
    MedicalHistoryFactory(patient=healthy, submitted_at=datetime(2026, 10, 1, tzinfo=LONDON))
    appointment = book(healthy, injector, flip, at(date(2026, 10, 28), "10:00"), now=now)
    # 25 -> 28 October is 3 days: the minimum only, so a warning (UTC would say 4).
    assert appointment.precare_flag == "short_window"
    assert appointment.precare_stop_date == date(2026, 10, 25)


def test_a_booking_across_the_spring_change(healthy, injector, flip):
    now = datetime.fromisoformat("2027-03-27T23:30:00+00:00")  # 23:30 GMT, Saturday
    MedicalHistoryFactory(patient=healthy, submitted_at=datetime(2027, 3, 1, tzinfo=LONDON))
    appointment = book(healthy, injector, flip, at(date(2027, 3, 31), "09:00"), now=now)
    assert appointment.starts_at == datetime.fromisoformat("2027-03-31T08:00:00+00:00")
    assert (appointment.precare_flag, appointment.precare_stop_date) == ("", date(2027, 3, 27))


# Refusals that are not about the window


def test_the_past_is_refused(healthy, injector, flip):
    refused("in_past", book, healthy, injector, flip, at(date(2026, 11, 26), "08:59"))


@pytest.mark.parametrize(
    "hhmm",
    ["08:55", "12:40", "16:40", "17:00", "13:30"],  # 12:40 + 25 min runs into lunch
)
def test_outside_working_hours_is_refused(healthy, injector, flip, hhmm):
    message = refused("outside_hours", book, healthy, injector, flip, at(D5, hhmm))
    assert "Pick one of the free slots" in message


def test_the_last_slot_before_lunch_and_before_closing(healthy, injector, flip):
    assert book(healthy, injector, flip, at(D5, "12:35")).blocked_until == at(D5, "13:00")
    assert book(healthy, injector, flip, at(D5, "16:35")).blocked_until == at(D5, "17:00")


def test_a_clinic_closure_and_a_day_change(healthy, injector, flip):
    ScheduleException.objects.create(date=D5, reason="Bank holiday")
    refused("outside_hours", book, healthy, injector, flip, at(D5, "10:00"))
    ScheduleException.objects.create(
        practitioner=injector,
        date=date(2026, 12, 2),
        starts=at(D5, "18:00").time(),
        ends=at(D5, "19:30").time(),
    )
    refused("outside_hours", book, healthy, injector, flip, at(date(2026, 12, 2), "10:00"))
    assert book(healthy, injector, flip, at(date(2026, 12, 2), "18:00")).pk


def test_time_off_is_refused(healthy, injector, flip):
    TimeOff.objects.create(
        practitioner=injector, starts_at=at(D5, "00:00"), ends_at=at(D5, "23:59")
    )
    message = refused("practitioner_away", book, healthy, injector, flip, at(D5, "10:00"))
    assert "is away" in message


def test_an_overlap_for_the_practitioner_is_refused_buffer_included(healthy, injector, flip):
    book(PatientFactory(), injector, flip, at(D5, "10:00"))  # blocked until 10:25
    refused("slot_taken", book, healthy, injector, flip, at(D5, "10:20"))
    refused("slot_taken", book, healthy, injector, flip, at(D5, "09:40"))  # its buffer overlaps
    assert book(healthy, injector, flip, at(D5, "10:25")).pk
    assert book(PatientFactory(), injector, flip, at(D5, "09:35")).pk  # ends exactly 10:00


def test_an_overlap_for_the_patient_is_refused(healthy, injector, second_injector, flip, filler):
    book(healthy, injector, flip, at(D5, "10:00"))
    message = refused("patient_busy", book, healthy, second_injector, filler, at(D5, "10:10"))
    assert "Hana Healthy already has an appointment" in message


def test_a_cancelled_appointment_frees_its_time(healthy, injector, flip, front_desk):
    first = book(healthy, injector, flip, at(D5, "10:00"))
    services.appointment_cancel(appointment=first, by=front_desk, reason="Unwell", now=NOW)
    assert book(PatientFactory(), injector, flip, at(D5, "10:00")).pk


def test_a_contraindicated_patient_cannot_be_booked_for_that_procedure(injector, flip, filler):
    patient = PatientFactory(first_name="Liv", last_name="Docaine")
    history(patient, allergy_lidocaine=True)
    message = refused("contraindicated", book, patient, injector, filler, at(D5, "10:00"))
    assert "allerg" not in message.lower()  # front desk reads this: no clinical detail
    assert book(patient, injector, flip, at(D5, "10:00")).screening_outcome == "clear"


def test_prescribed_anticoagulants_flag_the_booking_for_the_practitioner(injector, filler):
    patient = PatientFactory()
    history(patient, prescribed_anticoagulants=["apixaban"])
    appointment = book(patient, injector, filler, at(D5, "10:00"))
    assert appointment.on_anticoagulants is True
    assert (appointment.screening_outcome, appointment.screening_codes) == (
        "caution",
        ["anticoagulants"],
    )


def test_a_missing_or_stale_history_does_not_block_booking(injector, flip):
    missing = book(PatientFactory(), injector, flip, at(D5, "09:00"))
    stale_patient = PatientFactory()
    MedicalHistoryFactory(patient=stale_patient, submitted_at=datetime(2026, 5, 1, tzinfo=LONDON))
    stale = book(stale_patient, injector, flip, at(D5, "10:00"))
    assert (missing.history_state, missing.screening_outcome) == ("missing", "")
    assert stale.history_state == "stale"
    assert missing.needs_history and stale.needs_history


def test_an_inactive_practitioner_or_procedure(healthy, injector, flip):
    flip.is_active = False
    refused("procedure_not_offered", book, healthy, injector, flip, at(D5, "10:00"))
    flip.is_active = True
    injector.is_active = False
    refused("practitioner_not_bookable", book, healthy, injector, flip, at(D5, "10:00"))


# Moving


def test_reschedule_recomputes_the_window_from_today(healthy, injector, second_injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    later = NOW + timedelta(days=1)  # Friday 27th: D5 is now 4 days out
    moved = services.appointment_reschedule(
        appointment=appointment,
        starts_at=at(D5, "11:00"),
        by=injector.user,
        practitioner=second_injector,
        now=later,
    )
    assert (moved.starts_at, moved.practitioner, moved.precare_stop_date) == (
        at(D5, "11:00"),
        second_injector,
        date(2026, 11, 27),
    )
    event = moved.events.get(kind="moved")
    assert event.details["from"] == at(D5, "10:00").isoformat()
    assert event.details["to_practitioner"] == second_injector.pk


def test_moving_closer_is_refused_without_a_statement(healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    refused(
        "precare_too_late",
        services.appointment_reschedule,
        appointment=appointment,
        starts_at=at(D2, "10:00"),
        by=injector.user,
        now=NOW,
    )
    moved = services.appointment_reschedule(
        appointment=appointment,
        starts_at=at(D2, "10:00"),
        by=injector.user,
        now=NOW,
        attestation="Confirmed by phone: none since Tuesday.",
    )
    assert moved.precare_flag == "attested"


def test_moving_within_its_own_time_is_not_an_overlap(healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    moved = services.appointment_reschedule(
        appointment=appointment, starts_at=at(D5, "10:10"), by=injector.user, now=NOW
    )
    assert moved.starts_at == at(D5, "10:10")


def test_only_booked_appointments_move(healthy, injector, flip, front_desk):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    services.appointment_cancel(appointment=appointment, by=front_desk, reason="x", now=NOW)
    refused(
        "wrong_status",
        services.appointment_reschedule,
        appointment=appointment,
        starts_at=at(D5, "11:00"),
        by=front_desk,
        now=NOW,
    )


# Cancelling, checking in, no-shows


def test_cancelling_needs_a_reason(healthy, injector, flip, front_desk):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    refused(
        "cancel_reason_required",
        services.appointment_cancel,
        appointment=appointment,
        by=front_desk,
        reason=" ",
    )
    services.appointment_cancel(appointment=appointment, by=front_desk, reason="Flu", now=NOW)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == ("cancelled", "Flu")
    assert appointment.events.get(kind="cancelled").by == front_desk


@pytest.fixture
def due_today(healthy, injector, flip):
    """An appointment at 11:00 on D5, with "now" moved to 08:30 that day."""
    appointment = book(healthy, injector, flip, at(D5, "11:00"))
    return appointment, at(D5, "08:30")


def test_check_in_marks_the_arrival_only(due_today, front_desk):
    # The window is confirmed by the practitioner in the same-day check
    # (tests/treatments/test_same_day.py), not by the front desk.
    appointment, now = due_today
    checked = services.appointment_check_in(appointment=appointment, by=front_desk, now=now)
    assert (checked.status, checked.precare_confirmed_by, checked.precare_confirmed_at) == (
        "checked_in",
        None,
        None,
    )


def test_check_in_is_on_the_day(due_today, front_desk):
    appointment, _ = due_today
    refused(
        "not_today",
        services.appointment_check_in,
        appointment=appointment,
        by=front_desk,
        now=NOW,
    )


def test_check_in_flags_a_missing_history_and_refuses_a_contraindication(
    injector, flip, front_desk
):
    patient = PatientFactory()
    appointment = book(patient, injector, flip, at(D5, "11:00"))
    now = at(D5, "08:30")
    history(patient, pregnant_or_breastfeeding=True)
    kwargs = {"appointment": appointment, "by": front_desk, "now": now}
    refused("contraindicated", services.appointment_check_in, **kwargs)
    other = PatientFactory()
    later = book(other, injector, flip, at(D5, "12:00"))
    checked = services.appointment_check_in(appointment=later, by=front_desk, now=now)
    assert checked.history_state == "missing"
    assert checked.events.get(kind="checked_in").details["flags"] == ["history_needed"]


def test_no_show_only_after_the_start(due_today, front_desk):
    appointment, now = due_today
    refused(
        "too_early",
        services.appointment_mark_no_show,
        appointment=appointment,
        by=front_desk,
        now=now,
    )
    marked = services.appointment_mark_no_show(
        appointment=appointment, by=front_desk, now=at(D5, "11:20")
    )
    assert marked.status == "no_show"
    refused(
        "wrong_status",
        services.appointment_check_in,
        appointment=appointment,
        by=front_desk,
        now=at(D5, "11:30"),
    )


def test_complete_after_check_in(due_today, front_desk, injector):
    appointment, now = due_today
    services.appointment_check_in(appointment=appointment, by=front_desk, now=now)
    done = services.appointment_complete(appointment=appointment, by=injector.user, now=now)
    assert done.status == "completed"
    assert list(done.events.values_list("kind", flat=True)) == ["booked", "checked_in", "completed"]
