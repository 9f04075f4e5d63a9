"""Shared set-up for the benchmarks: a throw-away database of either kind,
Django configured against it, and timing helpers.

Run through `make bench` (or `python -m bench.<name>`). Each benchmark makes
its own database (`vermilion_bench` on PostgreSQL, a temporary file on
SQLite) so it never touches a real clinic's data.
"""

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432/"
PG_URL = PG + "vermilion_bench"
RESULTS = ROOT / "artifacts" / "bench"
# Seeded data is reused for this many days (its "today" moves on after that).
SEED_MAX_AGE_DAYS = 7


def psql(*commands, database="postgres"):
    """Run SQL as the postgres superuser; return stdout."""
    args = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAt"]
    for command in commands:
        args += ["-c", command]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def django_env(url, **extra):
    """The environment a benchmark runs Django in: production settings
    (DEBUG off), no HTTPS redirect, this database."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "HTTPS": "0",
        "SECRET_KEY": "benchmarks-only-" + "x" * 40,
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        **extra,
    }


def _schema_and_seed_digest():
    """Changes when a migration or the seeding command does."""
    names = sorted(str(path.relative_to(ROOT)) for path in ROOT.glob("*/migrations/[0-9]*.py"))
    names.append("bench/seed_scale.py")
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + (ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


def scale_database(name, **options):
    """A PostgreSQL database `name` filled by `python -m bench.seed_scale` with
    these options, made once and reused while the options, the migrations, the
    seeding command and the seeding date (within SEED_MAX_AGE_DAYS) match; the
    fingerprint
    is kept as the database's comment. Returns (url, seconds spent seeding)."""
    url = PG + name
    wanted = {"options": options, "code": _schema_and_seed_digest()}
    found = psql(
        f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{name}'"
    )
    if found:
        try:
            stored = json.loads(found)
            age = (date.today() - date.fromisoformat(stored.pop("seeded_on"))).days
            if stored == wanted and 0 <= age <= SEED_MAX_AGE_DAYS:
                return url, 0.0
        except (ValueError, KeyError):
            pass
    psql(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    started = time.perf_counter()
    env = django_env(url)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    arguments = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
    seed = [sys.executable, "-m", "bench.seed_scale"]
    subprocess.run([*seed, *arguments], env=env, check=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    comment = json.dumps({**wanted, "seeded_on": date.today().isoformat()})
    psql(f"COMMENT ON DATABASE {name} IS '{comment}'")
    return url, seconds


def working_copy(name):
    """A fresh copy of the seeded database `name` for one benchmark run
    (PostgreSQL copies the files: seconds, not minutes), so what a run writes
    (bookings, audit events, sessions) never drifts into the next run's data.
    Returns (url, copy's name); drop it with drop_database()."""
    copy = f"{name}_run"
    psql(f"DROP DATABASE IF EXISTS {copy}", f"CREATE DATABASE {copy} TEMPLATE {name}")
    return PG + copy, copy


def drop_database(name):
    psql(f"DROP DATABASE IF EXISTS {name}")


def setup_django(database):
    """Point Django at a fresh benchmark database and migrate it.

    database: "postgres" or "sqlite"."""
    sys.path.insert(0, str(ROOT))
    if database == "postgres":
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-q",
                "-c",
                "DROP DATABASE IF EXISTS vermilion_bench",
                "-c",
                "CREATE DATABASE vermilion_bench",
            ],
            check=True,
            capture_output=True,
        )
        os.environ["DATABASE_URL"] = PG_URL
    else:
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("SECRET_KEY", "benchmarks-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn, *, repeat=30, warmup=3):
    """Run fn warmup + repeat times; return (median, p10, p90) in ms and the
    query count of the last run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        fn()
    deciles = statistics.quantiles(samples, n=10)
    return {
        "median": statistics.median(samples),
        "p10": deciles[0],
        "p90": deciles[-1],
        "queries": len(queries.captured_queries),
    }


def machine():
    import platform

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
