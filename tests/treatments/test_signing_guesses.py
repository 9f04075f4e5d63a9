"""The signing password cannot be guessed at an unattended screen (issue 14)."""

import pytest
from django.core import mail
from django.urls import reverse

from clinic.accounts.models import Attempt
from tests.factories import PASSWORD
from tests.treatments.test_records import DAY, ready
from treatments import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


@pytest.fixture
def record(healthy, injector, flip):
    appointment = ready(healthy, injector, flip)
    return services.treatment_start(appointment=appointment, by=injector.user, now=DAY)


def test_wrong_signing_passwords_end_the_session_and_tell_the_managers(
    client, record, injector, manager, settings, django_capture_on_commit_callbacks
):
    client.force_login(injector.user)
    url = reverse("treatments:record_sign", args=[record.pk])
    for _ in range(settings.SIGN_PASSWORD_GUESSES - 1):
        assert client.post(url, {"password": "guess"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        ended = client.post(url, {"password": "guess"})
    assert ended.status_code == 302 and ended.url.startswith(reverse("login"))
    assert client.get(record.get_absolute_url()).status_code == 302  # logged out
    (alert,) = mail.outbox
    assert alert.to == [manager.email] and injector.user.email in alert.body
    assert not Attempt.objects.exists()  # a fresh count after logging in again


def test_a_refusal_for_another_reason_is_not_a_guess(client, record, injector, settings):
    client.force_login(injector.user)
    url = reverse("treatments:record_sign", args=[record.pk])
    for _ in range(settings.SIGN_PASSWORD_GUESSES - 1):
        client.post(url, {"password": "guess"})
    client.post(url, {"password": PASSWORD})  # refused (no lines yet), but not a guess
    assert Attempt.objects.count() == settings.SIGN_PASSWORD_GUESSES - 1
    assert client.get(record.get_absolute_url()).status_code == 200
