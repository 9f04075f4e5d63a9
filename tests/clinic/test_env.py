import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import envbool, envchoice, envdatabase, envint, envlist, envzone

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        (" on ", True),
        ("0", False),
        ("off", False),
        ("", False),
    ],
)
def test_envbool_reads_the_usual_words(raw, expected):
    assert envbool("DEBUG", None, environ={"DEBUG": raw}) is expected


def test_envbool_default_when_unset():
    assert envbool("DEBUG", True, environ={}) is True


def test_envbool_refuses_anything_else_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG='maybe' is not a yes/no value"):
        envbool("DEBUG", False, environ={"DEBUG": "maybe"})


def test_envint_parses_and_checks_bounds():
    assert envint("PORT", 1, environ={"PORT": " 25 "}) == 25
    assert envint("PORT", 7, environ={}) == 7
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT='twenty' is not a whole number"):
        envint("EMAIL_PORT", 587, environ={"EMAIL_PORT": "twenty"})
    with pytest.raises(ImproperlyConfigured, match="use at least 1"):
        envint("EMAIL_PORT", 587, minimum=1, environ={"EMAIL_PORT": "0"})
    with pytest.raises(ImproperlyConfigured, match="use at most 10"):
        envint("X", 1, maximum=10, environ={"X": "11"})


def test_envlist_splits_on_commas_and_drops_blanks():
    assert envlist("HOSTS", ["a"], environ={"HOSTS": "a.test, b.test,,"}) == ["a.test", "b.test"]
    assert envlist("HOSTS", ["a"], environ={}) == ["a"]


def test_envzone_accepts_iana_names_and_refuses_others():
    assert envzone("TZ", "UTC", environ={"TZ": "America/New_York"}) == "America/New_York"
    with pytest.raises(ImproperlyConfigured, match="not a time zone"):
        envzone("CLINIC_TIME_ZONE", "UTC", environ={"CLINIC_TIME_ZONE": "Mars/Olympus"})
    with pytest.raises(ImproperlyConfigured, match="not a time zone"):
        envzone("CLINIC_TIME_ZONE", "UTC", environ={"CLINIC_TIME_ZONE": "../etc/passwd"})


def test_envchoice():
    assert envchoice("LOG_LEVEL", "INFO", ("INFO", "DEBUG"), environ={}) == "INFO"
    with pytest.raises(ImproperlyConfigured, match="LOG_LEVEL='LOUD' is not one of: INFO, DEBUG"):
        envchoice("LOG_LEVEL", "INFO", ("INFO", "DEBUG"), environ={"LOG_LEVEL": "LOUD"})


def test_sqlite_url_queues_writers_with_immediate_transactions():
    config = envdatabase("DATABASE_URL", "sqlite:///x.sqlite3", environ={})
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "x.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["OPTIONS"]["timeout"] >= 5


def test_postgres_url():
    config = envdatabase(
        "DATABASE_URL", "", environ={"DATABASE_URL": "postgres://u:p@db.test:5433/vermilion"}
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.test",
        5433,
        "vermilion",
        "u",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/x", "must start with postgres:// or sqlite:///"),
        ("localhost:5432", "must start with postgres:// or sqlite:///"),
        ("postgres://postgres@127.0.0.1:5432", "names no database"),
        ("sqlite://", "names no file"),
    ],
)
def test_bad_database_urls_are_refused_clearly(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        envdatabase("DATABASE_URL", "", environ={"DATABASE_URL": url})


def _load_settings(**env):
    """Import the real settings module in a fresh interpreter with `env`."""
    environ = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import clinic.settings as s; print(s.TIME_ZONE, s.DEBUG)"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_settings_require_a_secret_key_when_debug_is_off():
    result = _load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_load_with_a_secret_key_and_default_to_a_dst_zone():
    result = _load_settings(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Europe/London", "False"]


def test_debug_needs_no_secret_key():
    result = _load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_settings_refuse_a_bad_value_at_start_up():
    result = _load_settings(SECRET_KEY="x" * 50, CLINIC_TIME_ZONE="Nowhere/Land")
    assert result.returncode != 0
    assert "CLINIC_TIME_ZONE='Nowhere/Land' is not a time zone" in result.stderr
