"""Two-factor login with django-otp: enrolment, login with a code or a
recovery code, who must use it, and what managers can do (issue 14)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import TwoFactorPolicy, UserSession
from clinic.accounts.rules import SecondFactor, second_factor_required, second_factor_step
from tests.factories import PASSWORD
from tests.two_factor import code_for, enrol, verified_login

pytestmark = pytest.mark.django_db


def log_in(client, user, password=PASSWORD):
    return client.post(reverse("login"), {"username": user.email, "password": password})


# The rules


@pytest.mark.parametrize(
    ("staff_member", "marked", "all_staff", "admin", "required"),
    [
        (True, False, False, False, False),
        (True, True, False, False, True),
        (True, False, True, False, True),
        (False, False, True, False, False),  # a patient: never required, may opt in
        (False, False, False, True, True),  # the admin: always
    ],
)
def test_who_must_use_a_second_factor(staff_member, marked, all_staff, admin, required):
    assert (
        second_factor_required(
            staff_member=staff_member, marked=marked, all_staff=all_staff, admin=admin
        )
        is required
    )


@pytest.mark.parametrize(
    ("required", "enrolled", "verified", "step"),
    [
        (False, False, False, SecondFactor.NONE),
        (True, False, False, SecondFactor.ENROL),
        (False, True, False, SecondFactor.VERIFY),  # opted in: always asked
        (True, True, False, SecondFactor.VERIFY),
        (True, True, True, SecondFactor.NONE),
    ],
)
def test_what_a_login_asks_next(required, enrolled, verified, step):
    assert second_factor_step(required=required, enrolled=enrolled, verified=verified) == step


# Enrolment and login


def test_a_marked_member_of_staff_sets_up_an_app_then_logs_in_with_a_code(
    client, front_desk, manager
):
    manager_client = Client()
    verified_login(manager_client, manager)
    manager_client.post(reverse("accounts:staff_mark", args=[front_desk.pk]), {"required": "on"})

    assert log_in(client, front_desk).status_code == 302
    sent = client.get(reverse("desk_home"))
    assert sent.url.startswith(reverse("accounts:setup"))
    page = client.get(sent.url)
    assert "<svg" in page.content.decode() and "otpauth" not in page.content.decode()
    device = TOTPDevice.objects.get(user=front_desk, confirmed=False)
    assert client.post(sent.url, {"token": "000000"}).status_code == 200  # wrong: asked again
    done = client.post(sent.url, {"token": code_for(device)})
    codes_page = client.get(done.url)
    codes = re.findall(r'<li class="col">(\w+)</li>', codes_page.content.decode())
    assert len(codes) == 10
    assert client.get(reverse("desk_home")).status_code == 200
    assert client.get(reverse("accounts:codes")).status_code == 302  # shown once only

    client.post(reverse("logout"))
    log_in(client, front_desk)
    asked = client.get(reverse("desk_home"))
    assert asked.url.startswith(reverse("accounts:verify"))
    wrong = client.post(asked.url, {"token": "123456"})
    assert "not right" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp slows guesses down; not the point here
    device.save()
    right = client.post(asked.url, {"token": code_for(device, offset=1)})
    assert right.url == reverse("desk_home")
    assert client.get(reverse("desk_home")).status_code == 200


def test_wrong_codes_make_the_next_try_wait(client, front_desk):
    device = enrol(front_desk)
    log_in(client, front_desk)
    verify = client.get(reverse("desk_home")).url
    client.post(verify, {"token": "000000"})
    client.post(verify, {"token": "111111"})
    waited = client.post(verify, {"token": code_for(device)})  # right, but too soon
    assert "wait a minute" in waited.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=5)
    )
    assert client.post(verify, {"token": code_for(device)}).status_code == 302


def test_a_recovery_code_works_once(client, patient_user):
    enrol(patient_user)
    from clinic.accounts.services import recovery_codes_renew

    codes = recovery_codes_renew(user=patient_user)
    log_in(client, patient_user)
    verify = client.get(reverse("portal_home")).url
    assert client.post(verify, {"token": codes[0]}).status_code == 302
    client.post(reverse("logout"))
    log_in(client, patient_user)
    again = client.post(verify, {"token": codes[0]})
    assert again.status_code == 200  # used up


def test_patients_may_opt_in_and_are_then_always_asked(client, patient_user):
    assert log_in(client, patient_user).status_code == 302
    assert client.get(reverse("portal_home")).status_code == 200  # not required
    client.get(reverse("accounts:setup"))
    device = TOTPDevice.objects.get(user=patient_user)
    client.post(reverse("accounts:setup"), {"token": code_for(device)})
    client.post(reverse("logout"))
    log_in(client, patient_user)
    assert client.get(reverse("portal_home")).url.startswith(reverse("accounts:verify"))


def test_a_password_alone_cannot_replace_the_app(client, front_desk):
    old = enrol(front_desk)
    log_in(client, front_desk)
    setup = client.get(reverse("accounts:setup"))
    assert setup.url.startswith(reverse("accounts:verify"))
    assert client.post(reverse("accounts:setup"), {"token": "123456"}).status_code == 302
    assert list(TOTPDevice.objects.filter(user=front_desk)) == [old]


def test_a_password_alone_cannot_change_the_second_factor(client, front_desk):
    from clinic.accounts.services import recovery_codes_renew

    enrol(front_desk)
    codes = recovery_codes_renew(user=front_desk)
    log_in(client, front_desk)
    for name in ("accounts:new_codes", "accounts:off"):
        response = client.post(reverse(name))
        assert response.url.startswith(reverse("accounts:verify")), name
    assert TOTPDevice.objects.filter(user=front_desk).exists()
    verify = client.get(reverse("accounts:security")).url
    assert client.post(verify, {"token": codes[0]}).status_code == 302  # the old codes stand


def test_the_admin_needs_a_second_factor(client, manager):
    client.force_login(manager)
    assert client.get(reverse("manager_home")).status_code == 200  # the clinic pages do not
    assert client.get(reverse("admin:index")).url.startswith(reverse("accounts:setup"))
    verified_login(client, manager)
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_manager_can_require_it_for_all_staff(client, manager, front_desk, practitioner):
    desk = Client()
    desk.force_login(front_desk)
    enrolled = Client()
    verified_login(enrolled, practitioner.user)
    verified_login(client, manager)
    client.post(reverse("accounts:staff_policy"), {"all_staff": "on"})
    assert TwoFactorPolicy.current().all_staff
    # Staff without an app are logged out, to set one up at their next login.
    assert desk.get(reverse("desk_home")).url.startswith(reverse("login"))
    assert enrolled.get(reverse("practitioner_home")).status_code == 200
    log_in(desk, front_desk)
    assert desk.get(reverse("desk_home")).url.startswith(reverse("accounts:setup"))
    assert client.get(reverse("manager_home")).status_code == 200  # the manager's own session


def test_required_two_factor_cannot_be_switched_off(client, front_desk, manager):
    from clinic.accounts.services import two_factor_mark

    two_factor_mark(user=front_desk, by=manager, required=True)
    verified_login(client, front_desk)
    response = client.post(reverse("accounts:off"), follow=True)
    assert "cannot be switched off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=front_desk).exists()


# Sessions


def test_users_see_their_sessions_and_end_the_others(front_desk):
    mine, other = Client(), Client()
    log_in(mine, front_desk)
    log_in(other, front_desk, PASSWORD)
    page = mine.get(reverse("accounts:security"))
    assert page.content.decode().count("<tr>") == 3  # header + two sessions
    assert "This browser" in page.content.decode()
    mine.post(reverse("accounts:sessions_end"))
    assert other.get(reverse("desk_home")).status_code == 302
    assert mine.get(reverse("desk_home")).status_code == 200
    assert UserSession.objects.filter(user=front_desk).count() == 1


def test_a_manager_ends_a_staff_members_sessions(client, manager, front_desk, patient_user):
    desk = Client()
    desk.force_login(front_desk)
    verified_login(client, manager)
    client.post(reverse("accounts:staff_sessions_end", args=[front_desk.pk]))
    assert desk.get(reverse("desk_home")).status_code == 302
    # Patients are not staff: not on this page, and not reachable through it.
    response = client.post(reverse("accounts:staff_sessions_end", args=[patient_user.pk]))
    assert response.status_code == 404


def test_managers_are_emailed_when_an_account_locks_out(
    client, front_desk, manager, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            log_in(client, front_desk, "wrong")
    (alert,) = mail.outbox
    assert alert.to == [manager.email] and front_desk.email in alert.body
