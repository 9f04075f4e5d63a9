"""Texts (SMS) beside emails (issue 13, part): a channel per outbox row, the
patient's say-so, STOP, quiet hours, and each event sent once per channel."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic import services as clinic_services
from clinic.models import Notification
from clinic.outbox import send_due
from tests.factories import PatientFactory
from tests.helpers import LONDON, NOW, at, book, history
from treatments import messages as treatment_messages

pytestmark = pytest.mark.django_db
D5 = date(2026, 12, 1)
SENT = []


class Capture:
    """An SMS backend for tests: keeps what it would send."""

    def send(self, *, to, body):
        SENT.append((to, body))


@pytest.fixture(autouse=True)
def capture(settings):
    settings.SMS_BACKEND = "tests.bookings.test_texts.Capture"
    SENT.clear()


@pytest.fixture
def texter(db):
    patient = PatientFactory(email="", phone="07911 123456")
    history(patient)
    return clinic_services.patient_texts_start(
        patient=patient, number="07911 123456", via="test", now=NOW
    )


def rows(patient):
    return {(n.channel, n.kind): n for n in Notification.objects.filter(patient=patient)}


def test_a_patient_with_a_phone_and_no_email_gets_texts(texter, injector, flip):
    assert texter.sms_number == "+447911123456"
    book(texter, injector, flip, at(D5, "10:00"))
    written = rows(texter)
    assert set(written) == {("sms", "confirmation"), ("sms", "precare"), ("sms", "day_before")}
    assert "Reply STOP" in written[("sms", "precare")].body_text
    send_due(now=datetime(2026, 11, 27, 8, 30, tzinfo=LONDON))  # confirmation, pre-care
    send_due(now=datetime(2026, 11, 30, 10, 0, tzinfo=LONDON))  # the day before
    assert [to for to, _ in SENT] == ["+447911123456"] * 3


def test_each_event_is_written_once_per_channel(texter, injector, flip):
    texter.email = "texter@example.test"
    texter.save()
    appointment = book(texter, injector, flip, at(D5, "10:00"))
    for _ in range(2):
        treatment_messages.consent_requested(appointment, url="https://x/c", request_pk=7, now=NOW)
    keys = sorted(Notification.objects.filter(kind="consent").values_list("channel", "dedupe_key"))
    assert keys == [("email", "email:consent:7"), ("sms", "sms:consent:7")]


def test_no_text_at_night(texter, injector, flip):
    appointment = book(texter, injector, flip, at(D5, "10:00"))
    late = datetime(2026, 11, 26, 22, 30, tzinfo=LONDON)
    treatment_messages.consent_requested(appointment, url="https://x/c", request_pk=8, now=late)
    text = Notification.objects.get(kind="consent", channel="sms")
    assert text.due_at == datetime(2026, 11, 27, 8, 0, tzinfo=LONDON)
    # Claimed at night anyway (the sender was late): it waits for the morning.
    Notification.objects.filter(pk=text.pk).update(due_at=late, next_attempt_at=late)
    send_due(now=late + timedelta(minutes=5))
    text.refresh_from_db()
    assert (text.status, SENT) == ("pending", [])


def test_stop_by_reply_stops_every_pending_text(client, settings, texter, injector, flip):
    settings.DEBUG = True  # the console/file backends have no provider signature
    book(texter, injector, flip, at(D5, "10:00"))
    url = reverse("sms_inbound")
    client.post(url, {"From": "+447911123456", "Body": "thanks"})
    assert Notification.objects.filter(status="pending", channel="sms").count() == 3
    response = client.post(url, {"From": "+447911123456", "Body": " stop "})
    assert response.status_code == 200
    texter.refresh_from_db()
    assert not texter.gets_texts and texter.sms_opt_out_at is not None
    assert not Notification.objects.filter(status="pending", channel="sms").exists()


def test_a_webhook_call_without_the_provider_signature_is_refused(client, settings, texter):
    settings.DEBUG = False
    response = client.post(reverse("sms_inbound"), {"From": "+447911123456", "Body": "STOP"})
    assert response.status_code == 403
    texter.refresh_from_db()
    assert texter.gets_texts


def test_a_number_no_text_can_reach_is_refused(db):
    patient = PatientFactory()
    with pytest.raises(ValidationError) as exc:
        clinic_services.patient_texts_start(patient=patient, number="12345", via="test")
    assert exc.value.code == "sms_number_invalid"


def test_staff_and_the_patient_turn_texts_on_and_off(client, front_desk, patient_a):
    client.force_login(front_desk)
    client.post(reverse("patient_texts", args=[patient_a.pk]), {"number": "+44 7911 123457"})
    patient_a.refresh_from_db()
    assert patient_a.gets_texts and "at the clinic" in patient_a.sms_opt_in_via
    client.force_login(patient_a.user)
    client.post(reverse("portal_texts"), {"stop": "1"})
    patient_a.refresh_from_db()
    assert not patient_a.gets_texts


def test_the_migration_names_the_channel_in_old_keys(texter):
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    # The models as that migration saw them (the outbox was bookings' then).
    state = MigrationLoader(connection).project_state(("bookings", "0007_notification_channels"))
    old = Notification.objects.create(
        kind="recall",
        patient=texter,
        dedupe_key="recall:99",
        to_email="x@example.test",
        subject="s",
        body_text="b",
        due_at=NOW,
        next_attempt_at=NOW,
    )
    import_module("bookings.migrations.0007_notification_channels").key_by_channel(state.apps, None)
    old.refresh_from_db()
    assert old.dedupe_key == "email:recall:99"
