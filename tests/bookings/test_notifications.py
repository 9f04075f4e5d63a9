import json
import subprocess
import sys
import threading
import time as clock
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.urls import reverse

from bookings import messages as appointment_messages
from bookings import services
from clinic import outbox
from clinic.models import Notification
from clinic.outbox import send_due
from tests.factories import PatientFactory
from tests.helpers import LONDON, NOW, at, book, history

pytestmark = pytest.mark.django_db
D5 = date(2026, 12, 1)


def rows(appointment=None, **filters):
    qs = Notification.objects.filter(**filters)
    if appointment is not None:
        qs = qs.filter(appointment=appointment)
    return {n.kind: n for n in qs}


def test_a_booking_writes_confirmation_precare_and_day_before(healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    emails = rows(appointment)
    assert set(emails) == {"confirmation", "precare", "day_before"}
    assert emails["confirmation"].due_at == NOW
    assert emails["precare"].due_at == datetime(2026, 11, 27, 8, 0, tzinfo=LONDON)
    assert emails["day_before"].due_at == datetime(2026, 11, 30, 10, 0, tzinfo=LONDON)
    body = emails["confirmation"].body_text
    assert "Tuesday 1 December 2026 at 10:00" in body
    assert "From Friday 27 November until after your appointment" in body
    ics = emails["confirmation"].attachment
    assert "DTSTART:20261201T100000Z" in ics and "SUMMARY:Lip flip at" in ics


def test_a_late_booking_gets_its_precare_reminder_at_once(healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(date(2026, 11, 29), "10:00"))
    emails = rows(appointment)
    assert emails["precare"].due_at == NOW
    assert "From today, Thursday 26 November" in emails["precare"].body_text
    assert "start straight away" in emails["precare"].body_text


def test_a_day_before_reminder_already_past_is_not_written(healthy, injector, flip):
    appointment = book(
        healthy, injector, flip, at(date(2026, 11, 26), "15:00"), attestation="None since Monday"
    )
    assert "day_before" not in rows(appointment)  # its time, 10:00 on the 25th, has passed
    assert "precare" in rows(appointment)


def test_times_are_in_the_clinics_zone_in_summer(healthy, injector, flip):
    history(healthy)
    appointment = book(healthy, injector, flip, at(date(2027, 6, 15), "09:00"))
    body = rows(appointment)["confirmation"].body_text
    assert "Tuesday 15 June 2027 at 09:00" in body  # 08:00 UTC, 09:00 BST
    assert "DTSTART:20270615T080000Z" in rows(appointment)["confirmation"].attachment
    assert rows(appointment)["precare"].due_at == datetime(2027, 6, 11, 8, 0, tzinfo=LONDON)


def test_prescribed_blood_thinners_are_never_to_be_stopped(injector, flip):
    patient = PatientFactory()
    history(patient, prescribed_anticoagulants=["warfarin", "aspirin_prescribed"])
    appointment = book(patient, injector, flip, at(D5, "10:00"))
    for email in rows(appointment).values():
        sentences = [s for s in email.body_text.replace("\n", " ").split(".") if "Warfarin" in s]
        assert sentences, email.kind
        for sentence in sentences:
            assert "Keep taking Warfarin, Low-dose aspirin prescribed by a doctor" in sentence
            assert "stop" not in sentence.split("Keep taking")[0].lower()
        assert "aspirin bought over the counter" in email.body_text


def test_a_move_replaces_the_reminders(healthy, injector, flip, front_desk):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    old = rows(appointment)
    services.appointment_reschedule(
        appointment=appointment, starts_at=at(date(2026, 12, 3), "14:00"), by=front_desk, now=NOW
    )
    old["precare"].refresh_from_db()
    old["day_before"].refresh_from_db()
    assert old["precare"].status == old["day_before"].status == "cancelled"
    current = rows(appointment, status="pending")
    assert current["precare"].due_at == datetime(2026, 11, 29, 8, 0, tzinfo=LONDON)
    moved = current["moved"]
    assert "from Tuesday 1 December at 10:00" in moved.body_text
    assert "Thursday 3 December 2026 at 14:00" in moved.body_text
    assert "SEQUENCE:1" in moved.attachment


def test_a_cancellation_stops_the_reminders_and_says_so(healthy, injector, flip, front_desk):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    services.appointment_cancel(appointment=appointment, by=front_desk, reason="Ill", now=NOW)
    pending = rows(appointment, status="pending")
    assert set(pending) == {"cancelled"}
    assert "STATUS:CANCELLED" in pending["cancelled"].attachment
    assert Notification.objects.get(kind="confirmation").status == "cancelled"


def test_no_email_address_no_emails(injector, flip):
    patient = PatientFactory(email="")
    history(patient)
    book(patient, injector, flip, at(D5, "10:00"))
    assert not Notification.objects.exists()


def test_the_same_event_twice_writes_one_email(healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    appointment_messages.appointment_booked(appointment, now=NOW)
    assert Notification.objects.filter(kind="confirmation").count() == 1


# Sending


def test_sending_sends_what_is_due_once(healthy, injector, flip):
    book(healthy, injector, flip, at(D5, "10:00"))
    assert send_due(now=NOW) == (1, 0)
    assert send_due(now=NOW) == (0, 0)
    message = mail.outbox[0]
    assert message.to == [healthy.email]
    assert message.alternatives[0][1] == "text/html"
    assert message.attachments[0][0] == "appointment.ics"
    assert send_due(now=datetime(2026, 11, 27, 8, 0, tzinfo=LONDON)) == (1, 0)
    assert [m.subject for m in mail.outbox][-1].startswith("From Friday 27 November")
    assert Notification.objects.get(kind="precare").status == "sent"


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")


def test_failures_are_recorded_and_retried_with_backoff(healthy, injector, flip, settings):
    book(healthy, injector, flip, at(D5, "10:00"))
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenBackend"}}
    assert send_due(now=NOW) == (0, 1)
    email = Notification.objects.get(kind="confirmation")
    assert (email.status, email.attempts) == ("pending", 1)
    assert email.next_attempt_at == NOW + timedelta(minutes=1)
    assert "SMTP server unreachable" in email.last_error
    assert send_due(now=NOW + timedelta(seconds=30)) == (0, 0)  # not yet
    moment = NOW
    for _ in range(4):
        moment += timedelta(days=1)
        send_due(now=moment)
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 5)


def test_a_claim_left_by_a_crashed_runner_is_taken_again(healthy, injector, flip):
    book(healthy, injector, flip, at(D5, "10:00"))
    Notification.objects.filter(kind="confirmation").update(status="sending", claimed_at=NOW)
    assert send_due(now=NOW + timedelta(minutes=5)) == (0, 0)
    assert send_due(now=NOW + timedelta(minutes=16)) == (1, 0)


def test_aftercare_and_recall_are_written_at_signing(healthy, injector, flip):
    # See tests/treatments/test_records.py for the signing itself; here the timing.
    from tests.factories import PASSWORD, LotFactory
    from tests.treatments.test_records import add, complete, ready
    from treatments import services as treatment_services

    appointment = ready(healthy, injector, flip)
    record = treatment_services.treatment_start(
        appointment=appointment, by=injector.user, now=at(D5, "10:00")
    )
    add(record, LotFactory(lot_number="R1"))
    complete(record)
    treatment_services.treatment_sign(
        record=record, by=injector.user, password=PASSWORD, now=at(D5, "10:20")
    )
    emails = rows(appointment, status="pending")
    assert emails["aftercare"].due_at == at(D5, "10:20")
    assert emails["recall"].due_at == datetime(2027, 3, 1, 9, 0, tzinfo=LONDON)
    assert "Stay upright" in emails["aftercare"].body_text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runners_at_once_send_each_email_once(monkeypatch):
    patients = [PatientFactory() for _ in range(12)]
    for patient in patients:
        outbox.enqueue(
            "invitation",
            patient=patient,
            key=f"k{patient.pk}",
            due_at=NOW,
            context={"url": "https://example.test"},
        )
    original = outbox._send

    def slow(notification):
        clock.sleep(0.05)
        original(notification)

    monkeypatch.setattr(outbox, "_send", slow)
    results = []

    def runner():
        try:
            results.append(send_due(now=NOW, batch=5))
            results.append(send_due(now=NOW, batch=5))
            results.append(send_due(now=NOW, batch=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent for sent, _ in results) == 12
    recipients = [m.to[0] for m in mail.outbox]
    assert sorted(recipients) == sorted(p.email for p in patients)
    assert Notification.objects.filter(status="sent").count() == 12


def test_two_runners_on_a_sqlite_file_send_each_email_once(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("sqlite_runners.py")),
            str(tmp_path / "n.sqlite3"),
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {"sent": 12, "unique": 12, "rows_sent": 12, "errors": []}


def test_staff_see_the_outbox_and_patients_do_not(
    client, front_desk, patient_a, healthy, injector, flip, settings
):
    book(healthy, injector, flip, at(D5, "10:00"))
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenBackend"}}
    send_due(now=NOW)
    client.force_login(front_desk)
    page = client.get(reverse("outbox")).content.decode()
    assert "SMTP server unreachable" in page and healthy.email in page
    waiting = client.get(reverse("outbox"), {"show": "waiting"}).content.decode()
    assert "Pre-care starts" in waiting
    client.force_login(patient_a.user)
    assert client.get(reverse("outbox")).status_code == 403


def test_emails_that_became_pointless_are_not_sent(healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    # The sender was down until the evening after the pre-care reminder was due.
    assert send_due(now=datetime(2026, 11, 27, 20, 30, tzinfo=LONDON)) == (1, 0)
    emails = rows(appointment)
    assert emails["confirmation"].status == "sent"  # late, but still useful
    assert emails["precare"].status == "cancelled" and "Too late" in emails["precare"].last_error
    # ...and again until after the visit had started.
    assert send_due(now=at(D5, "10:05")) == (0, 0)
    day_before = rows(appointment)["day_before"]
    assert day_before.status == "cancelled" and "already started" in day_before.last_error
    assert len(mail.outbox) == 1


def test_moved_away_and_back_the_appointment_gets_new_reminders(healthy, injector, flip):
    # Found by issue 20's work: the reminders' keys named only the start, so
    # a move back to the first time matched the cancelled rows and wrote none.
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    for start in (at(D5, "11:00"), at(D5, "10:00")):
        services.appointment_reschedule(
            appointment=appointment, starts_at=start, by=injector.user, now=NOW
        )
    pending = Notification.objects.filter(
        appointment=appointment, status="pending", kind__in=["precare", "day_before"]
    )
    assert sorted(pending.values_list("kind", flat=True)) == ["day_before", "precare"]
