"""Vermilion against django-appointment, the Django booking app most like it
on PyPI, on the same workload, in one run.

    python -m bench.peer [rounds]

Each system runs in a worker process of its own (bench/peer_worker.py):
Vermilion in .venv, django-appointment in .venv-peer (it needs Pillow < 13,
Vermilion pins 13; `make bench` builds that venv from requirements-peer.txt),
each against its own database, on PostgreSQL and then on SQLite. Both are
given the same month (bench.peer_worker.WORKLOAD): one practitioner working
09:00-17:00 every day, 30-minute visits, 200 of them booked over 30 days. The
timed operation is "every free time in that month", as each system's booking
page gets it: Vermilion in one call of free_slots(), django-appointment in
one call of get_available_slots_for_staff() per day. The parent asks the two
workers in turn (which goes first alternates each round), so both meet the
same machine; the 1-minute load average is recorded every round.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import PG, RESULTS, ROOT, django_env, machine, psql

PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
SYSTEMS = ("vermilion", "peer")
WARMUP = 3


def _database(system, database):
    if database == "postgres":
        name = f"vermilion_peer_{system}"
        psql(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
        return PG + name
    return f"sqlite:///{Path(tempfile.mkdtemp()) / f'{system}.sqlite3'}"


def _start(system, database):
    url = _database(system, database)
    python = sys.executable if system == "vermilion" else str(PEER_PYTHON)
    env = django_env(url) if system == "vermilion" else {**os.environ, "DATABASE_URL": url}
    worker = subprocess.Popen(
        [python, "-m", "bench.peer_worker", system, url],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = _reply(worker)
    if ready is None:
        raise SystemExit(f"the {system} worker on {database} stopped before it was ready")
    return worker, ready


def _reply(worker):
    """The worker's next JSON line (django-appointment logs to stdout too)."""
    for line in worker.stdout:
        if line.startswith("{"):
            return json.loads(line)
    return None


def _ask(worker):
    worker.stdin.write("go\n")
    worker.stdin.flush()
    return _reply(worker)["ms"]


def _stop(worker, system, database):
    worker.stdin.close()
    worker.wait(timeout=60)
    if database == "postgres":
        psql(f"DROP DATABASE IF EXISTS vermilion_peer_{system}")


def compare(database, rounds):
    workers = {system: _start(system, database) for system in SYSTEMS}
    ready = {system: workers[system][1] for system in SYSTEMS}
    if ready["vermilion"]["slots"] != ready["peer"]["slots"]:
        raise SystemExit(f"the two systems disagree on {database}: {ready}")
    for _ in range(WARMUP):
        for system in SYSTEMS:
            _ask(workers[system][0])
    samples = {system: [] for system in SYSTEMS}
    loads = []
    for n in range(rounds):
        for system in SYSTEMS if n % 2 == 0 else reversed(SYSTEMS):
            samples[system].append(_ask(workers[system][0]))
        loads.append(os.getloadavg()[0])
    for system in SYSTEMS:
        _stop(workers[system][0], system, database)
    result = {"database": database, "load": [min(loads), max(loads)]}
    for system in SYSTEMS:
        deciles = statistics.quantiles(samples[system], n=10)
        result[system] = {
            **ready[system],
            "median": statistics.median(samples[system]),
            "p10": deciles[0],
            "p90": deciles[-1],
        }
    result["ratio"] = result["peer"]["median"] / result["vermilion"]["median"]
    return result


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    if not PEER_PYTHON.exists():
        raise SystemExit("bench.peer needs .venv-peer (make bench builds it)")
    version = subprocess.run(
        [str(PEER_PYTHON), "-m", "pip", "show", "django-appointment"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out = {
        "machine": machine(),
        "rounds": rounds,
        "peer_version": next(
            line.split(":", 1)[1].strip()
            for line in version.splitlines()
            if line.startswith("Version:")
        ),
        "results": [],
    }
    for database in ("postgres", "sqlite"):
        result = compare(database, rounds)
        out["results"].append(result)
        print(json.dumps(result), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "peer.json").write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
