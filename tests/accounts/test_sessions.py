"""Sessions: recorded at login, ended for good (issue 14)."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import UserSession
from clinic.accounts.services import sessions_end
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_disabling_an_account_ends_its_sessions_for_good(client, front_desk):
    log_in(client, front_desk)
    assert client.get(reverse("desk_home")).status_code == 200
    front_desk.is_active = False
    front_desk.save()
    front_desk.is_active = True  # switched back on: the old cookie stays dead
    front_desk.save()
    assert client.get(reverse("desk_home")).status_code == 302
    assert not UserSession.objects.filter(user=front_desk).exists()


def test_a_login_is_recorded_and_a_logout_forgets_it(client, front_desk):
    log_in(client, front_desk)
    key = client.session.session_key
    assert UserSession.objects.get(session_key=key).user == front_desk
    client.post(reverse("logout"))
    assert not UserSession.objects.filter(session_key=key).exists()


def test_ending_sessions_keeps_the_callers_own(front_desk):
    mine, other = log_in(Client(), front_desk), log_in(Client(), front_desk)
    assert sessions_end(user=front_desk, keep=mine.session.session_key) == 1
    assert mine.get(reverse("desk_home")).status_code == 200
    assert other.get(reverse("desk_home")).status_code == 302
    assert Session.objects.count() == 1


def test_a_session_kept_through_a_password_change_can_still_be_ended(client, front_desk):
    log_in(client, front_desk)
    new = "another long passphrase"
    changed = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert changed.status_code == 302
    assert client.get(reverse("desk_home")).status_code == 200  # still logged in
    front_desk.refresh_from_db()
    front_desk.is_active = False
    front_desk.save()
    front_desk.is_active = True
    front_desk.save()
    assert client.get(reverse("desk_home")).status_code == 302
