"""The import contracts in pyproject.toml hold, and would catch an upward import."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]


def lint(*args):
    return subprocess.run(
        [*LINT, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )


def test_the_contracts_are_kept():
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_build(tmp_path):
    probe = ROOT / "treatments" / "safety" / "upward_probe.py"
    config = tmp_path / "contracts.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    clinic\n    bookings\n    treatments\n\n"
        "[importlinter:contract:probe]\nname = probe\ntype = forbidden\n"
        "source_modules = treatments.safety.upward_probe\nforbidden_modules = bookings\n"
    )
    probe.write_text('"""Reaches for a booking: not allowed."""\n\nimport bookings.models\n')
    try:
        result = lint("--config", str(config))
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
