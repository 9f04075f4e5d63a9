"""Logins at opening time: what the password hash costs (issue 20).

    python -m bench.logins [rounds]

Times checking one password with Django's default hasher (PBKDF2-SHA256,
Django 6's iterations) and with Vermilion's (Argon2id at the settings' cost,
clinic/hashers.py), one at a time and then twenty at once: twenty checks
handed together to as many worker processes as the load run's gunicorn has
(two per core), each check's time counted from the moment all twenty were
handed over, as twenty staff pressing "Log in" at nine would wait. The two
hashers alternate round by round so machine load falls on both alike. No
database is touched. Prints one JSON line; bench/report.py writes it into
docs/BENCHMARKS.md.
"""

import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from bench.common import RESULTS, django_env, machine

AT_ONCE = 20
HASHERS = {
    "PBKDF2 (Django's default)": "pbkdf2_sha256",
    "Argon2id (Vermilion)": "argon2",
}


def _setup():
    os.environ.update(django_env("sqlite:////tmp/vermilion-bench-logins-unused.sqlite3"))
    import django

    django.setup()


def _check(encoded):
    from django.contrib.auth.hashers import check_password

    started = time.perf_counter()
    assert check_password("opening time at the clinic", encoded)
    return time.perf_counter() - started


def _encoded(algorithm):
    from django.contrib.auth.hashers import make_password

    return make_password("opening time at the clinic", hasher=algorithm)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    _setup()
    from django.conf import settings

    encoded = {label: _encoded(algorithm) for label, algorithm in HASHERS.items()}
    workers = 2 * (os.cpu_count() or 1)
    alone = {label: [] for label in HASHERS}
    together = {label: [] for label in HASHERS}
    loads = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_setup) as pool:
        list(pool.map(_check, [encoded[label] for label in HASHERS] * workers))  # warm
        for _ in range(rounds):
            loads.append(os.getloadavg()[0])
            for label in HASHERS:
                alone[label] += [_check(encoded[label]) * 1000 for _ in range(3)]
                handed = time.perf_counter()
                futures = [pool.submit(_check, encoded[label]) for _ in range(AT_ONCE)]
                waits = []
                for future in futures:
                    future.result()
                    waits.append((time.perf_counter() - handed) * 1000)
                together[label].append(waits)
    rows = []
    for label in HASHERS:
        waits = [wait for run in together[label] for wait in run]
        rows.append(
            {
                "hasher": label,
                "alone_ms": statistics.median(alone[label]),
                "at_once_median_ms": statistics.median(waits),
                "at_once_slowest_ms": statistics.median(max(run) for run in together[label]),
            }
        )
    result = {
        "rounds": rounds,
        "at_once": AT_ONCE,
        "workers": workers,
        "argon2": {"memory_kib": settings.ARGON2_MEMORY_KIB, "passes": settings.ARGON2_TIME_COST},
        "machine": machine(),
        "load": [min(loads), max(loads)],
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "logins.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
