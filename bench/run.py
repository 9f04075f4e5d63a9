"""`make bench`: every benchmark in turn, then docs/BENCHMARKS.md rewritten
with the figures (bench/report.py). Prints how long each step took.

    python -m bench.run [--quick]

--quick: fewer repeats and a shorter load run, to check the scripts work.
"""

import json
import subprocess
import sys
import time

from bench.common import RESULTS, ROOT


def step(label, args, timings):
    print(f"== {label}", flush=True)
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True
    )
    timings[label] = time.perf_counter() - started
    print(process.stdout, end="", flush=True)
    print(f"   ({timings[label]:.0f} s)", flush=True)
    return [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]


def main():
    quick = "--quick" in sys.argv
    started = time.perf_counter()
    timings, results = {}, {}
    repeat = "10" if quick else "60"
    # Pages first: the availability runs write and drop whole databases, and
    # PostgreSQL's checkpoints after them would land in the page timings.
    for size in ("1x", "100x"):
        step(f"pages at {size}", ["bench.pages", size, repeat], timings)
    load_args = ["20", "15"] if quick else ["20", "60"]
    step("load", ["bench.load", *load_args], timings)
    results["availability"] = {
        database: step(f"availability on {database}", ["bench.availability", database], timings)
        for database in ("postgres", "sqlite")
    }
    step("django-appointment", ["bench.peer", "10" if quick else "30"], timings)
    step("logins", ["bench.logins", "2" if quick else "5"], timings)
    timings["total"] = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "availability.json").write_text(json.dumps(results["availability"], indent=1))
    (RESULTS / "timings.json").write_text(json.dumps(timings, indent=1))
    from bench import report

    problems = report.main()
    print(f"== make bench took {timings['total'] / 60:.1f} minutes")
    if problems:
        print("Targets missed:\n  " + "\n  ".join(problems))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
