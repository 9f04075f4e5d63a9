"""Passwords are hashed with Argon2id at a cost within OWASP's guidance (issue 20).

The test settings swap in a fast hasher for speed; these tests put the real
list back.
"""

import pytest
from argon2 import extract_parameters
from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

from clinic import settings as real_settings
from clinic.env import OWASP_ARGON2ID, envargon2
from tests.factories import PASSWORD

REAL = override_settings(PASSWORD_HASHERS=real_settings.PASSWORD_HASHERS)


def test_the_production_list_puts_argon2id_first():
    assert real_settings.PASSWORD_HASHERS[0] == "clinic.hashers.ClinicArgon2PasswordHasher"


@REAL
def test_a_new_password_is_argon2id_at_the_configured_cost():
    encoded = make_password("a long passphrase")
    assert encoded.startswith("argon2$argon2id$")
    parameters = extract_parameters("$" + encoded.split("$", 1)[1])
    assert parameters.memory_cost == settings.ARGON2_MEMORY_KIB == 19456
    assert parameters.time_cost == settings.ARGON2_TIME_COST == 2
    assert parameters.parallelism == 1
    assert check_password("a long passphrase", encoded)
    assert not check_password("a wrong passphrase", encoded)


@REAL
def test_the_cost_is_a_setting():
    with override_settings(ARGON2_MEMORY_KIB=47104, ARGON2_TIME_COST=1):
        parameters = extract_parameters("$" + make_password("x" * 12).split("$", 1)[1])
    assert (parameters.memory_cost, parameters.time_cost) == (47104, 1)


@REAL
def test_a_hash_at_another_cost_is_due_for_rewriting():
    with override_settings(ARGON2_MEMORY_KIB=12288, ARGON2_TIME_COST=3):
        old = make_password("x" * 12)
    assert identify_hasher(old).must_update(old)
    assert not identify_hasher(make_password("x" * 12)).must_update(make_password("x" * 12))


@pytest.mark.django_db
@REAL
def test_an_old_pbkdf2_password_still_logs_in_and_is_rewritten_as_argon2id(client, front_desk):
    front_desk.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    front_desk.save(update_fields=["password"])
    response = client.post(reverse("login"), {"username": front_desk.email, "password": PASSWORD})
    assert response.status_code == 302
    front_desk.refresh_from_db()
    assert front_desk.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize(("memory", "passes"), OWASP_ARGON2ID)
def test_each_owasp_configuration_is_accepted(memory, passes):
    env = {"ARGON2_MEMORY_KIB": str(memory), "ARGON2_TIME_COST": str(passes)}
    assert envargon2(env) == (memory, passes)


@pytest.mark.parametrize(
    ("memory", "passes"),
    [(47103, 1), (19455, 2), (9216, 3), (7167, 5), (65536, 0)],
)
def test_a_cost_below_owasp_is_refused_saying_what_to_use(memory, passes):
    env = {"ARGON2_MEMORY_KIB": str(memory), "ARGON2_TIME_COST": str(passes)}
    with pytest.raises(ImproperlyConfigured) as refused:
        envargon2(env)
    assert "19456 KiB with 2" in str(refused.value) or "at least" in str(refused.value)


def test_the_default_is_owasps_19_mib_two_passes():
    assert envargon2({}) == (19456, 2)
