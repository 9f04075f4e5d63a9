"""The waitlist's claim link (issue 16): the page shows the time, a POST
books it through the booking service, and every way it can fail is a kind
page with a way to book another time, never an error."""

from datetime import date

import pytest
from django.urls import reverse

from bookings import waitlist
from bookings.models import Appointment, WaitlistEntry, WaitlistOffer
from tests.bookings.test_waitlist import SLOT, cancel, taken, waiting  # noqa: F401 (taken: a fixture)
from tests.factories import PatientFactory
from tests.helpers import NOW, at, book, history

pytestmark = pytest.mark.django_db


@pytest.fixture
def offers(taken, flip, monkeypatch):  # noqa: F811
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    waiting(flip)
    waiting(flip)
    cancel(taken)
    return list(WaitlistOffer.objects.order_by("pk"))


def claim_url(offer):
    return reverse("online_waitlist_claim", args=[waitlist.offer_token(offer)])


def test_the_link_shows_the_time_and_books_nothing_until_confirmed(client, offers):
    page = client.get(claim_url(offers[0]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Wednesday 2 December 2026, 10:00" in text
    assert "Before your visit" in text
    assert "Book it" in text
    assert not Appointment.objects.filter(starts_at=SLOT, status="booked").exists()


def test_confirming_books_the_time_and_opens_the_done_page(client, offers):
    response = client.post(claim_url(offers[0]))
    booked = Appointment.objects.get(starts_at=SLOT, status="booked")
    assert booked.patient == offers[0].entry.patient
    assert response["Location"] == reverse("online_done")
    done = client.get(response["Location"]).content.decode()
    assert "consent" in done.lower()


def test_the_second_to_claim_is_told_kindly_with_a_link_to_book(client, offers, flip):
    client.post(claim_url(offers[0]))
    for method in ("get", "post"):
        page = getattr(client, method)(claim_url(offers[1]))
        assert page.status_code == 200
        text = page.content.decode()
        assert "someone else has just booked that time" in text
        assert f"{reverse('online_book')}?procedure={flip.pk}" in text
        assert "Book it" not in text
    assert Appointment.objects.filter(starts_at=SLOT, status="booked").count() == 1


def test_a_time_taken_meanwhile_says_so_before_any_claim(client, offers, injector, flip):
    book(PatientFactory(), injector, flip, SLOT)
    text = client.get(claim_url(offers[0])).content.decode()
    assert "someone else has just booked that time" in text


def test_a_used_link_says_it_is_booked(client, offers):
    client.post(claim_url(offers[0]))
    text = client.get(claim_url(offers[0])).content.decode()
    assert "You have booked this time already" in text


def test_a_removed_entry_says_the_offer_is_closed(client, offers):
    waitlist.waitlist_remove(entry=offers[0].entry)
    text = client.get(claim_url(offers[0])).content.decode()
    assert "This offer is closed" in text


def test_an_expired_link_says_so_kindly(client, offers, monkeypatch, settings):
    import time

    from django.core import signing

    url = claim_url(offers[0])
    later = time.time() + settings.WAITLIST_OFFER_HOURS * 3600 + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)
    for method in ("get", "post"):
        page = getattr(client, method)(url)
        assert page.status_code == 410
        assert "this offer has expired" in page.content.decode()
    assert not Appointment.objects.filter(starts_at=SLOT, status="booked").exists()


@pytest.mark.parametrize(
    "token",
    ["x", "", "a:b:c", "%00", "..", "x" * 3000, "eyJvIjoxfQ:1:abc", "null:1vX:abc"],
)
def test_a_tampered_link_is_a_page_not_an_error(client, offers, token):
    good = waitlist.offer_token(offers[0])
    for candidate in (token, good[:-2], good + "x", good.replace(":", "-", 1)):
        if not candidate:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(f"/book-online/waitlist/{candidate}/")
            assert response.status_code in (400, 404), (candidate, response.status_code)
    assert not Appointment.objects.filter(starts_at=SLOT, status="booked").exists()


def test_another_patients_link_is_refused_to_a_logged_in_patient(client, offers, patient_b):
    client.force_login(patient_b.user)
    assert client.post(claim_url(offers[0])).status_code == 403
    assert not Appointment.objects.filter(starts_at=SLOT, status="booked").exists()


def test_a_portal_patient_claims_their_own_offer_as_themselves(client, offers, patient_user):
    patient = offers[0].entry.patient
    patient.user = patient_user
    patient.save()
    client.force_login(patient_user)
    client.post(claim_url(offers[0]))
    booked = Appointment.objects.get(starts_at=SLOT, status="booked")
    assert booked.booked_by == patient_user
    assert WaitlistEntry.objects.get(pk=offers[0].entry_id).status == "booked"


def test_an_offer_in_place_of_a_later_booking_moves_it(
    client,
    taken,  # noqa: F811
    injector,
    flip,
    monkeypatch,
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    patient = PatientFactory()
    history(patient)
    later = book(patient, injector, flip, at(date(2026, 12, 10), "10:00"))
    waitlist.waitlist_join_earlier(appointment=later, by=later.booked_by, now=NOW)
    cancel(taken)
    url = claim_url(WaitlistOffer.objects.get())
    page = client.get(url).content.decode()
    assert "Move to this earlier time?" in page
    assert "Your appointment on Thursday 10 December, 10:00 moves to this time" in page
    client.post(url)
    later.refresh_from_db()
    assert later.starts_at == SLOT
