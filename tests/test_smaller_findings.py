"""The "smaller" findings of issue 14: values no person would type, and reads
that were not audited."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic import services as people
from clinic.models import AuditEvent, MedicalHistory
from tests.helpers import NOW, at, book
from tests.treatments.test_records import DAY, ready
from tests.two_factor import verified_login
from treatments import services

pytestmark = pytest.mark.django_db


def codes(exc):
    return {field: [e.code for e in errors] for field, errors in exc.value.error_dict.items()}


@pytest.mark.parametrize("name", ["\u200b\u200b", "\x07\x08", "Ann\u200b", "   \u2060", "Bo\x00b"])
def test_names_of_invisible_or_control_characters_are_refused(front_desk, name):
    with pytest.raises(ValidationError) as exc:
        people.patient_create(
            created_by=front_desk,
            first_name=name,
            last_name="Valid",
            date_of_birth=date(1990, 1, 1),
            phone="07700 900123",
            email="",
        )
    assert "first_name" in exc.value.error_dict


def test_names_in_any_alphabet_are_welcome(front_desk):
    for first, last in [("Zoë", "O'Brien-Ng"), ("Siân", "ʻŌlelo"), ("Михаил", "Ли")]:
        people.patient_create(
            created_by=front_desk,
            first_name=first,
            last_name=last,
            date_of_birth=date(1990, 1, 1),
            phone="07700 900123",
            email="",
        )


def submit(patient, by, **changes):
    from clinic.medical import ALL_NO

    return people.medical_history_submit(
        patient=patient,
        submitted_by=by,
        source=MedicalHistory.Source.STAFF,
        now=NOW,
        **{**ALL_NO, **changes},
    )


def test_a_megabyte_of_notes_is_refused(patient, practitioner):
    with pytest.raises(ValidationError) as exc:
        submit(patient, practitioner.user, notes="x" * 1_000_000)
    assert codes(exc) == {"notes": ["history_text_too_long"]}
    submit(patient, practitioner.user, notes="x" * people.HISTORY_TEXT_LIMIT)  # the limit is fine


@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31), date(2025, 11, 1)])
def test_a_dental_date_far_from_today_is_refused(patient, practitioner, day):
    with pytest.raises(ValidationError) as exc:
        submit(patient, practitioner.user, dental_work_date=day)
    assert codes(exc) == {"dental_work_date": ["dental_date_out_of_range"]}
    submit(patient, practitioner.user, dental_work_date=date(2026, 12, 10))


@pytest.mark.parametrize("field", ["review_date", "rebook_date"])
def test_follow_up_dates_in_the_year_9999_are_refused(healthy, injector, flip, field, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)
    record = services.treatment_start(appointment=ready(healthy, injector, flip), by=injector.user)
    with pytest.raises(ValidationError) as exc:
        services.record_update(record=record, by=injector.user, **{field: date(9999, 12, 31)})
    assert codes(exc) == {field: ["follow_up_out_of_range"]}


def test_a_start_off_the_booking_grid_is_refused(healthy, injector, flip, settings):
    for start in ("10:03", "10:05:30"):
        moment = at(date(2026, 12, 1), start[:5]).replace(second=int(start[6:] or 0))
        with pytest.raises(ValidationError) as exc:
            book(healthy, injector, flip, moment)
        assert exc.value.code == "off_grid"
    assert book(healthy, injector, flip, at(date(2026, 12, 1), "10:05"))


def test_patient_searches_and_the_calendar_feed_are_audited(client, front_desk, injector):
    client.force_login(front_desk)
    client.get(reverse("patients:list") + "?q=smith")
    client.get(reverse("bookings:book") + "?q=jones")
    client.get(reverse("patients:list"))  # no search, nothing to log
    client.logout()
    client.get(reverse("practitioner_feed", args=[injector.feed_token]))
    events = list(AuditEvent.objects.order_by("pk").values_list("what", "user", "path"))
    assert events == [
        ("patient search", front_desk.pk, "/patients/?q=smith"),
        ("patient search", front_desk.pk, "/book/?q=jones"),
        ("calendar feed", injector.user.pk, f"/calendar/feed/{injector.feed_token}.ics"),
    ]


def test_admin_change_pages_are_audited(client, manager, patient):
    verified_login(client, manager)
    response = client.get(reverse("admin:clinic_patient_change", args=[patient.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.what, event.patient, event.object_id) == (
        "admin: patient",
        patient,
        str(patient.pk),
    )
    client.get(reverse("admin:clinic_patient_changelist"))
    assert AuditEvent.objects.count() == 1


def test_there_is_a_400_page(client, front_desk):
    client.force_login(front_desk)
    response = client.get(reverse("bookings:day") + "?date=nonsense")
    assert response.status_code == 400
    assert "This address could not be read" in response.content.decode()
