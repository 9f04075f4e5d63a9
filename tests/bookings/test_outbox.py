"""The outbox under a slow mail server, and plain-text emails (issue 14)."""

from datetime import timedelta

import pytest
from django.core import mail

from clinic import outbox
from clinic.models import Notification
from clinic.outbox import send_due
from tests.factories import PatientFactory
from tests.helpers import NOW

pytestmark = pytest.mark.django_db


def test_a_batch_that_outlives_the_claim_sends_each_email_once(monkeypatch):
    patients = [PatientFactory() for _ in range(19)]
    for patient in patients:
        outbox.enqueue(
            "invitation",
            patient=patient,
            key=f"k{patient.pk}",
            due_at=NOW,
            context={"url": "https://example.test"},
        )
    clock = {"now": NOW}
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock["now"])
    original = outbox._send
    calls = {"n": 0}

    def slow(notification):
        # Each email takes a minute; during the 16th, a second runner starts.
        calls["n"] += 1
        clock["now"] += timedelta(minutes=1)
        if calls["n"] == 16:
            send_due()
        original(notification)

    monkeypatch.setattr(outbox, "_send", slow)
    send_due()
    recipients = [message.to[0] for message in mail.outbox]
    assert sorted(recipients) == sorted(p.email for p in patients)  # 19, none twice
    assert Notification.objects.filter(status="sent").count() == 19


def test_plain_text_emails_are_not_html_escaped():
    patient = PatientFactory(first_name="D'Arcy", last_name="Ní Bhriain")
    email = outbox.enqueue(
        "invitation",
        patient=patient,
        key="invite",
        due_at=NOW,
        context={"url": "https://example.test/?a=1&b=2"},
    )
    assert "D'Arcy" in email.body_text and "&#x27;" not in email.body_text
    assert "https://example.test/?a=1&b=2" in email.body_text
    assert "D&#x27;Arcy" in email.body_html  # the HTML part is still escaped
