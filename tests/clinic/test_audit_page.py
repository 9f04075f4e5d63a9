"""The audit log in words: names, each field before and after, filters,
pages, and a fixed number of queries."""

from datetime import date

import pytest
from django.urls import reverse

from bookings import services as booking_services
from bookings.models import Appointment
from clinic.models import AuditEvent
from tests.factories import PatientFactory
from tests.helpers import NOW, at, book, history

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def cancelled(injector, flip, front_desk, patient):
    history(patient)
    appointment = book(patient, injector, flip, at(date(2026, 12, 3), "10:00"), by=front_desk)
    booking_services.appointment_cancel(appointment=appointment, by=front_desk, reason="Away")
    # In a request, simple-history's middleware records who; here, the services ran bare.
    Appointment.history_log.filter(id=appointment.pk).update(history_user=front_desk)
    return appointment


def _changes(client, **params):
    response = client.get(reverse("audit_log"), {"tab": "changes", **params})
    assert response.status_code == 200
    return response


def test_a_change_names_the_patient_the_record_and_each_field(client, manager, cancelled):
    client.force_login(manager)
    page = _changes(client).content.decode()
    assert "Appointment 5 Changed" not in page
    assert "Alice Patient" in page
    assert "Appointment: Lip flip, Thu 3 Dec 2026, 10:00" in page
    assert "<del>Booked</del>" in page and "<ins>Cancelled</ins>" in page
    assert "Reason for cancelling" in page and "<ins>Away</ins>" in page
    assert "<td>Fran Desk</td>" in page


def test_filters_by_person_patient_kind_and_date(client, manager, cancelled, front_desk):
    client.force_login(manager)
    other = PatientFactory(first_name="Zed", last_name="Zulu")
    everything = _changes(client).context["page"].object_list
    assert {c.patient for c in everything} >= {cancelled.patient, other}

    def shown(**params):
        return _changes(client, **params).context["page"].object_list

    assert {c.patient for c in shown(patient=other.pk)} == {other}
    assert {c.who for c in shown(person=front_desk.pk)} == {front_desk}
    assert {c.kind for c in shown(kind="appointment")} == {"Appointments"}
    assert shown(**{"from": "2026-11-27"}) == []
    assert len(shown(**{"from": "2026-11-26", "to": "2026-11-26"})) == len(everything)


def test_reads_filter_by_person_patient_kind_and_date(client, manager, patient, front_desk):
    AuditEvent.objects.create(user=front_desk, patient=patient, what="medical history", path="/")
    AuditEvent.objects.create(user=manager, what="lot recall", path="/")
    client.force_login(manager)

    def shown(**params):
        response = client.get(reverse("audit_log"), params)
        assert response.status_code == 200
        return [e.what for e in response.context["page"].object_list]

    assert shown(person=front_desk.pk) == ["medical history"]
    assert shown(patient=patient.pk) == ["medical history"]
    assert shown(kind="recall") == ["lot recall"]
    assert shown(to="2026-11-25") == []


@pytest.mark.parametrize(
    "params",
    [
        {"tab": "sideways"},
        {"tab": "changes", "kind": "recall"},  # a kind of read, not of change
        {"kind": "appointment"},
        {"from": "2026-02-30"},
        {"from": "2026-11-26", "to": "2026-11-01"},
        {"person": "me"},
    ],
)
def test_an_address_it_cannot_use_answers_400_with_a_message(client, manager, params):
    client.force_login(manager)
    response = client.get(reverse("audit_log"), params)
    assert response.status_code == 400
    assert "This address has a value the page cannot use" in response.content.decode()


def test_changes_page_in_a_fixed_number_of_queries(
    client, manager, injector, flip, front_desk, django_assert_max_num_queries
):
    def add(n):
        for i in range(n):
            patient = PatientFactory()
            history(patient)
            appointment = book(
                patient, injector, flip, at(date(2026, 12, 3 + i), "10:00"), by=front_desk
            )
            booking_services.appointment_cancel(appointment=appointment, by=front_desk, reason="x")

    add(2)
    client.force_login(manager)
    _changes(client)
    with django_assert_max_num_queries(40) as few:
        _changes(client)
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = _changes(client)
    assert response.context["page"].has_next
    second = _changes(client, page=2).context["page"].object_list
    assert second and second[0].at <= response.context["page"].object_list[-1].at
