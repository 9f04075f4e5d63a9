"""Issue 20: the booking POST in at most 15 queries, the service in at most
10, with every check kept (tests/bookings/test_concurrency.py holds the
guarantees). Savepoints are not queries of their own here."""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings import services
from clinic.models import Notification
from tests.helpers import NOW, at

from .test_views import D5

pytestmark = pytest.mark.django_db

POST_MOST = 15
SERVICE_MOST = 10


def _counted(captured):
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def test_the_booking_service_in_at_most_ten_queries(healthy, injector, flip, front_desk):
    with CaptureQueriesContext(connection) as captured:
        services.appointment_book(
            patient=healthy,
            practitioner=injector,
            procedure=flip,
            starts_at=at(D5, "10:00"),
            booked_by=front_desk,
            now=NOW,
        )
    queries = _counted(captured)
    assert len(queries) <= SERVICE_MOST, "\n".join(queries)
    assert Notification.objects.filter(appointment__patient=healthy).count() == 3


def test_the_booking_post_in_at_most_fifteen_queries(client, front_desk, healthy, injector, flip):
    client.force_login(front_desk)
    url = reverse("bookings:book_confirm", args=[healthy.pk])
    proposal = urlencode(
        {"procedure": flip.pk, "practitioner": injector.pk, "start": at(D5, "10:00").isoformat()}
    )
    # The desk reads the confirm page first, as it always does: that visit
    # refreshes the session's idle timestamp (once a minute at most).
    assert client.get(f"{url}?{proposal}").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"{url}?{proposal}", {"notes": ""})
    assert response.status_code == 302
    queries = _counted(captured)
    assert len(queries) <= POST_MOST, "\n".join(queries)
    assert healthy.appointments.count() == 1
