"""Portal patients book for themselves (issue 16, first part), through the
safety engine's PATIENT_BOOK step."""

from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from bookings.models import Appointment
from clinic.models import Notification, OnlineBookingSettings
from tests.factories import PASSWORD, LotFactory
from tests.helpers import NOW, at
from tests.treatments.test_records import DAY, add, complete, ready
from treatments import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(client, healthy, patient_user, injector, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    healthy.user = patient_user
    healthy.save()
    client.force_login(patient_user)
    return client


def confirm_url(procedure, practitioner, start):
    query = urlencode(
        {"procedure": procedure.pk, "practitioner": practitioner.pk, "start": start.isoformat()}
    )
    return f"{reverse('portal_book_confirm')}?{query}"


def test_the_portal_offers_booking_from_the_recommended_day(portal, flip):
    home = portal.get(reverse("portal_home")).content.decode()
    assert reverse("portal_book") in home
    page = portal.get(reverse("portal_book"), {"procedure": flip.pk})
    first_day = next(iter(page.context["days"]))
    assert first_day == NOW.date() + timedelta(days=4)  # D-4: never the D-3 minimum


def test_a_d_minus_3_time_is_refused_if_posted(portal, flip, injector, healthy):
    url = confirm_url(flip, injector, at(NOW.date() + timedelta(days=3), "10:00"))
    response = portal.post(url, {"notes": ""})
    assert response.status_code == 200
    assert "patient_window" in [e.code for e in response.context["form"].non_field_errors().data]
    assert not Appointment.objects.filter(patient=healthy).exists()


def test_booking_online_sends_to_the_consent_and_emails_the_details(
    portal, flip, injector, healthy
):
    start = at(date(2026, 12, 2), "10:00")
    page = portal.get(confirm_url(flip, injector, start))
    assert "Before your visit" in page.content.decode()
    response = portal.post(confirm_url(flip, injector, start), {"notes": ""})
    appointment = Appointment.objects.get(patient=healthy)
    assert response["Location"] == reverse("treatments:portal_consent", args=[appointment.pk])
    assert appointment.booked_by == healthy.user
    assert Notification.objects.filter(appointment=appointment, kind="confirmation").exists()


def test_the_toxin_gap_holds_online(client, healthy, patient_user, injector, flip, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)
    healthy.user = patient_user
    healthy.save()
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    add(record, LotFactory(lot_number="ONL1"), amount="4")
    complete(record)
    services.treatment_sign(record=record, by=injector.user, password=PASSWORD, now=DAY)
    client.force_login(patient_user)
    page = client.get(reverse("portal_book"), {"procedure": flip.pk}).content.decode()
    assert "Your next lip flip is possible from <strong>Monday 1 March 2027</strong>" in page
    response = client.post(confirm_url(flip, injector, at(date(2026, 12, 20), "10:00")), {})
    assert "toxin_too_soon" in [e.code for e in response.context["form"].non_field_errors().data]
    recall = Notification.objects.get(kind="recall")
    assert f"{reverse('portal_book')}?procedure={flip.pk}" in recall.body_text


def test_clinic_settings_for_online_booking(portal, settings, flip, filler, injector, healthy):
    filler.online_booking = False
    filler.save()
    listed = portal.get(reverse("portal_book")).context["procedures"]
    assert flip in listed and filler not in listed
    response = portal.post(confirm_url(filler, injector, at(date(2026, 12, 2), "10:00")), {})
    assert "not_bookable_online" in [
        e.code for e in response.context["form"].non_field_errors().data
    ]
    injector.online_booking = False
    injector.save()
    response = portal.post(confirm_url(flip, injector, at(date(2026, 12, 2), "10:00")), {})
    assert "With Pat Injector" not in response.content.decode()
    assert "cannot be booked online" in response.content.decode()
    injector.online_booking = True
    injector.save()
    OnlineBookingSettings.objects.update_or_create(pk=1, defaults={"days_ahead": 30})
    far = at(NOW.date() + timedelta(days=31), "10:00")
    response = portal.post(confirm_url(flip, injector, far), {})
    assert "too_far_ahead" in [e.code for e in response.context["form"].non_field_errors().data]
    assert not Appointment.objects.filter(patient=healthy).exists()
