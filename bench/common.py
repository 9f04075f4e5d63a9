"""Shared set-up for the benchmarks: a throw-away database of either kind,
Django configured against it, and timing helpers.

Run through `make bench` (or `python -m bench.<name>`). Each benchmark makes
its own database (`vermilion_bench` on PostgreSQL, a temporary file on
SQLite) so it never touches a real clinic's data.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_URL = "postgres://postgres@127.0.0.1:5432/vermilion_bench"


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
