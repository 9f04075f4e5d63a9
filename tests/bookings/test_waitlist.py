"""The waitlist (issue 16): a freed time is offered, in order, to the entries
that fit it under the engine's PATIENT_BOOK rules, by email with a signed
claim link; the first claim books it through the booking service."""

import time as clock
from datetime import date, timedelta
from functools import partial

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection

from bookings import services, waitlist
from bookings.models import Appointment, WaitlistEntry, WaitlistOffer
from clinic.models import Notification
from tests.bookings.test_concurrency import (  # noqa: F401 (fixtures)
    slow_check,
    without_constraint,
    without_lock,
)
from tests.factories import PatientFactory
from tests.helpers import NOW, at, at_once, book, history

pytestmark = pytest.mark.django_db

SLOT = at(date(2026, 12, 2), "10:00")  # D-6 from NOW: the full window


@pytest.fixture
def taken(injector, flip):
    """Someone else's lip flip at SLOT, to be cancelled or moved."""
    other = PatientFactory(first_name="Tom", last_name="Taken")
    history(other)
    return book(other, injector, flip, SLOT)


def waiting(procedure, *, first=date(2026, 11, 30), last=date(2026, 12, 5), **kwargs):
    patient = kwargs.pop("patient", None)
    if patient is None:
        patient = PatientFactory()
        history(patient)
    return waitlist.waitlist_join(
        patient=patient,
        procedure=procedure,
        earliest=first,
        latest=last,
        by=kwargs.pop("by", None) or _desk(),
        now=NOW,
        **kwargs,
    )


def _desk():
    from clinic.models import User

    return User.objects.online_booking()


def cancel(appointment, now=NOW):
    return services.appointment_cancel(
        appointment=appointment, by=appointment.booked_by, reason="unwell", now=now
    )


def offers_emails():
    return Notification.objects.filter(kind="waitlist_offer").order_by("due_at", "pk")


# Joining


def test_joining_keeps_the_range_and_who_asked(flip):
    entry = waiting(flip, notes="  mornings best ")
    assert entry.status == WaitlistEntry.Status.WAITING
    assert (entry.earliest, entry.latest) == (date(2026, 11, 30), date(2026, 12, 5))
    assert entry.notes == "mornings best"


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        (date(2026, 12, 5), date(2026, 12, 4), "waitlist_range"),
        (date(2026, 11, 1), date(2026, 11, 25), "waitlist_past"),
        (date(2026, 12, 1), date(2027, 11, 27), "waitlist_too_far"),
    ],
)
def test_a_range_that_cannot_be_waited_for_is_refused(flip, first, last, code):
    with pytest.raises(ValidationError) as caught:
        waiting(flip, first=first, last=last)
    assert caught.value.code == code
    assert not WaitlistEntry.objects.exists()


def test_a_range_starting_in_the_past_starts_today(flip):
    entry = waiting(flip, first=date(2026, 11, 1), last=date(2026, 11, 26))
    assert entry.earliest == date(2026, 11, 26)


def test_one_waiting_entry_per_patient_and_procedure(flip, filler):
    entry = waiting(flip)
    with pytest.raises(ValidationError) as caught:
        waiting(flip, patient=entry.patient)
    assert caught.value.code == "waitlist_duplicate"
    assert waiting(filler, patient=entry.patient).procedure == filler
    waitlist.waitlist_remove(entry=entry)
    assert waiting(flip, patient=entry.patient).status == WaitlistEntry.Status.WAITING


def test_a_patient_without_email_cannot_wait(flip):
    patient = PatientFactory(email="")
    with pytest.raises(ValidationError) as caught:
        waiting(flip, patient=patient)
    assert caught.value.code == "waitlist_no_email"


# Offering a freed time


def test_a_cancellation_offers_the_time_by_email_with_a_claim_link(taken, flip, injector):
    entry = waiting(flip)
    cancel(taken)
    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.practitioner, offer.starts_at) == (entry, injector, SLOT)
    (email,) = offers_emails()
    assert email.to_email == entry.patient.email
    assert email.due_at == NOW and email.not_after == SLOT
    assert "Wednesday 2 December at 10:00" in email.subject
    token = email.body_text.split("/book-online/waitlist/")[1].split("/")[0]
    assert waitlist.read_offer_token(token) == (offer, None)


def test_a_move_offers_the_time_it_left(taken, flip, injector):
    entry = waiting(flip)
    services.appointment_reschedule(
        appointment=taken, starts_at=at(date(2026, 12, 3), "10:00"), by=taken.booked_by, now=NOW
    )
    assert WaitlistOffer.objects.get().entry == entry
    assert WaitlistOffer.objects.get().starts_at == SLOT


def test_nothing_is_offered_when_nobody_fits(taken, flip, second_injector):
    waiting(flip, first=date(2026, 12, 3))  # another range
    waiting(flip, practitioner=second_injector)  # another practitioner
    removed = waiting(flip)
    waitlist.waitlist_remove(entry=removed)
    cancel(taken)
    assert not WaitlistOffer.objects.exists()
    assert not offers_emails().exists()


def test_another_procedure_is_offered_the_time_only_if_it_fits_there(taken, injector, flip, filler):
    # Right after the lip flip: a filler (longer) no longer fits at 10:00.
    after = book(PatientFactory(), injector, flip, taken.blocked_until)
    waiting(filler)
    cancel(taken)
    assert not WaitlistOffer.objects.exists()
    cancel(after)
    assert WaitlistOffer.objects.get().entry.procedure == filler


def test_a_time_inside_the_recommended_window_is_not_offered(injector, flip):
    # Booked by the front desk at D-3 (accepted with a warning): a patient
    # booking for themselves gets the full window only.
    other = PatientFactory()
    history(other)
    late = book(other, injector, flip, at(date(2026, 11, 29), "10:00"))
    waiting(flip, first=date(2026, 11, 27))
    cancel(late)
    assert not WaitlistOffer.objects.exists()


def test_the_90_day_toxin_gap_holds_for_the_patient_offered(taken, flip):
    recent = PatientFactory()
    history(recent, toxin_elsewhere=True, toxin_elsewhere_date=date(2026, 10, 1))
    waiting(flip, patient=recent)
    clear = waiting(flip)
    cancel(taken)
    assert [o.entry for o in WaitlistOffer.objects.all()] == [clear]


def test_offers_go_in_the_order_people_joined_a_few_at_a_time(taken, flip, settings):
    settings.WAITLIST_OFFERS_PER_TIME = 3
    entries = [waiting(flip) for _ in range(4)]
    cancel(taken)
    offered = [o.entry for o in WaitlistOffer.objects.order_by("pk")]
    assert offered == entries[:3]
    gap = timedelta(minutes=settings.WAITLIST_OFFER_GAP_MINUTES)
    assert [e.due_at for e in offers_emails()] == [NOW, NOW + gap, NOW + 2 * gap]
    assert [e.to_email for e in offers_emails()] == [e.patient.email for e in entries[:3]]


def test_a_time_freed_twice_is_not_offered_twice_to_one_entry(taken, flip, injector):
    waiting(flip)
    cancel(taken)
    again = book(PatientFactory(), injector, flip, SLOT)
    cancel(again)
    assert WaitlistOffer.objects.count() == 1
    assert offers_emails().count() == 1


def test_a_past_time_is_not_offered(taken, flip):
    waiting(flip)
    cancel(taken, now=SLOT + timedelta(minutes=5))
    assert not WaitlistOffer.objects.exists()


# Claiming


def _offered(taken, flip, count=2):
    entries = [waiting(flip) for _ in range(count)]
    cancel(taken)
    return entries, list(WaitlistOffer.objects.order_by("pk"))


def test_the_first_claim_books_and_the_rest_are_told_kindly(taken, flip, injector):
    (first, second), (offer_1, offer_2) = _offered(taken, flip)
    booked = waitlist.waitlist_claim(offer=offer_1, by=_desk(), now=NOW)
    assert (booked.patient, booked.starts_at, booked.status) == (first.patient, SLOT, "booked")
    first.refresh_from_db()
    assert (first.status, first.appointment) == (WaitlistEntry.Status.BOOKED, booked)
    assert Notification.objects.filter(appointment=booked, kind="confirmation").exists()
    # The second offer's email was still waiting (30 minutes later): withdrawn.
    later = offers_emails().get(to_email=second.patient.email)
    assert later.status == Notification.Status.CANCELLED
    with pytest.raises(ValidationError) as caught:
        waitlist.waitlist_claim(offer=offer_2, by=_desk(), now=NOW)
    assert caught.value.code == "waitlist_taken"
    assert "someone else has just booked" in caught.value.messages[0]
    assert Appointment.objects.filter(starts_at=SLOT, status="booked").count() == 1
    second.refresh_from_db()
    assert second.status == WaitlistEntry.Status.WAITING


def test_claiming_twice_is_refused_without_a_second_booking(taken, flip):
    _, (offer, _) = _offered(taken, flip)
    waitlist.waitlist_claim(offer=offer, by=_desk(), now=NOW)
    with pytest.raises(ValidationError) as caught:
        waitlist.waitlist_claim(offer=offer, by=_desk(), now=NOW)
    assert caught.value.code == "waitlist_used"
    assert Appointment.objects.filter(starts_at=SLOT, status="booked").count() == 1


def test_a_removed_entry_cannot_claim(taken, flip):
    (entry, _), (offer, _) = _offered(taken, flip)
    waitlist.waitlist_remove(entry=entry)
    with pytest.raises(ValidationError) as caught:
        waitlist.waitlist_claim(offer=offer, by=_desk(), now=NOW)
    assert caught.value.code == "waitlist_closed"


def test_a_claim_runs_every_patient_book_rule_again(taken, flip):
    (entry, _), (offer, _) = _offered(taken, flip)
    # Since the offer, the patient told us of a toxin elsewhere last month.
    history(entry.patient, toxin_elsewhere=True, toxin_elsewhere_date=date(2026, 10, 20))
    with pytest.raises(ValidationError) as caught:
        waitlist.waitlist_claim(offer=offer, by=_desk(), now=NOW)
    assert "toxin_too_soon" in [e.code for e in caught.value.error_list]
    assert not Appointment.objects.filter(starts_at=SLOT, status="booked").exists()


def test_a_time_taken_by_the_front_desk_meanwhile_is_taken(taken, flip, injector):
    _, (offer, _) = _offered(taken, flip)
    book(PatientFactory(), injector, flip, SLOT)
    with pytest.raises(ValidationError) as caught:
        waitlist.waitlist_claim(offer=offer, by=_desk(), now=NOW)
    assert caught.value.code == "waitlist_taken"


# The claim link


def test_a_link_expires(taken, flip, monkeypatch, settings):
    _, (offer, _) = _offered(taken, flip)
    token = waitlist.offer_token(offer)
    later = clock.time() + settings.WAITLIST_OFFER_HOURS * 3600 + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert waitlist.read_offer_token(token) == (None, waitlist.OFFER_EXPIRED)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t[: len(t) // 2],
        lambda t: "",
        lambda t: "x:y:z",
        lambda t: "\x00" + t,
        lambda t: t.replace(":", "::"),
        lambda t: signing.TimestampSigner(salt=waitlist.TOKEN_SALT).sign_object(["o", 1]),
        lambda t: signing.TimestampSigner(salt=waitlist.TOKEN_SALT).sign_object({"o": "1"}),
        lambda t: signing.TimestampSigner(salt=waitlist.TOKEN_SALT).sign_object({"o": 99999}),
        lambda t: signing.TimestampSigner(salt="another").sign_object({"o": 1}),
        lambda t: signing.TimestampSigner(salt=waitlist.TOKEN_SALT).sign("not json"),
    ],
)
def test_a_tampered_link_is_bad_not_an_error(taken, flip, mangle):
    _, (offer, _) = _offered(taken, flip)
    assert waitlist.read_offer_token(mangle(waitlist.offer_token(offer))) == (
        None,
        waitlist.OFFER_BAD,
    )


# Two patients claim one time at once


def _claim_race(offers):
    return at_once(
        [partial(waitlist.waitlist_claim, offer=offer, by=_desk(), now=NOW) for offer in offers]
    )


@pytest.fixture
def no_guards(without_lock, without_constraint):  # noqa: F811
    """No patient lock and no exclusion constraint (tests.bookings.
    test_concurrency); the waitlist's rows go before the appointments they
    name, so the constraint can come back."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bookings_waitlistoffer; DELETE FROM bookings_waitlistentry;")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_the_booking_guards_two_claims_both_book(taken, flip, slow_check, no_guards):  # noqa: F811
    _, offers = _offered(taken, flip, count=3)
    assert _claim_race(offers).count("booked") > 1
    assert Appointment.objects.filter(starts_at=SLOT, status="booked").count() > 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_patients_claiming_one_time_at_once_get_one_booking(taken, flip, slow_check):  # noqa: F811
    _, offers = _offered(taken, flip, count=3)
    results = _claim_race(offers)
    assert sorted(results) == ["booked", "waitlist_taken", "waitlist_taken"]
    assert Appointment.objects.filter(starts_at=SLOT, status="booked").count() == 1
    assert WaitlistEntry.objects.filter(status=WaitlistEntry.Status.BOOKED).count() == 1


def test_an_erasure_request_takes_the_patient_off_the_waitlist(flip, front_desk):
    from clinic.privacy.services import erasure_request

    entry = waiting(flip)
    erasure_request(patient=entry.patient, by=front_desk, now=NOW)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.REMOVED


# Earlier than a booking the patient has: a claim moves it


@pytest.fixture
def later(injector, flip):
    """A patient's own lip flip on 10 December, who would like it sooner."""
    patient = PatientFactory(first_name="Lena", last_name="Later")
    history(patient)
    return book(patient, injector, flip, at(date(2026, 12, 10), "10:00"))


def test_asking_for_earlier_waits_until_the_day_before(later):
    entry = waitlist.waitlist_join_earlier(appointment=later, by=later.booked_by, now=NOW)
    assert (entry.earliest, entry.latest, entry.replaces) == (
        date(2026, 11, 26),
        date(2026, 12, 9),
        later,
    )


def test_nothing_earlier_when_the_appointment_is_today(injector, flip):
    patient = PatientFactory()
    history(patient)
    soon = book(patient, injector, flip, at(date(2026, 11, 26), "15:00"), attestation="none")
    with pytest.raises(ValidationError) as caught:
        waitlist.waitlist_join_earlier(appointment=soon, by=soon.booked_by, now=NOW)
    assert caught.value.code == "waitlist_nothing_earlier"


def test_only_the_patients_own_booking_of_that_procedure_can_be_replaced(later, filler):
    with pytest.raises(ValidationError) as caught:
        waiting(filler, replaces=later, last=date(2026, 12, 9))
    assert caught.value.code == "waitlist_not_replaceable"
    with pytest.raises(ValidationError) as caught:
        waiting(later.procedure, patient=later.patient, replaces=later, last=date(2026, 12, 10))
    assert caught.value.code == "waitlist_not_earlier"


def test_a_claim_moves_the_later_booking_and_frees_its_time_in_turn(taken, later, flip):
    entry = waitlist.waitlist_join_earlier(appointment=later, by=later.booked_by, now=NOW)
    wants_10th = waiting(flip, first=date(2026, 12, 10), last=date(2026, 12, 12))
    cancel(taken)
    offer = WaitlistOffer.objects.get(entry=entry)
    moved = waitlist.waitlist_claim(offer=offer, by=_desk(), now=NOW)
    assert moved.pk == later.pk and moved.starts_at == SLOT
    assert Appointment.objects.filter(patient=later.patient, status="booked").count() == 1
    assert Notification.objects.filter(appointment=later, kind="moved").exists()
    # The 10 December time it left goes to the next on the waitlist.
    assert WaitlistOffer.objects.get(entry=wants_10th).starts_at == at(date(2026, 12, 10), "10:00")


def test_an_entry_whose_booking_was_cancelled_is_not_offered(taken, later):
    waitlist.waitlist_join_earlier(appointment=later, by=later.booked_by, now=NOW)
    cancel(later)
    cancel(taken)
    assert not WaitlistOffer.objects.filter(starts_at=SLOT).exists()


def test_the_front_desk_cannot_stretch_an_earlier_wait_past_the_booking(later):
    entry = waitlist.waitlist_join_earlier(appointment=later, by=later.booked_by, now=NOW)
    with pytest.raises(ValidationError) as caught:
        waitlist.waitlist_update(
            entry=entry, earliest=entry.earliest, latest=date(2026, 12, 12), now=NOW
        )
    assert caught.value.code == "waitlist_not_earlier"
