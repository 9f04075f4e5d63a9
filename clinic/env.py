"""Read settings from the environment, failing loudly on values we cannot use.

Each helper raises ImproperlyConfigured naming the variable, the bad value and
what is accepted, so a typo in a deployment stops the process at start-up
instead of surfacing later as odd behaviour.
"""

import json
import os
import zoneinfo

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def _raw(name, environ):
    environ = os.environ if environ is None else environ
    return environ.get(name)


def envstr(name, default=None, *, environ=None):
    value = _raw(name, environ)
    return default if value is None else value.strip()


def envbool(name, default, *, environ=None):
    value = _raw(name, environ)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a yes/no value. Use one of: 1, true, yes, on, 0, false, no, off."
    )


def envint(name, default, *, minimum=None, maximum=None, environ=None):
    value = _raw(name, environ)
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a whole number. Set it to a number such as {default}."
        ) from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is too small: use at least {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is too large: use at most {maximum}.")
    return number


def envlist(name, default, *, environ=None):
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def envjson(name, default, *, environ=None):
    """A JSON object (a storage's OPTIONS, say), or `default` when unset."""
    value = _raw(name, environ)
    if value is None or not value.strip():
        return default
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured(
            f'{name} is not a JSON object. Write it as {{"key": "value", ...}}.'
        )
    return parsed


def envchoice(name, default, choices, *, environ=None):
    value = envstr(name, default, environ=environ)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def envzone(name, default, *, environ=None):
    value = envstr(name, default, environ=environ)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a time zone this machine knows. Use an IANA "
            "name such as Europe/London or America/New_York."
        ) from None
    return value


DATABASE_SCHEMES = ("postgres", "postgresql", "sqlite")


def envdatabase(name, default, *, environ=None):
    """Parse DATABASE_URL into a Django DATABASES entry.

    SQLite runs every transaction as BEGIN IMMEDIATE so that two writers queue
    on the database lock (for up to `timeout` seconds) instead of one failing
    with "database is locked" when it upgrades a read to a write.
    """
    url = envstr(name, default, environ=environ)
    scheme = url.split(":", 1)[0].lower()
    if scheme not in DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must start with postgres:// or sqlite:///, not {scheme!r}. "
            "Example: postgres://user:password@127.0.0.1:5432/vermilion"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=0)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} could not be read: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config.get("NAME") in (None, "", ":memory:"):
            raise ImproperlyConfigured(
                f"{name}={url!r} names no file (an in-memory database loses everything "
                "when the server stops). Use sqlite:///relative.sqlite3 or "
                "sqlite:////absolute/path.sqlite3."
            )
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        if not config.get("NAME"):
            raise ImproperlyConfigured(
                f"{name}={url!r} names no database. Add it after the host, e.g. "
                "postgres://postgres@127.0.0.1:5432/vermilion"
            )
        config["CONN_HEALTH_CHECKS"] = True
    return config


# OWASP Password Storage Cheat Sheet, Argon2id: configurations of equal
# strength, (memory in KiB, passes), each with one degree of parallelism.
OWASP_ARGON2ID = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


def envargon2(environ=None):
    """(memory KiB, passes) for Argon2id from ARGON2_MEMORY_KIB / ARGON2_TIME_COST.

    Refuses a pair below every OWASP configuration: at least as much memory as
    one of them with at least as many passes.
    """
    memory = envint("ARGON2_MEMORY_KIB", 19456, minimum=1, environ=environ)
    passes = envint("ARGON2_TIME_COST", 2, minimum=1, maximum=20, environ=environ)
    if not any(memory >= m and passes >= t for m, t in OWASP_ARGON2ID):
        least = ", ".join(f"{m} KiB with {t}" for m, t in OWASP_ARGON2ID)
        raise ImproperlyConfigured(
            f"ARGON2_MEMORY_KIB={memory} with ARGON2_TIME_COST={passes} is weaker than "
            f"OWASP's guidance for Argon2id. Use at least one of: {least} "
            "(the default is 19456 with 2)."
        )
    return memory, passes
