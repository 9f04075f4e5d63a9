"""The import contracts in pyproject.toml hold, cover every module, and would
catch an upward import."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]
APPS = ("clinic", "bookings", "treatments")
# Packages whose __init__ only gathers modules of different layers (Django
# loads `treatments.models` whole; callers below the records import
# `treatments.models.catalog`). A chain through them still counts.
GATHERERS = {
    "clinic",
    "bookings",
    "treatments",
    "treatments.models",
    "treatments.services",
    "clinic.management",
    "clinic.management.commands",
}


def lint(*args):
    return subprocess.run(
        [*LINT, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )


def layers():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [
        c for c in config["tool"]["importlinter"]["contracts"] if c.get("id") == "layers"
    ]
    return [[name.strip() for name in layer.split(":")] for layer in contract["layers"]]


def modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_contracts_are_kept():
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_module_is_in_a_layer():
    declared = [name for layer in layers() for name in layer]
    assert len(declared) == len(set(declared)), "a module is in two layers"

    def placed(module):
        return any(module == name or module.startswith(name + ".") for name in declared)

    missing = sorted(m for m in modules() if m not in GATHERERS and not placed(m))
    assert missing == [], "put these modules in a layer (pyproject.toml, docs/ARCHITECTURE.md)"
    gone = sorted(name for name in declared if name not in set(modules()))
    assert gone == [], "these layer entries name modules that no longer exist"


def test_an_upward_import_breaks_the_build():
    """The base layer reaching up to bookings: the real contract refuses it."""
    probe = ROOT / "clinic" / "models" / "upward_probe.py"
    probe.write_text('"""Reaches for a booking: not allowed."""\n\nimport bookings.models\n')
    try:
        result = lint()
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert "clinic.models is not allowed to import bookings" in result.stdout
    assert "clinic.models.upward_probe -> bookings.models" in result.stdout
