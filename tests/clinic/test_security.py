"""Login throttling, session expiry, and the security headers."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from clinic.access import client_ip
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client, email, password, ip="198.51.100.7", **extra):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip, **extra
    )


def test_five_failures_lock_that_email_from_that_address(client, front_desk, manager, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, front_desk.email, "wrong").status_code == 200
    assert log_in(client, front_desk.email.upper(), "wrong").status_code == 429  # the 5th
    locked = log_in(client, front_desk.email, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # The same person from elsewhere, and someone else from here, are not locked.
    assert log_in(client, front_desk.email, PASSWORD, ip="198.51.100.8").status_code == 302
    client.post(reverse("logout"))
    assert log_in(client, manager.email, PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, front_desk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, front_desk.email, "wrong")
    assert log_in(client, front_desk.email, PASSWORD).status_code == 429
    # Let the cool-off pass: the failures become older than it.
    earlier = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    AccessAttempt.objects.update(attempt_time=earlier)
    assert log_in(client, front_desk.email, PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, front_desk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, front_desk.email, "wrong")
    assert log_in(client, front_desk.email, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, front_desk.email, "wrong")
    assert log_in(client, front_desk.email, PASSWORD).status_code == 302


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, front_desk, settings):
    settings.BEHIND_PROXY = True
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5"
    )
    assert client_ip(request) == "203.0.113.5"  # the client cannot choose it
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(
            client,
            front_desk.email,
            "wrong",
            ip="10.0.0.2",
            HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5",
        )
    blocked = log_in(
        client,
        front_desk.email,
        PASSWORD,
        ip="10.0.0.2",
        HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5",
    )
    assert blocked.status_code == 429
    other = log_in(
        client, front_desk.email, PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.99"
    )
    assert other.status_code == 302


def test_without_a_proxy_forwarded_headers_are_ignored(settings):
    settings.BEHIND_PROXY = False
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "198.51.100.7"


def idle(client, minutes):
    session = client.session
    session["last_seen"] = int(time.time()) - minutes * 60
    session.save()


def test_staff_sessions_end_after_idle_time(client, front_desk, settings):
    client.force_login(front_desk)
    assert client.get(reverse("desk_home")).status_code == 200
    idle(client, settings.STAFF_IDLE_MINUTES - 1)
    assert client.get(reverse("desk_home")).status_code == 200
    idle(client, settings.STAFF_IDLE_MINUTES + 1)
    response = client.get(reverse("desk_home"))
    assert response.status_code == 302 and "idle=1" in response.url
    assert client.get(reverse("desk_home")).status_code == 302  # really logged out
    assert "without activity" in client.get(response.url).content.decode()


def test_patients_get_a_longer_idle_time(client, patient_a, settings):
    client.force_login(patient_a.user)
    idle(client, settings.STAFF_IDLE_MINUTES + 1)
    assert client.get(reverse("portal_home")).status_code == 200
    idle(client, settings.PATIENT_IDLE_MINUTES + 1)
    assert client.get(reverse("portal_home")).status_code == 302


def test_logout_ends_the_session_on_the_server(client, front_desk):
    log_in(client, front_desk.email, PASSWORD)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()


def test_a_disabled_account_loses_its_sessions(client, front_desk):
    log_in(client, front_desk.email, PASSWORD)
    assert client.get(reverse("desk_home")).status_code == 200
    front_desk.is_active = False
    front_desk.save()
    assert client.get(reverse("desk_home")).status_code == 302
    assert log_in(client, front_desk.email, PASSWORD).status_code == 200


def test_a_new_password_ends_sessions_elsewhere(client, front_desk):
    log_in(client, front_desk.email, PASSWORD)
    front_desk.set_password("a brand new long passphrase")
    front_desk.save()
    assert client.get(reverse("desk_home")).status_code == 302


def test_every_page_has_a_strict_content_security_policy(client, front_desk):
    client.force_login(front_desk)
    response = client.get(reverse("desk_home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.content.decode()  # no inline script


def test_no_template_has_inline_script_or_style():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    for path in root.rglob("*.html"):
        if path.parts[-2] == "emails":
            continue  # email clients need inline styles; emails are not served pages
        text = path.read_text()
        assert "<script>" not in text and "style=" not in text and "onclick" not in text, path


def test_creating_a_patient_never_redirects_to_another_site(client, front_desk):
    client.force_login(front_desk)
    data = {
        "first_name": "Nora",
        "last_name": "Next",
        "date_of_birth": "1990-01-02",
        "phone": "07700 900999",
    }
    for target in ("https://evil.example/", "//evil.example/", "https:/\\evil.example"):
        response = client.post(reverse("patients:create") + f"?next={target}", data)
        assert response.status_code == 302
        assert "evil" not in response.url
        data["phone"] = data["phone"][:-1] + str(int(data["phone"][-1]) - 1)
        data["first_name"] += "a"
    inside = client.post(reverse("patients:create") + "?next=/book/", data)
    assert inside.url == "/book/"


@pytest.mark.parametrize("persona", ["practitioner", "patient"])
def test_pages_with_health_data_are_never_cached(client, persona, practitioner, patient_a):
    from tests.helpers import history

    shown = history(patient_a)
    if persona == "practitioner":
        client.force_login(practitioner.user)
        url = reverse("patients:history_version", args=[patient_a.pk, shown.pk])
    else:
        client.force_login(patient_a.user)
        url = reverse("portal_history")
    response = client.get(url)
    assert response.status_code == 200
    cache = response["Cache-Control"]
    assert "no-store" in cache and "private" in cache


def test_an_email_typed_with_capitals_logs_in(client, front_desk):
    response = log_in(client, front_desk.email.title(), PASSWORD)
    assert response.status_code == 302 and "_auth_user_id" in client.session


def reset_link(client, email, ip="198.51.100.7"):
    mail.outbox.clear()
    client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)
    return re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)


def test_a_password_reset_lifts_the_lockout_as_the_page_promises(client, front_desk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, front_desk.email, "wrong")
    locked = log_in(client, front_desk.email, PASSWORD)
    assert locked.status_code == 429 and "Reset my password" in locked.content.decode()
    form = client.get(reset_link(client, front_desk.email), follow=True)
    new = "a completely new passphrase"
    done = client.post(form.wsgi_request.path, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert log_in(client, front_desk.email, new).status_code == 302


def test_password_reset_requests_are_throttled(client, front_desk, manager, settings):
    for _ in range(settings.PASSWORD_RESETS_PER_HOUR):
        reset_link(client, front_desk.email)
    mail.outbox.clear()
    response = client.post(reverse("password_reset"), {"email": front_desk.email})
    assert response.status_code == 302  # the same answer as ever...
    assert mail.outbox == []  # ...but nothing sent
    assert reset_link(client, manager.email)  # another account from here still gets its link
