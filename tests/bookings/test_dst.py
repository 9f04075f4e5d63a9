"""Every date and time a patient reads, on both sides of both clock changes
(Europe/London: BST ends 25 October 2026, starts 28 March 2027)."""

from datetime import date, datetime

import pytest
from django.urls import reverse

from clinic.models import Notification
from tests.factories import MedicalHistoryFactory
from tests.helpers import LONDON, at, book

pytestmark = pytest.mark.django_db

CASES = [
    # booked at (local), appointment (local), stop date, DTSTART in UTC
    (
        datetime(2026, 10, 21, 9, 0, tzinfo=LONDON),
        (date(2026, 10, 26), "10:00"),
        "Thursday 22 October",
        "20261026T100000Z",
    ),
    (
        datetime(2026, 10, 24, 23, 30, tzinfo=LONDON),
        (date(2026, 10, 29), "09:00"),
        "Sunday 25 October",
        "20261029T090000Z",
    ),
    (
        datetime(2027, 3, 24, 9, 0, tzinfo=LONDON),
        (date(2027, 3, 29), "09:00"),
        "Thursday 25 March",
        "20270329T080000Z",
    ),
    (
        datetime(2027, 3, 27, 23, 30, tzinfo=LONDON),
        (date(2027, 4, 1), "14:00"),
        "Sunday 28 March",
        "20270401T130000Z",
    ),
]


@pytest.mark.parametrize(("now", "when", "stop", "dtstart"), CASES)
def test_emails_portal_and_calendar_read_local_time(
    client, patient_a, injector, flip, monkeypatch, now, when, stop, dtstart
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    MedicalHistoryFactory(patient=patient_a, submitted_at=now)
    day, hhmm = when
    appointment = book(patient_a, injector, flip, at(day, hhmm), now=now)
    local = f"{day:%A} {day.day} {day:%B %Y} at {hhmm}"

    confirmation = Notification.objects.get(appointment=appointment, kind="confirmation")
    assert local in confirmation.body_text
    assert f"From {stop}" in confirmation.body_text
    assert f"DTSTART:{dtstart}" in confirmation.attachment

    precare = Notification.objects.get(appointment=appointment, kind="precare")
    stop_day = appointment.precare_stop_date
    assert precare.due_at == datetime(stop_day.year, stop_day.month, stop_day.day, 8, tzinfo=LONDON)
    day_before = Notification.objects.get(appointment=appointment, kind="day_before")
    assert day_before.due_at.astimezone(LONDON).hour == 10

    client.force_login(patient_a.user)
    page = client.get(reverse("portal_home")).content.decode()
    assert local in page and stop in page
