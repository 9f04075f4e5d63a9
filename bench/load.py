"""Load: gunicorn on 127.0.0.1 against the 100x PostgreSQL database, a
bounded headless locust run of front-desk traffic (bench/locustfile.py), then
a query proving no two active appointments overlap.

    python -m bench.load [users] [seconds]

Production settings (DEBUG off, static files collected and served by
WhiteNoise), gunicorn's sync workers, two per core. Locust runs on the same
two-core machine, so the figures include its own CPU use.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import (
    RESULTS,
    ROOT,
    django_env,
    drop_database,
    machine,
    psql,
    scale_database,
    working_copy,
)
from bench.pages import SIZES

PORT = 8765
# Active appointments that start before an earlier one (of the same
# practitioner, or patient) has ended: in time order, each must start at or
# after the latest end so far. Exact, assumes nothing, one sort of the table.
OVERLAPS = """
SELECT count(*) FROM (
  SELECT starts_at, max(blocked_until) OVER (
    PARTITION BY {who} ORDER BY starts_at, id
    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
  ) AS busy_until
  FROM bookings_appointment
  WHERE status IN ('booked', 'checked_in', 'completed')
) AS ordered
WHERE starts_at < busy_until
"""


def wait_until_up(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # nosec B310: local URL
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer at {url}")


def read_stats(prefix):
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            if not int(row["Request Count"]):  # the logins, after the reset
                continue
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "median": float(row["Median Response Time"]),
                "p95": float(row["95%"]),
                "p99": float(row["99%"]),
                "rps": float(row["Requests/s"]),
            }
    return rows


def main():
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    scale_database("vermilion_scale_100x", **SIZES["100x"])
    url, name = working_copy("vermilion_scale_100x")
    env = django_env(url)
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--no-input", "-v0"], env=env, cwd=ROOT, check=True
    )
    first, last = psql("SELECT min(id) || '-' || max(id) FROM clinic_patient", database=name).split(
        "-"
    )
    procedure = psql("SELECT id FROM treatments_procedure WHERE code = 'lip-flip'", database=name)
    before = int(psql("SELECT count(*) FROM bookings_appointment", database=name))
    workers = 2 * (os.cpu_count() or 1)
    server = subprocess.Popen(
        [
            str(Path(python).with_name("gunicorn")),
            "clinic.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    prefix = RESULTS / "load"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load-extra.json").unlink(missing_ok=True)
    try:
        wait_until_up(f"http://127.0.0.1:{PORT}/accounts/login/")
        locust = subprocess.run(
            [
                str(Path(python).with_name("locust")),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(users),
                "--run-time",
                f"{seconds}s",
                "--host",
                f"http://127.0.0.1:{PORT}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env={
                **os.environ,
                "VERMILION_LOGIN": "frontdesk@scale.test",
                "VERMILION_PASSWORD": "vermilion-demo",
                "VERMILION_PATIENTS": f"{first}-{last}",
                "VERMILION_PROCEDURE": procedure,
                "VERMILION_SURNAMES": "smith,patel,okafor,nguyen,o'brien,ng,ahmed,rossi",
                "VERMILION_EXTRA_STATS": str(RESULTS / "load-extra.json"),
            },
            capture_output=True,
            text=True,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    stats = read_stats(prefix)
    overlaps = {
        who: int(psql(OVERLAPS.format(who=who), database=name))
        for who in ("practitioner_id", "patient_id")
    }
    after = int(psql("SELECT count(*) FROM bookings_appointment", database=name))
    drop_database(name)
    total = stats.get("Aggregated", {})
    result = {
        "machine": machine(),
        "users": users,
        "seconds": seconds,
        "workers": workers,
        "locust_exit": locust.returncode,
        "requests": stats,
        "errors": total.get("failures", 0),
        **json.loads((RESULTS / "load-extra.json").read_text()),
        "booked": after - before,
        "overlaps": overlaps,
    }
    (RESULTS / "load.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "requests"}))
    print(json.dumps(total))
    if locust.returncode not in (0, 1):  # 1 means "some requests failed", reported above
        print(locust.stderr[-3000:], file=sys.stderr)
        raise SystemExit("locust did not run to the end")
    return result


if __name__ == "__main__":
    main()
