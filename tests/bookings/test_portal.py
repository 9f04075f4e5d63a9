import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from bookings import services
from bookings.models import Appointment
from clinic import services as clinic_services
from clinic.models import Notification, User
from tests.factories import PatientFactory, UserFactory
from tests.helpers import NOW, at, book, history

pytestmark = pytest.mark.django_db
D5 = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def mine(patient_a, injector, flip):
    history(patient_a, prescribed_anticoagulants=["apixaban"])
    return book(patient_a, injector, flip, at(D5, "10:00"))


@pytest.fixture
def theirs(patient_b, injector, flip):
    history(patient_b)
    return book(patient_b, injector, flip, at(D5, "11:00"))


def test_the_portal_shows_my_appointments_with_real_dates(client, patient_a, mine, theirs):
    client.force_login(patient_a.user)
    page = client.get(reverse("portal_home")).content.decode()
    assert "Tuesday 1 December 2026 at 10:00" in page
    assert "From Friday 27 November until after your appointment" in page
    assert "Keep taking Apixaban (Eliquis) exactly as your doctor prescribed" in page
    assert "11:00" not in page  # Bob's appointment
    assert "Sign your consent form" in page


def test_patients_are_isolated_from_each_other(client, patient_a, theirs):
    client.force_login(patient_a.user)
    for name in ("portal_cancel", "portal_move"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.post(reverse("portal_cancel", args=[theirs.pk]), {}).status_code == 404
    assert client.get(reverse("treatments:portal_consent", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "booked"


def test_a_patient_cancels_within_the_notice(client, patient_a, mine):
    client.force_login(patient_a.user)
    response = client.post(reverse("portal_cancel", args=[mine.pk]), {"reason": "Holiday"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == "cancelled"
    assert mine.cancel_reason == "Cancelled by the patient online: Holiday"
    assert Notification.objects.filter(kind="cancelled", appointment=mine).exists()


def test_too_close_to_the_visit_the_patient_must_call(patient_a, mine):
    with pytest.raises(ValidationError) as exc:
        services.patient_cancel(appointment=mine, by=patient_a.user, now=at(D5, "08:00"))
    assert exc.value.code == "too_late_to_change"
    assert "020 7946 0000" in exc.value.messages[0]


def test_the_notice_boundary(patient_a, mine):
    services.patient_cancel(
        appointment=mine, by=patient_a.user, now=at(D5, "10:00") - timedelta(hours=48)
    )
    assert Appointment.objects.get(pk=mine.pk).status == "cancelled"


def test_a_patient_moves_under_the_booking_rules(client, patient_a, mine, injector):
    client.force_login(patient_a.user)
    page = client.get(reverse("portal_move", args=[mine.pk]))
    first_day = min(page.context["days"])
    assert first_day == date(2026, 11, 30)  # the recommended window, never the warning day
    url = reverse("portal_move_confirm", args=[mine.pk]) + (
        f"?procedure={mine.procedure_id}&practitioner={injector.pk}"
        "&start=2026-12-02T14:00:00%2B00:00"
    )
    assert "From Saturday 28 November" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    mine.refresh_from_db()
    assert mine.starts_at == at(date(2026, 12, 2), "14:00")


def test_a_patient_cannot_move_inside_the_window(client, patient_a, mine, injector):
    client.force_login(patient_a.user)
    url = reverse("portal_move_confirm", args=[mine.pk]) + (
        f"?procedure={mine.procedure_id}&practitioner={injector.pk}&start=2026-11-27T14:00:00%2B00:00"
    )
    response = client.post(url)
    assert "Too soon" in response.content.decode()
    mine.refresh_from_db()
    assert mine.starts_at == at(D5, "10:00")


# Invitations


def test_front_desk_invites_a_patient_who_then_chooses_a_password(client, front_desk):
    patient = PatientFactory(email="newbie@example.test")
    client.force_login(front_desk)
    client.post(reverse("patient_invite", args=[patient.pk]))
    patient.refresh_from_db()
    assert patient.user.email == "newbie@example.test"
    assert [r.value for r in patient.user.roles] == ["Patient"]
    assert not patient.user.has_usable_password()
    email = Notification.objects.get(kind="invitation")
    link = urlsplit(re.search(r"(http\S+/portal/welcome/\S+)", email.body_text).group(1)).path
    client.logout()
    form_page = client.get(link, follow=True)
    assert "Welcome to your patient portal" in form_page.content.decode()
    new = "a long and careful passphrase"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    # Issue 15: choosing the password logs the patient in, straight to the portal.
    assert (done.status_code, done["Location"]) == (302, reverse("portal_home"))
    assert client.get(reverse("portal_home")).status_code == 200
    client.logout()
    login = client.post(reverse("login"), {"username": "newbie@example.test", "password": new})
    assert login.status_code == 302


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda p: setattr(p, "email", ""), "no_email"),
        (lambda p: UserFactory(email=p.email), "email_in_use"),
    ],
)
def test_invitation_refusals(front_desk, setup, code):
    patient = PatientFactory(email="someone@example.test")
    setup(patient)
    patient.save()
    with pytest.raises(ValidationError) as exc:
        clinic_services.patient_invite(patient=patient, by=front_desk)
    assert exc.value.code == code
    assert not Notification.objects.exists()


def test_an_active_portal_user_is_not_invited_again(front_desk, patient_a):
    User.objects.filter(pk=patient_a.user.pk).update(last_login=NOW)
    patient_a.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        clinic_services.patient_invite(patient=patient_a, by=front_desk)
    assert exc.value.code == "already_invited"


# The practitioner's calendar feed


def test_the_feed_lists_appointments_with_initials_only(client, injector, mine):
    response = client.get(reverse("practitioner_feed", args=[injector.feed_token]))
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/calendar")
    assert "SUMMARY:Lip flip: Alice P." in body
    assert "Patient" not in body.replace("Lip flip: Alice P.", "")
    assert client.get(reverse("practitioner_feed", args=["guess"])).status_code == 404


def test_a_practitioner_can_change_the_feed_address(client, injector):
    old = injector.feed_token
    client.force_login(injector.user)
    client.post(reverse("practitioner_feed_reset"))
    injector.refresh_from_db()
    assert injector.feed_token != old
    assert client.get(reverse("practitioner_feed", args=[old])).status_code == 404
