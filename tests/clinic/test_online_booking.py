"""The public booking page (issue 16): a visitor picks a time without logging
in; a new patient gives their details, the time is held, they prove their
email, answer the history, and book under every PATIENT_BOOK rule."""

import re
import time
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.urls import reverse

from bookings.models import Appointment, OnlineSignup
from clinic.medical import ALL_NO
from clinic.models import MedicalHistory, Notification, OnlineBookingSettings, Patient
from tests.factories import PatientFactory
from tests.helpers import NOW, at

pytestmark = pytest.mark.django_db

START = at(date(2026, 12, 2), "10:00")
DETAILS = {
    "first_name": "Nia",
    "last_name": "Newcomer",
    "date_of_birth": "1990-05-04",
    "email": "nia@example.com",
    "phone": "07700 900123",
    "website": "",
}
NO_TO_ALL = dict.fromkeys(ALL_NO, "no")


@pytest.fixture
def visitor(client, injector, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return client


def details_url(procedure, practitioner, start=START):
    query = urlencode(
        {"procedure": procedure.pk, "practitioner": practitioner.pk, "start": start.isoformat()}
    )
    return f"{reverse('online_details')}?{query}"


def link_in(message):
    return re.search(r"http://testserver(/book-online/verify/[^/\s]+/)", message.body).group(1)


def sign_up(client, procedure, practitioner, **changes):
    response = client.post(details_url(procedure, practitioner), DETAILS | changes)
    return response


def through_history(client, procedure, practitioner, answers=NO_TO_ALL, **changes):
    assert sign_up(client, procedure, practitioner, **changes).status_code == 302
    assert client.get(link_in(mail.outbox[-1]))["Location"] == reverse("online_history")
    response = client.post(reverse("online_history"), answers)
    assert response["Location"] == reverse("online_confirm")


def test_anyone_sees_free_times_from_the_recommended_day(visitor, flip, filler):
    filler.online_booking = False
    filler.save()
    page = visitor.get(reverse("online_book"))
    assert page.status_code == 200
    assert flip in page.context["procedures"] and filler not in page.context["procedures"]
    page = visitor.get(reverse("online_book"), {"procedure": flip.pk})
    days = list(page.context["days"])
    assert days[0] == NOW.date() + timedelta(days=4)  # D-4, never the D-3 minimum
    assert days == sorted(days)
    assert reverse("online_details") in page.content.decode()


def test_a_portal_patient_is_sent_to_their_own_booking_page(client, patient_a, flip):
    client.force_login(patient_a.user)
    response = client.get(reverse("online_book"), {"procedure": flip.pk})
    assert response["Location"] == f"{reverse('portal_book')}?procedure={flip.pk}"


def test_a_d_minus_3_time_is_refused_if_posted(visitor, flip, injector):
    d3 = at(NOW.date() + timedelta(days=3), "10:00")
    response = visitor.post(details_url(flip, injector, d3), DETAILS)
    assert response.status_code == 200
    assert "patient_window" in [e.code for e in response.context["form"].non_field_errors().data]
    assert not Appointment.with_holds.exists()
    assert mail.outbox == []


def test_under_18_is_refused_on_the_date_of_birth(visitor, flip, injector):
    response = sign_up(visitor, flip, injector, date_of_birth="2010-01-01")
    assert [e.code for e in response.context["form"].errors["date_of_birth"].data] == ["under_age"]
    assert not Appointment.with_holds.exists()


def test_the_details_hold_the_time_and_email_a_link(visitor, flip, injector):
    response = sign_up(visitor, flip, injector)
    assert response["Location"] == reverse("online_check_email")
    hold = Appointment.with_holds.get()
    assert hold.status == Appointment.Status.HELD and hold.patient is None
    assert Appointment.objects.count() == 0
    assert Patient.objects.count() == 0  # nobody is a patient before the email is proved
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nia@example.com"]
    assert "Newcomer" not in link_in(mail.outbox[0])  # no details in the link
    page = visitor.get(reverse("online_book"), {"procedure": flip.pk})
    times = [label for by in page.context["days"].values() for s in by.values() for label, _ in s]
    assert page.context["days"][START.date()]  # the day still has other times
    assert times.count("10:00") < len(page.context["days"])


def test_a_new_patient_books_and_signs_next(visitor, flip, injector):
    through_history(visitor, flip, injector)
    patient = Patient.objects.get()
    assert (patient.first_name, patient.email) == ("Nia", "nia@example.com")
    assert MedicalHistory.objects.get(patient=patient).source == "patient"
    page = visitor.get(reverse("online_confirm"))
    assert "Before your visit" in page.content.decode()
    response = visitor.post(reverse("online_confirm"), {})
    assert response["Location"] == reverse("online_done")
    appointment = Appointment.objects.get()
    assert appointment.patient == patient and appointment.starts_at == START
    assert Notification.objects.filter(appointment=appointment, kind="confirmation").exists()
    done = visitor.get(reverse("online_done")).content.decode()
    assert "/consent/" in done and "Sign the consent form now" in done
    ics = visitor.get(reverse("online_ics"))
    assert ics["Content-Type"] == "text/calendar" and b"BEGIN:VEVENT" in ics.content


def test_the_same_person_is_never_a_second_record(visitor, flip, injector):
    existing = PatientFactory(
        first_name="Nia",
        last_name="Newcomer",
        date_of_birth=date(1990, 5, 4),
        email="Nia@Example.com",
    )
    other = PatientFactory(
        first_name="Nia", last_name="Newcomer", date_of_birth=date(1990, 5, 4), email=""
    )
    response = sign_up(visitor, flip, injector)
    assert response["Location"] == reverse("online_check_email")
    visitor.get(link_in(mail.outbox[-1]))
    visitor.post(reverse("online_history"), NO_TO_ALL)
    visitor.post(reverse("online_confirm"), {})
    assert Patient.objects.count() == 2
    assert Appointment.objects.get().patient == existing
    assert not other.appointments.exists()


def test_nothing_tells_whether_someone_is_registered(client, injector, flip, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    pages, bodies = [], []
    for email in ("known@example.com", "unknown@example.com"):
        if email.startswith("known"):
            PatientFactory(
                first_name="Nia", last_name="Newcomer", date_of_birth=date(1990, 5, 4), email=email
            )
        start = START + timedelta(hours=len(pages))
        response = client.post(details_url(flip, injector, start), DETAILS | {"email": email})
        pages.append(client.get(response["Location"]).content.decode())
        bodies.append(link_in(mail.outbox[-1]) and mail.outbox[-1].body.split("http")[0])
        history = client.get(link_in(mail.outbox[-1]), follow=True).content.decode()
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", history))
    assert pages[0] == pages[2] and pages[1] == pages[3]
    assert bodies[0] == bodies[1]


def test_a_contraindication_asks_to_call_and_books_nothing(visitor, flip, injector):
    through_history(
        visitor, flip, injector, answers=NO_TO_ALL | {"pregnant_or_breastfeeding": "yes"}
    )
    response = visitor.post(reverse("online_confirm"), {})
    text = response.content.decode()
    assert "Please call us on" in text and "rules out" not in text
    assert not Appointment.objects.exists()


def test_a_caution_is_booked_and_flagged(visitor, filler, injector):
    through_history(visitor, filler, injector, answers=NO_TO_ALL | {"cold_sores": "yes"})
    visitor.post(reverse("online_confirm"), {})
    appointment = Appointment.objects.get()
    assert appointment.screening_outcome == "caution"
    assert "filler_cold_sores" in appointment.screening_codes


def test_the_honeypot_looks_like_success_and_does_nothing(visitor, flip, injector):
    response = sign_up(visitor, flip, injector, website="http://spam.example")
    assert response["Location"] == reverse("online_check_email")
    assert not Appointment.with_holds.exists() and mail.outbox == []


def test_sign_ups_are_throttled_per_email(visitor, flip, injector, settings):
    settings.ONLINE_BOOKINGS_PER_HOUR = 2
    for hour in range(2):
        start = START + timedelta(hours=hour)
        assert visitor.post(details_url(flip, injector, start), DETAILS).status_code == 302
    response = visitor.post(details_url(flip, injector, START + timedelta(hours=3)), DETAILS)
    assert "online_too_many" in [e.code for e in response.context["form"].non_field_errors().data]
    assert Appointment.with_holds.count() == 2


def test_sign_ups_are_throttled_per_address(visitor, flip, injector, settings):
    settings.ONLINE_BOOKINGS_PER_HOUR = 1  # ten per address
    for n in range(10):
        start = START + timedelta(days=n)
        data = DETAILS | {"email": f"p{n}@example.com"}
        assert visitor.post(details_url(flip, injector, start), data).status_code == 302
    data = DETAILS | {"email": "p11@example.com"}
    response = visitor.post(details_url(flip, injector, START + timedelta(days=11)), data)
    assert "Too many online bookings" in response.content.decode()


def test_bad_links_are_clear_and_throttled(visitor, settings):
    settings.ONLINE_BOOKINGS_PER_HOUR = 1
    for _ in range(10):
        response = visitor.get(reverse("online_verify", args=["nonsense"]))
        assert response.status_code == 400
        assert "not complete" in response.content.decode()
    assert visitor.get(reverse("online_verify", args=["nonsense"])).status_code == 429


def test_an_old_link_has_expired(visitor, flip, injector, monkeypatch):
    sign_up(visitor, flip, injector)
    link = link_in(mail.outbox[-1])
    later = time.time() + 31 * 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = visitor.get(link)
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_a_lapsed_hold_taken_by_someone_else_says_so(visitor, flip, injector, healthy, monkeypatch):
    from tests.helpers import book

    sign_up(visitor, flip, injector)
    later = NOW + timedelta(minutes=25)
    book(healthy, injector, flip, START, now=later)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    response = visitor.get(link_in(mail.outbox[-1]))
    assert response.status_code == 410
    assert "has been released" in response.content.decode()


def test_the_later_steps_need_the_verified_session(client):
    for name in ("online_history", "online_confirm", "online_done", "online_ics"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert "could not find your booking" in response.content.decode()


def test_new_patients_can_be_asked_to_call(visitor, flip, injector):
    OnlineBookingSettings.objects.update_or_create(pk=1, defaults={"new_patients": False})
    response = sign_up(visitor, flip, injector)
    assert response.status_code == 200
    assert "New patients book by phone" in response.content.decode()
    assert not Appointment.with_holds.exists() and not OnlineSignup.objects.exists()


def test_a_new_patient_asks_for_an_earlier_time_after_booking(visitor, flip, injector):
    from bookings.models import WaitlistEntry

    through_history(visitor, flip, injector)
    visitor.post(reverse("online_confirm"), {})
    done = visitor.get(reverse("online_done")).content.decode()
    assert reverse("online_waitlist_earlier") in done
    response = visitor.post(reverse("online_waitlist_earlier"))
    assert response["Location"] == reverse("online_done")
    entry = WaitlistEntry.objects.get()
    appointment = Appointment.objects.get()
    assert (entry.patient, entry.replaces, entry.latest) == (
        appointment.patient,
        appointment,
        date(2026, 12, 1),
    )
    assert (
        "We will email you if an earlier time opens"
        in visitor.get(reverse("online_done")).content.decode()
    )


def test_asking_for_earlier_needs_the_visitors_own_booking(client):
    assert client.post(reverse("online_waitlist_earlier")).status_code == 403
