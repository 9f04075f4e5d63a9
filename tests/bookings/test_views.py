from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import Appointment
from clinic.models import Notification
from tests.factories import PatientFactory
from tests.helpers import NOW, at, book, history, sign_consents

pytestmark = pytest.mark.django_db
D5 = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    """Pages read the clock through django.utils.timezone.now."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def desk(client, front_desk):
    client.force_login(front_desk)
    return client


def confirm_url(patient, practitioner, procedure, start):
    return (
        reverse("bookings:book_confirm", args=[patient.pk])
        + "?"
        + "&".join(
            [
                f"procedure={procedure.pk}",
                f"practitioner={practitioner.pk}",
                f"start={start.isoformat().replace('+', '%2B')}",
            ]
        )
    )


def test_the_booking_flow_end_to_end(desk, healthy, injector, flip):
    page = desk.get(reverse("bookings:book"), {"q": "healthy"})
    assert reverse("bookings:book_patient", args=[healthy.pk]) in page.content.decode()
    times = desk.get(reverse("bookings:book_patient", args=[healthy.pk]), {"procedure": flip.pk})
    assert times.status_code == 200
    days = times.context["days"]
    assert min(days) == date(2026, 11, 29)  # booked today: the minimum window first
    url = confirm_url(healthy, injector, flip, at(D5, "10:00"))
    page = desk.get(url).content.decode()
    assert "Friday 27 November" in page  # stop date shown before confirming
    response = desk.post(url, {"notes": "Prefers the left side first"})
    appointment = Appointment.objects.get()
    assert response.status_code == 302 and response.url == appointment.get_absolute_url()
    assert appointment.notes == "Prefers the left side first"
    assert "Friday 27 November" in desk.get(response.url).content.decode()


def test_two_days_out_is_refused_with_the_earliest_date(desk, healthy, injector, flip):
    url = confirm_url(healthy, injector, flip, at(date(2026, 11, 28), "10:00"))
    page = desk.get(url)
    assert page.context["refusal"].code == "precare_too_late"
    assert "Sunday 29 November 2026" in page.content.decode()
    response = desk.post(url, {"attestation": ""})
    assert response.status_code == 200
    assert "Sunday 29 November 2026" in response.context["form"].errors["attestation"][0]
    assert not Appointment.objects.exists()


def test_booking_on_the_patients_statement(desk, healthy, injector, flip, front_desk):
    url = confirm_url(healthy, injector, flip, at(date(2026, 11, 28), "10:00"))
    desk.post(url, {"attestation": "Nothing since Tuesday, she says."})
    appointment = Appointment.objects.get()
    assert (appointment.precare_flag, appointment.attestation_recorded_by) == (
        "attested",
        front_desk,
    )


def test_a_typed_time_goes_to_the_confirm_page(desk, healthy, injector, flip):
    response = desk.get(
        reverse("bookings:book_chosen_time", args=[healthy.pk]),
        {"procedure": flip.pk, "practitioner": injector.pk, "date": "2026-12-01", "time": "10:00"},
    )
    assert response.status_code == 302
    assert desk.get(response.url).context["assessment"].precare.stop_date == date(2026, 11, 27)


def test_a_garbled_proposal_goes_back_with_a_message(desk, healthy):
    response = desk.get(reverse("bookings:book_confirm", args=[healthy.pk]), {"start": "soon"})
    assert response.status_code == 302
    assert response.url == reverse("bookings:book_patient", args=[healthy.pk])


def test_day_calendar_is_a_bounded_number_of_queries(
    desk, front_desk, injector, second_injector, flip, django_assert_max_num_queries
):
    def render():
        return desk.get(reverse("bookings:day"), {"date": D5.isoformat()})

    def varied(appointments):
        # Every kind of row the page draws: signed consent, a cancellation.
        sign_consents(appointments[0])
        services.appointment_cancel(
            appointment=appointments[-1], by=front_desk, reason="Ill", now=NOW
        )

    varied([book(PatientFactory(), injector, flip, at(D5, t)) for t in ("09:00", "10:00")])
    with django_assert_max_num_queries(20) as few:
        render()
    made = [
        book(PatientFactory(), second_injector, flip, at(D5, "09:00") + timedelta(minutes=30 * n))
        for n in range(12)
    ]
    varied(made)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = render()
    page = response.content.decode()
    assert page.count('class="appt status-booked"') == 12
    assert page.count("consent signed") == 2
    assert page.count("· Cancelled</li>") == 2


def test_week_calendar(desk, injector, flip, healthy):
    book(healthy, injector, flip, at(D5, "09:00"))
    response = desk.get(
        reverse("bookings:week"), {"practitioner": injector.pk, "date": "2026-12-02"}
    )
    assert response.status_code == 200
    assert "Hana Healthy" in response.content.decode()


def test_move_cancel_check_in_and_no_show_pages(desk, healthy, injector, flip, monkeypatch):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    moves = desk.get(reverse("bookings:move", args=[appointment.pk]))
    assert moves.status_code == 200 and moves.context["moving"] == appointment
    response = desk.post(reverse("bookings:cancel", args=[appointment.pk]), {"reason": ""})
    assert "Give a reason" in response.context["form"].errors["reason"][0]

    monkeypatch.setattr("django.utils.timezone.now", lambda: at(D5, "09:50"))
    page = desk.get(reverse("bookings:check_in", args=[appointment.pk]))
    assert "alcohol" not in page.content.decode()  # the practitioner asks, on the day
    response = desk.post(reverse("bookings:check_in", args=[appointment.pk]), {})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"


def test_moving_through_the_pages(desk, healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    url = reverse("bookings:move_confirm", args=[appointment.pk]) + (
        f"?procedure={flip.pk}&practitioner={injector.pk}&start=2026-12-01T11:00:00%2B00:00"
    )
    assert desk.get(url).context["assessment"] is not None
    assert desk.post(url, {}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == at(D5, "11:00")


def test_contraindicated_procedures_show_no_times(desk, injector, filler):
    patient = PatientFactory()
    history(patient, pregnant_or_breastfeeding=True)
    page = desk.get(reverse("bookings:book_patient", args=[patient.pk]), {"procedure": filler.pk})
    assert "cannot be booked" in page.content.decode()
    assert "pregnan" not in page.content.decode().lower()


@pytest.mark.parametrize("name", ["bookings:day", "bookings:week", "bookings:book"])
def test_patients_cannot_open_front_desk_pages(client, patient_a, name):
    client.force_login(patient_a.user)
    assert client.get(reverse(name)).status_code == 403


def test_practitioners_see_calendars_and_can_check_in(client, injector, healthy, flip, monkeypatch):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    client.force_login(injector.user)
    assert client.get(reverse("bookings:day")).status_code == 200
    assert client.get(appointment.get_absolute_url()).status_code == 200


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("bookings:day"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_an_unknown_appointment_is_not_found(desk):
    assert desk.get(reverse("bookings:appointment", args=[999])).status_code == 404


def test_calendar_cells_escape_what_staff_typed(desk, injector, flip):
    patient = PatientFactory(first_name="<b>Eve</b>", last_name='"O\'Hara" & co')
    book(patient, injector, flip, at(D5, "09:00"))
    page = desk.get(reverse("bookings:day"), {"date": D5.isoformat()}).content.decode()
    assert "&lt;b&gt;Eve&lt;/b&gt; &quot;O&#x27;Hara&quot; &amp; co" in page
    assert "<b>Eve" not in page


def test_calendar_blocks_link_to_their_appointments(desk, injector, second_injector, flip):
    first = book(PatientFactory(), injector, flip, at(D5, "09:00"))
    second = book(PatientFactory(), second_injector, flip, at(D5, "09:00"))
    page = desk.get(reverse("bookings:day"), {"date": D5.isoformat()}).content.decode()
    for appointment in (first, second):
        assert f'href="{appointment.get_absolute_url()}"' in page


def test_flags_show_on_the_calendar_and_the_appointment(desk, injector, flip):
    appointment = book(PatientFactory(), injector, flip, at(D5, "09:00"))  # no history
    day = desk.get(reverse("bookings:day"), {"date": D5.isoformat()}).content.decode()
    detail = desk.get(reverse("bookings:appointment", args=[appointment.pk])).content.decode()
    for page in (day, detail):
        assert (
            'title="No medical history yet"><i class="bi bi-clipboard-x"></i> history missing'
            in page
        )
        assert "no consent" in page


def test_the_confirm_step_keeps_its_query_counts(
    desk, healthy, injector, flip, django_assert_max_num_queries, monkeypatch
):
    # Issue 12: the safety engine reads the patient's appointments, and the
    # confirm page still costs what it did before it (15 queries here, with
    # the session and permission reads). Issue 20: the booking (43 before)
    # no longer checks its foreign keys and constraint in queries of their own
    # (the database does), nor opens a savepoint for the insert, nor reads the
    # history twice, and writes its three emails in one INSERT. Issue 16: one
    # more, deleting the practitioner's lapsed holds once they are locked.
    # Issue 20, round two: 15 (tests/bookings/test_booking_queries.py), and
    # here the SAVEPOINT pair the test's own transaction adds to the service's.
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    url = reverse("bookings:book_confirm", args=[healthy.pk])
    proposal = urlencode(
        {"procedure": flip.pk, "practitioner": injector.pk, "start": at(D5, "10:00").isoformat()}
    )
    with django_assert_max_num_queries(15):
        assert desk.get(f"{url}?{proposal}").status_code == 200
    with django_assert_max_num_queries(17):
        assert desk.post(f"{url}?{proposal}", {"notes": ""}).status_code == 302
    assert healthy.appointments.count() == 1
    assert Notification.objects.filter(appointment__patient=healthy).count() == 3
